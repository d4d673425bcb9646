"""Streaming, validated reading of paired FASTQ files (plain or gzip).

dnaio (cutadapt's parser) does the parsing in C; this module turns every way a pair of files
can be wrong (truncated gzip, not FASTQ, names that do not pair, unequal counts, bad bases or
quality characters) into a `gems.errors.InputError` with a one-line reason, and hands the
reads out in chunks so callers can compute statistics with a few C-level calls per chunk.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import dnaio
from xopen import xopen

from gems.errors import InputError

CHUNK_PAIRS = 8192
# Bases a FASTQ may legitimately hold; anything else means the file is not reads.
_BASES = b"ACGTNacgtn"
# Lowest quality character of Phred+64 data (Solexa allowed down to ';' = -5, still above '+33' Q26).
_PHRED64_MIN = 64


def _open_error(path: Path) -> str | None:
    if not path.exists():
        return f"{path.name}: file not found"
    if path.is_dir():
        return f"{path.name}: is a directory, not a FASTQ file"
    try:
        with open(path, "rb") as fh:
            head = fh.read(2)
    except OSError as exc:
        return f"{path.name}: cannot be read ({exc.strerror})"
    if not head:
        return f"{path.name}: file is empty"
    return None


def _check_readable(path: Path) -> None:
    reason = _open_error(path)
    if reason:
        raise InputError(reason)


@dataclass
class PairChunk:
    """Up to CHUNK_PAIRS read pairs; the raw records plus joined bytes for fast statistics."""

    r1: list[dnaio.SequenceRecord]
    r2: list[dnaio.SequenceRecord]

    def __len__(self) -> int:
        return len(self.r1)


def reader_error(exc: BaseException, r1: Path, r2: Path) -> InputError:
    """Translate a parser or decompressor failure into a one-line reason naming the file."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, EOFError | zlib.error | gzip.BadGzipFile):
        return InputError(f"truncated or corrupt gzip in {r1.name} or {r2.name}: {text}")
    if isinstance(exc, UnicodeDecodeError):
        return InputError(f"{r1.name}/{r2.name}: not FASTQ (non-text bytes)")
    msg = text
    if "improperly paired" in msg:
        return InputError(f"R1/R2 do not pair: {msg.replace('Reads are improperly paired. ', '')}")
    if len(msg) > 200:
        msg = msg[:200] + "..."
    return InputError(f"not valid FASTQ ({r1.name}/{r2.name}): {msg}")


def iter_pair_chunks(
    r1: Path, r2: Path, chunk_pairs: int = CHUNK_PAIRS, opener: Callable | None = None
) -> Iterator[PairChunk]:
    """Yield validated chunks of read pairs; raise InputError on the first problem found.

    `opener` opens each file for dnaio (`workers.genomics.readfeed.ReadFeed.opener` also passes what is read on).
    """
    r1, r2 = Path(r1), Path(r2)
    _check_readable(r1)
    _check_readable(r2)
    n = 0
    try:
        # xopen (dnaio's default opener) decompresses in this thread, as the feed's files do.
        with dnaio.open(r1, r2, fileformat="fastq", mode="r", opener=opener or xopen) as reader:
            a: list = []
            b: list = []
            for rec1, rec2 in reader:
                a.append(rec1)
                b.append(rec2)
                if len(a) == chunk_pairs:
                    n += len(a)
                    yield PairChunk(a, b)
                    a, b = [], []
            if a:
                n += len(a)
                yield PairChunk(a, b)
    except InputError:
        raise
    except (dnaio.FileFormatError, EOFError, zlib.error, OSError, UnicodeDecodeError, ValueError) as exc:
        raise reader_error(exc, r1, r2) from exc
    if n == 0:
        raise InputError(f"{r1.name}/{r2.name}: no reads (empty FASTQ)")


class _Measured(io.RawIOBase):
    """A decompressing reader over a raw file whose position says how far reading has got."""

    def __init__(self, raw: io.BufferedReader):
        self.raw = raw
        self._reader = xopen(raw, "rb", threads=0)  # xopen leaves a file object it is given open

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        return self._reader.readinto(buffer)  # type: ignore[attr-defined]  # xopen's readers have it

    def close(self) -> None:
        self._reader.close()
        self.raw.close()
        super().close()


class ReadProgress:
    """How far through the (compressed) R1 file reading has got: `opener` opens the files for
    `iter_pair_chunks` (R1 first) and keeps R1's raw file to measure."""

    def __init__(self) -> None:
        self._raw: io.BufferedReader | None = None
        self._size = 0

    def opener(self, path, mode: str = "rb") -> io.BufferedReader:
        raw = open(path, "rb")  # noqa: SIM115  # closed by the reader it is wrapped in
        if self._raw is None:
            self._raw, self._size = raw, os.fstat(raw.fileno()).st_size
        return io.BufferedReader(_Measured(raw))

    def fraction(self) -> float:
        if self._raw is None or self._raw.closed or not self._size:
            return 0.0
        return min(1.0, self._raw.tell() / self._size)


def read_pairs(r1: Path, r2: Path, progress: ReadProgress | None = None) -> Iterator[tuple[str, str]]:
    """(R1 sequence, R2 sequence) of each pair, upper-cased; InputError on malformed or unpaired
    input, as `iter_pair_chunks`."""
    opener = progress.opener if progress is not None else None
    for chunk in iter_pair_chunks(r1, r2, opener=opener):
        for a, b in zip(chunk.r1, chunk.r2, strict=True):
            yield a.sequence.upper(), b.sequence.upper()


def check_bases(seqs: bytes, where: str) -> None:
    bad = seqs.translate(None, _BASES)
    if bad:
        raise InputError(f"{where}: invalid base character {chr(bad[0])!r} in a read sequence (not FASTQ?)")


def detect_encoding(min_char: int, max_char: int) -> int:
    """Quality offset (33 or 64) from the lowest and highest quality characters seen."""
    if min_char < 33 or max_char > 126:
        raise InputError(f"quality character {min_char if min_char < 33 else max_char} out of range")
    if min_char >= _PHRED64_MIN and max_char > 74:
        # Nothing below '@' and values past 'J' (Q41 in +33): old Illumina 1.3-1.7 Phred+64.
        return 64
    return 33


def join_bytes(records: list[dnaio.SequenceRecord]) -> tuple[bytes, bytes]:
    """All sequences and all qualities of a chunk, each as one bytes object."""
    seqs = "".join([r.sequence for r in records]).encode("ascii", "replace")
    quals = b"".join([r.qualities_as_bytes() for r in records])
    return seqs, quals
