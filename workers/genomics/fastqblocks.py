"""Paired FASTQ records in large blocks of raw text, without an object per read or per line: the
split's reader.

Cutting a genome's 400 M pairs into shards needs, of each pair, only where it ends and how many
bases it holds; a record object per read (dnaio, as QC and the single-worker line read) holds
one process to about 90 thousand pairs a second, and a bytes object per line to about 200
thousand. Here a block of decompressed text stays one buffer: numpy finds its newlines, and a
record's end, a sequence's length and the shape checks are arithmetic on their positions. The
records are checked for shape (header, sequence, '+', quality of the sequence's length) and the
files for pairing by count and by the first pair of every block; everything else (bases,
quality characters, every name) is checked where the shards are read, by QC on the shard
workers.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from xopen import xopen

from gems.errors import InputError

BLOCK_BYTES = 8 << 20
_AT, _PLUS, _NL = ord("@"), ord("+"), ord("\n")


def _name(header: bytes) -> bytes:
    name = header[1:].split(None, 1)[0] if len(header) > 1 else b""
    return name[:-2] if name[-2:] in (b"/1", b"/2") else name


@dataclass
class Records:
    """Whole FASTQ records in one buffer: `ends[i]` is where record i ends (after its fourth
    newline), `seq[i]` its sequence's length."""

    text: bytes
    ends: np.ndarray
    seq: np.ndarray

    def __len__(self) -> int:
        return len(self.ends)

    def start(self, i: int) -> int:
        return int(self.ends[i - 1]) if i else 0

    def span(self, i: int, j: int) -> memoryview:
        """Records i..j-1 as FASTQ text."""
        return memoryview(self.text)[self.start(i) : self.start(j)]

    def first_header(self) -> bytes:
        return self.text[: self.text.index(b"\n")]

    def split(self, n: int) -> tuple[Records, Records]:
        """The first n records, and the rest."""
        cut = self.start(n)
        return (
            Records(self.text[:cut], self.ends[:n], self.seq[:n]),
            Records(self.text[cut:], self.ends[n:] - cut, self.seq[n:]),
        )


EMPTY = Records(b"", np.zeros(0, np.int64), np.zeros(0, np.int64))


def parse(text: bytes, path: Path) -> tuple[Records, bytes]:
    """The whole records at the start of `text` (checked for shape), and what follows them."""
    buf = np.frombuffer(text, np.uint8)
    nl = np.flatnonzero(buf == _NL)
    whole = len(nl) - len(nl) % 4
    if not whole:
        return EMPTY, text
    nl = nl[:whole]
    starts = np.empty(whole, np.int64)
    starts[0], starts[1:] = 0, nl[:-1] + 1
    lengths = nl - starts
    if not (np.all(buf[starts[0::4]] == _AT) and np.all(buf[starts[2::4]] == _PLUS)):
        raise InputError(
            f"not valid FASTQ ({path.name}): a record does not start with '@' or lacks its '+' line"
        )
    if not np.array_equal(lengths[1::4], lengths[3::4]):
        raise InputError(f"not valid FASTQ ({path.name}): a quality line is not as long as its sequence")
    end = int(nl[-1]) + 1
    return Records(text[:end], nl[3::4] + 1, lengths[1::4]), text[end:]


class _File:
    """Whole records from one file, a block at a time."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.raw = open(self.path, "rb")  # noqa: SIM115 - closed in close()
        self.size = os.fstat(self.raw.fileno()).st_size
        self.fh = xopen(self.raw, "rb", threads=1)  # decompressed by a thread of its own
        self.rest = b""
        self.eof = False

    def more(self) -> Records:
        """The next whole records (a partial one waits for its end); empty at the end."""
        while not self.eof:
            data = self.fh.read(BLOCK_BYTES)
            if not data:
                self.eof = True
                break
            found, self.rest = parse(self.rest + data if self.rest else data, self.path)
            if len(found):
                return found
        if self.rest.strip():
            raise InputError(f"{self.path.name}: ends inside a FASTQ record (truncated file?)")
        return EMPTY

    def fraction(self) -> float:
        return min(1.0, self.raw.tell() / self.size) if self.size else 0.0

    def close(self) -> None:
        self.fh.close()
        self.raw.close()


class PairBlocks:
    """Blocks of pairs: (R1 records, R2 records, bases of each pair), as many records each."""

    def __init__(self, r1: Path, r2: Path):
        for path in (r1, r2):
            if not Path(path).is_file():
                raise InputError(f"{Path(path).name}: file not found")
        self.files = (_File(r1), _File(r2))
        self.queue = [EMPTY, EMPTY]

    def fraction(self) -> float:
        """How far through the compressed R1 reading has got (the decompressor reads ahead a little)."""
        return self.files[0].fraction()

    def __iter__(self) -> Iterator[tuple[Records, Records, np.ndarray]]:
        try:
            yield from self._blocks()
        except (EOFError, zlib.error, OSError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            names = f"{self.files[0].path.name} or {self.files[1].path.name}"
            raise InputError(f"truncated or corrupt gzip in {names}: {first}") from exc

    def _blocks(self) -> Iterator[tuple[Records, Records, np.ndarray]]:
        done = [False, False]
        while True:
            for i in (0, 1):
                if not done[i] and len(self.queue[i]) < 1024:
                    more = self.files[i].more()
                    if len(more):
                        self.queue[i] = _concat(self.queue[i], more)
                    else:
                        done[i] = True
            n = min(len(self.queue[0]), len(self.queue[1]))
            if n == 0:
                if len(self.queue[0]) or len(self.queue[1]):
                    raise InputError("R1/R2 do not pair: one file holds more reads than the other")
                return
            a, self.queue[0] = self.queue[0].split(n)
            b, self.queue[1] = self.queue[1].split(n)
            if _name(a.first_header()) != _name(b.first_header()):
                raise InputError(f"R1/R2 do not pair: {_name(a.first_header()).decode(errors='replace')!r} "
                                 f"against {_name(b.first_header()).decode(errors='replace')!r}")  # fmt: skip
            yield a, b, a.seq + b.seq

    def close(self) -> None:
        for f in self.files:
            f.close()


def _concat(first: Records, second: Records) -> Records:
    if not len(first):
        return second
    shift = len(first.text)
    return Records(
        first.text + second.text,
        np.concatenate([first.ends, second.ends + shift]),
        np.concatenate([first.seq, second.seq]),
    )
