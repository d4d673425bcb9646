"""One sample scattered across the fleet: its work units, its shard count, and their checks (pure).

A sample of a job with `shards` N > 1 becomes N + 1 units of work, each on a worker of its own:
the sample itself, whose worker (the lead) reads the reads, cuts them into N shards, and once
every shard is aligned gathers them (merge, duplicates, calling, the rest of the pipeline); and
N shard units `<sample>+shard<i>`, each aligning one shard. A unit is what a worker's plan,
tags and record list, so everything that follows a worker (tags, records, relaunch of what a
lost worker left, its cost) follows a shard: a shard lost to a spot reclaim is relaunched alone.
'+' is not allowed in a sample name (gems.names), so a unit name never collides with a sample.
With N = 1 the sample is one unit, today's single-worker line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from gems.errors import ValidationError

MAX_SHARDS = 256
# minimap2's batch (-K) in bases, pinned for every run (workers.genomics.minimap2 says why);
# a job's options.batch_bases changes it (smaller: only to shard a small sample, as the tests do).
BATCH_BASES = 100_000_000
MIN_BATCH_BASES, MAX_BATCH_BASES = 10_000, 1_000_000_000
# The reference's indexes a sharded job needs in S3 beside the FASTA (workers.genomics.reference).
FAI_SUFFIX, MMI_SUFFIX = ".fai", ".sr.mmi"
REFERENCE_INDEXES = (FAI_SUFFIX, MMI_SUFFIX)
SEPARATOR = "+shard"
_UNIT = re.compile(r"^(?P<sample>.+)\+shard(?P<index>\d{3})$")
# The default: one shard per this much FASTQ.gz, so a 100 GB genome gets 25 shards, an exome
# of 19 GB 5, and a sample under 4 GiB stays on one worker (sharding costs a split and a gather).
BYTES_PER_SHARD = 4 << 30
DEFAULT_MAX_SHARDS = 64
# A shard holds whole minimap2 batches (workers.genomics.shards); a sample of S bytes of FASTQ.gz
# holds about S / BYTES_PER_BASE bases. 0.5 is below what real reads take (0.9 on HG002), so
# the estimate errs towards more batches: refused only when clearly too small.
BYTES_PER_BASE = 0.5


@dataclass(frozen=True)
class Unit:
    sample: str
    shard: int | None = None  # None: the sample's lead (or its only unit)

    @property
    def name(self) -> str:
        return self.sample if self.shard is None else unit_name(self.sample, self.shard)


def unit_name(sample: str, shard: int) -> str:
    return f"{sample}{SEPARATOR}{shard:03d}"


def parse(name: str) -> Unit:
    m = _UNIT.match(name)
    return Unit(m["sample"], int(m["index"])) if m else Unit(name)


def is_shard(name: str) -> bool:
    return _UNIT.match(name) is not None


def units(sample: str, shards: int) -> list[str]:
    """The sample's units: itself, then its shards (none when it is not sharded)."""
    return [sample] + ([unit_name(sample, i) for i in range(shards)] if shards > 1 else [])


def default_shards(size_bytes: int) -> int:
    return max(1, min(DEFAULT_MAX_SHARDS, math.ceil(size_bytes / BYTES_PER_SHARD)))


def check_batch(value: object, field: str = "options.batch_bases") -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not MIN_BATCH_BASES <= value <= MAX_BATCH_BASES
    ):
        raise ValidationError(
            f"{field} must be a whole number from {MIN_BATCH_BASES:,} to {MAX_BATCH_BASES:,}", field=field
        )
    return value


def check_count(value: object, field: str = "shards") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SHARDS:
        raise ValidationError(f"{field} must be a whole number from 1 to {MAX_SHARDS}", field=field)
    return value


def shards_for(sample: str, size_bytes: int, requested: int | None, batch_bases: int) -> int:
    """The sample's shard count: the one asked for, else the default for its size; ValidationError
    (field `shards`) when the sample is too small to hold a minimap2 batch per shard."""
    if requested is None:
        n = default_shards(size_bytes)
        # the default never asks for more shards than the sample has batches
        return max(1, min(n, estimated_batches(size_bytes, batch_bases)))
    n = check_count(requested)
    if n > 1 and size_bytes and estimated_batches(size_bytes, batch_bases) < n:
        raise ValidationError(
            f"sample {sample} is too small to split into {n} shards: its {size_bytes:,} bytes of reads hold "
            f"about {estimated_batches(size_bytes, batch_bases)} batches of {batch_bases:,} bases, and a shard "
            "holds whole batches",
            field="shards",
        )
    return n


def estimated_batches(size_bytes: int, batch_bases: int) -> int:
    return max(1, math.floor(size_bytes / BYTES_PER_BASE / batch_bases))


def batch_of(options: dict | None) -> int:
    given = (options or {}).get("batch_bases")
    return BATCH_BASES if given is None else check_batch(given)


def counts_for(
    sizes: dict[str, int], requested: int | None, batch_bases: int, *, reference: str | None, max_workers: int
) -> dict[str, int]:
    """Each sample's shard count (1: not sharded) from its bytes of reads; ValidationError naming
    `shards` for a sample too small to split, a job without a reference to align to, or more
    workers than the cap."""
    counts = {s: shards_for(s, size, requested, batch_bases) for s, size in sizes.items()}
    sharded = {s: n for s, n in counts.items() if n > 1}
    if sharded and not reference:
        raise ValidationError("shards split a sample's alignment: the job needs a reference", field="shards")
    units = sum(n + 1 for n in sharded.values())
    if units > max_workers:
        raise ValidationError(
            f"{len(sharded)} sharded sample(s) need {units} workers (each shard, plus one per sample to split and "
            f"gather), over the cap of {max_workers}",
            field="shards",
        )
    return counts
