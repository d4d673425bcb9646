"""Paired FASTQ records in large blocks of lines, without an object per read: the split's reader.

Cutting a genome's 400 M pairs into shards needs, of each pair, only where it ends and how many
bases it holds; a record object per read (dnaio, as QC and the single-worker line read) holds
one process to about 90 thousand pairs a second. Here a block of decompressed text is split into
lines by one C call, and a pair's bases are the lengths of its two sequence lines. The records
are checked for shape (header, sequence, '+', quality of the sequence's length) and the files
for pairing by count and by the first pair of every block; everything else (bases, quality
characters, every name) is checked where the shards are read, by QC on the shard workers.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from xopen import xopen

from gems.errors import InputError

BLOCK_BYTES = 8 << 20


def _name(header: bytes) -> bytes:
    name = header[1:].split(None, 1)[0] if len(header) > 1 else b""
    return name[:-2] if name[-2:] in (b"/1", b"/2") else name


class _Lines:
    """Whole records (4 lines each) from one file, a block at a time."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.raw = open(self.path, "rb")  # noqa: SIM115 - closed in close()
        self.size = os.fstat(self.raw.fileno()).st_size
        self.fh = xopen(self.raw, "rb", threads=1)  # decompressed by a thread of its own
        self.rest: list[bytes] = []
        self.eof = False

    def more(self) -> list[bytes]:
        """The next lines, a multiple of four (the ones left of a partial record wait); [] at the end."""
        while not self.eof:
            data = self.fh.read(BLOCK_BYTES)
            if not data:
                self.eof = True
                break
            lines = data.split(b"\n")
            if self.rest:
                lines[0] = self.rest.pop() + lines[0]
                lines[:0] = self.rest
            tail = lines.pop()  # after the last newline: a partial line, or b""
            whole = len(lines) - len(lines) % 4
            self.rest = [*lines[whole:], tail]
            if whole:
                return lines[:whole]
        rest = [ln for ln in self.rest if ln] if self.eof else []
        self.rest = []
        if rest:
            raise InputError(f"{self.path.name}: ends inside a FASTQ record (truncated file?)")
        return []

    def fraction(self) -> float:
        return min(1.0, self.raw.tell() / self.size) if self.size else 0.0

    def close(self) -> None:
        self.fh.close()
        self.raw.close()


def _check_shape(lines: list[bytes], path: Path) -> None:
    heads, plus, seqs, quals = lines[0::4], lines[2::4], lines[1::4], lines[3::4]
    if not all(h[:1] == b"@" for h in heads) or not all(p[:1] == b"+" for p in plus):
        raise InputError(
            f"not valid FASTQ ({path.name}): a record does not start with '@' or lacks its '+' line"
        )
    if list(map(len, seqs)) != list(map(len, quals)):
        raise InputError(f"not valid FASTQ ({path.name}): a quality line is not as long as its sequence")


class PairBlocks:
    """Blocks of pairs: (R1 lines, R2 lines, bases of each pair) with as many records each."""

    def __init__(self, r1: Path, r2: Path):
        for path in (r1, r2):
            if not Path(path).is_file():
                raise InputError(f"{Path(path).name}: file not found")
        self.files = (_Lines(r1), _Lines(r2))
        self.queue: tuple[list[bytes], list[bytes]] = ([], [])

    def fraction(self) -> float:
        """How far through the compressed R1 reading has got (the decompressor reads ahead a little)."""
        return self.files[0].fraction()

    def __iter__(self) -> Iterator[tuple[list[bytes], list[bytes], np.ndarray]]:
        try:
            yield from self._blocks()
        except (EOFError, zlib.error, OSError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            names = f"{self.files[0].path.name} or {self.files[1].path.name}"
            raise InputError(f"truncated or corrupt gzip in {names}: {first}") from exc
        except UnicodeDecodeError as exc:
            raise InputError("not FASTQ (non-text bytes)") from exc

    def _blocks(self) -> Iterator[tuple[list[bytes], list[bytes], np.ndarray]]:
        done = [False, False]
        while True:
            for i in (0, 1):
                if not done[i] and len(self.queue[i]) < 4 * 1024:
                    more = self.files[i].more()
                    if more:
                        _check_shape(more, self.files[i].path)
                        self.queue[i].extend(more)
                    else:
                        done[i] = True
            n = min(len(self.queue[0]), len(self.queue[1]))
            if n == 0:
                if self.queue[0] or self.queue[1]:
                    raise InputError("R1/R2 do not pair: one file holds more reads than the other")
                return
            a, b = self.queue[0][:n], self.queue[1][:n]
            del self.queue[0][:n], self.queue[1][:n]
            if _name(a[0]) != _name(b[0]):
                raise InputError(f"R1/R2 do not pair: {_name(a[0]).decode(errors='replace')!r} "
                                 f"against {_name(b[0]).decode(errors='replace')!r}")  # fmt: skip
            bases = np.fromiter(map(len, a[1::4]), np.int64, n // 4) + np.fromiter(
                map(len, b[1::4]), np.int64, n // 4
            )
            yield a, b, bases

    def close(self) -> None:
        for f in self.files:
            f.close()


def join(lines: list[bytes]) -> bytes:
    """Lines back into FASTQ text."""
    return b"\n".join(lines) + b"\n" if lines else b""
