"""Paired FASTQ reading with the checks that turn bad input into one clear reason."""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from pathlib import Path

from gems.errors import InputError


class ReadProgress:
    """How far through the (compressed) R1 file reading has got."""

    def __init__(self) -> None:
        self.raw: io.BufferedReader | None = None
        self.size = 0

    def fraction(self) -> float:
        if self.raw is None or self.raw.closed or not self.size:
            return 0.0
        return min(1.0, self.raw.tell() / self.size)


def _open(path: Path, progress: ReadProgress | None = None) -> tuple[io.TextIOBase, io.BufferedReader]:
    if not path.is_file():
        raise InputError(f"reads file {path} does not exist")
    raw = path.open("rb")
    magic = raw.peek(2)[:2]
    if progress is not None:
        progress.raw, progress.size = raw, path.stat().st_size
    stream = gzip.GzipFile(fileobj=raw, mode="rb") if magic == b"\x1f\x8b" else raw
    return io.TextIOWrapper(stream, encoding="ascii", errors="strict"), raw


def _pair_name(header: str) -> str:
    name = header[1:].split(None, 1)[0] if len(header) > 1 else ""
    return name[:-2] if name.endswith(("/1", "/2")) else name


def _records(path: Path, progress: ReadProgress | None = None) -> Iterator[tuple[str, str]]:
    label = path.name
    raw = None
    try:
        fh, raw = _open(path, progress)
        with fh:
            n = 0
            while True:
                header = fh.readline()
                if not header:
                    return
                seq = fh.readline().rstrip("\r\n")
                plus = fh.readline()
                qual = fh.readline().rstrip("\r\n")
                n += 1
                if not header.startswith("@"):
                    raise InputError(f"{label}: record {n} does not start with '@' (not FASTQ?)")
                if not plus.startswith("+"):
                    raise InputError(
                        f"{label}: record {n} has no '+' separator line (truncated or not FASTQ)"
                    )
                if len(seq) != len(qual):
                    raise InputError(f"{label}: record {n} has {len(seq)} bases but {len(qual)} qualities")
                yield _pair_name(header.rstrip("\r\n")), seq.upper()
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise InputError(f"{label}: cannot read reads ({type(exc).__name__}: {exc})") from exc
    finally:
        if raw is not None:
            raw.close()


def read_pairs(r1: Path, r2: Path, progress: ReadProgress | None = None) -> Iterator[tuple[str, str]]:
    """Yield (R1 sequence, R2 sequence) for each pair; InputError on malformed or unpaired input."""
    it1, it2 = _records(Path(r1), progress), _records(Path(r2))
    n = 0
    for rec1 in it1:
        rec2 = next(it2, None)
        if rec2 is None:
            raise InputError(f"R1 has more reads than R2 ({n + 1}+ vs {n}): files are not a pair")
        n += 1
        if rec1[0] != rec2[0]:
            raise InputError(
                f"pair {n}: R1 read {rec1[0]!r} and R2 read {rec2[0]!r} differ: files are not in the same order"
            )
        yield rec1[1], rec2[1]
    if next(it2, None) is not None:
        raise InputError(f"R2 has more reads than R1 ({n + 1}+ vs {n}): files are not a pair")
    if n == 0:
        raise InputError(f"no reads in {Path(r1).name}")
