"""One sample's read pairs cut into shards that map exactly as the whole sample maps.

minimap2 reads a pair of files in batches: pairs are taken until the batch holds at least
`batch_bases` bases (its -K, pinned in `workers.genomics.minimap2`), and a batch is mapped as a
unit. A shard here holds whole batches, contiguous and in read order, so every batch minimap2
forms on a shard is a batch it forms on the whole sample, and nothing minimap2 computes per batch
can make a sharded run differ from a single one. (minimap2 2.31 maps the shared samples the same
at -K 3k as at its default, so today this is a guarantee kept rather than a difference fixed.)
Contiguous shards also keep read order, which the gather's merge needs to give the single run's
record order where positions tie.

The split is one streaming pass on a worker (never on the API): the pairs of a gzipped FASTQ
cannot be found from byte ranges without decompressing, and R1 and R2 must be cut at the same
pair. It reads blocks of raw text (workers.genomics.fastqblocks), not a record object per read, and
checks the records' shape and pairing; QC on each shard checks the rest. A shard ends at the first batch end past its share of the sample. The share is counted in
pairs when the count is known (given, or counted first for an R1 under `COUNT_FIRST_BELOW`,
where that pass costs seconds), else in how far through the compressed R1 the pass has got: the
decompressor reads ahead by under a MiB, nothing beside a large file. A sample with fewer
batches than shards leaves the last shards empty (`Shard.pairs == 0`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from xopen import xopen

from gems.errors import InputError
from workers.genomics.fastqblocks import PairBlocks
from workers.genomics.minimap2 import BATCH_BASES

MAX_SHARDS = 256
# igzip's fastest level: a shard is read once, by one mapper, soon after it is written.
SHARD_GZIP_LEVEL = 1
COUNT_FIRST_BELOW = 256 << 20  # bytes of compressed R1


@dataclass(frozen=True)
class Shard:
    index: int
    r1: str  # file names, relative to the split's folder ("" for an empty shard)
    r2: str
    pairs: int
    bases: int
    batches: int
    first_pair: int  # the 0-based number of its first pair in the sample

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Shard:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


def load_split(path: Path) -> list[Shard]:
    """The shards a split wrote to its manifest (`split.json`)."""
    return [Shard.from_dict(d) for d in json.loads(Path(path).read_text())["shards"]]


def shard_names(index: int) -> tuple[str, str]:
    return f"shard-{index:03d}_R1.fastq.gz", f"shard-{index:03d}_R2.fastq.gz"


class _ShardWriter:
    def __init__(self, folder: Path, index: int, first_pair: int):
        self.index, self.first_pair = index, first_pair
        self.names = shard_names(index)
        self.files = [
            xopen(folder / name, "wb", compresslevel=SHARD_GZIP_LEVEL, threads=1)  # noqa: SIM115 - closed in close()
            for name in self.names
        ]
        self.pairs = self.bases = self.batches = 0

    def write(self, r1: memoryview, r2: memoryview, pairs: int, bases: int) -> None:
        self.files[0].write(r1)
        self.files[1].write(r2)
        self.pairs += pairs
        self.bases += bases

    def close(self) -> Shard:
        for fh in self.files:
            fh.close()
        return Shard(self.index, *self.names, self.pairs, self.bases, self.batches, self.first_pair)


def split_pairs(
    r1: Path,
    r2: Path,
    folder: Path,
    shards: int,
    batch_bases: int = BATCH_BASES,
    total_pairs: int | None = None,
    on_shard: Callable[[Shard], None] | None = None,
) -> list[Shard]:
    """Write `shards` shard pairs of `r1`/`r2` into `folder`; InputError on malformed input.
    `on_shard` is handed each shard as soon as its files are complete (the lead uploads it then)."""
    if not 1 <= shards <= MAX_SHARDS:
        raise ValueError(f"shards must be 1-{MAX_SHARDS}, not {shards}")
    if batch_bases < 1:
        raise ValueError("batch_bases must be positive")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if (
        total_pairs is None
        and shards > 1
        and Path(r1).is_file()
        and Path(r1).stat().st_size < COUNT_FIRST_BELOW
    ):
        total_pairs = count_pairs(r1, r2)
    reader = PairBlocks(r1, r2)

    def share_done(shard: _ShardWriter) -> bool:
        if total_pairs:
            return shard.first_pair + shard.pairs >= total_pairs * (shard.index + 1) / shards
        return reader.fraction() >= (shard.index + 1) / shards

    done: list[Shard] = []
    current = _ShardWriter(folder, 0, 0)
    in_batch = 0  # bases of the batch minimap2 would be filling
    try:
        for a, b, bases in reader:
            pos = 0
            while pos < len(bases):
                sums = np.cumsum(bases[pos:])
                # the pair that brings the batch to batch_bases ends it (minimap2's rule)
                ends_at = int(np.searchsorted(sums, batch_bases - in_batch))
                end = len(bases) if ends_at == len(sums) else pos + ends_at + 1
                current.write(a.span(pos, end), b.span(pos, end), end - pos, int(sums[end - pos - 1]))
                if ends_at == len(sums):
                    in_batch += int(sums[-1])
                    break
                pos, in_batch = end, 0
                current.batches += 1
                if current.index < shards - 1 and share_done(current):
                    done.append(current.close())
                    if on_shard:
                        on_shard(done[-1])
                    current = _ShardWriter(folder, current.index + 1, done[-1].first_pair + done[-1].pairs)
        if in_batch:
            current.batches += 1  # minimap2's last batch may be short
        done.append(current.close())
        if on_shard and done[-1].pairs:
            on_shard(done[-1])
    except BaseException:
        current.close()
        for index in range(len(done) + 1):
            for name in shard_names(index):
                (folder / name).unlink(missing_ok=True)
        raise
    finally:
        reader.close()
    first = done[-1].first_pair + done[-1].pairs
    if first == 0:
        for name in shard_names(0):
            (folder / name).unlink(missing_ok=True)
        raise InputError(f"{Path(r1).name}/{Path(r2).name}: no reads (empty FASTQ)")
    for index in range(len(done), shards):  # fewer batches than shards: the rest hold nothing
        done.append(Shard(index, "", "", 0, 0, 0, first))
    return done


def count_pairs(r1: Path, r2: Path) -> int:
    reader = PairBlocks(r1, r2)
    try:
        return sum(len(bases) for _, _, bases in reader)
    finally:
        reader.close()


def check_split(shards: list[Shard], expected_pairs: int | None) -> None:
    """InputError when the shards do not hold every pair exactly once, in order."""
    first = 0
    for shard in shards:
        if shard.first_pair != first:
            raise InputError(f"shard {shard.index} starts at pair {shard.first_pair}, not {first}")
        first += shard.pairs
    if expected_pairs is not None and first != expected_pairs:
        raise InputError(f"the shards hold {first} read pairs where the sample holds {expected_pairs}")
