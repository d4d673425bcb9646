"""Each worker's disk: an EBS root volume sized for the work its units do (pure).

An instance gets its image's root volume unless the launch asks for more (8 GiB on the usual
AMIs, 15 on moto's). A 30x genome's lead holds its 100 GB of reads, the shards' BAMs, the
gathered BAM and the CRAM at once, so every launch names its root volume's size, from the
FASTQ.gz bytes its units work on:

- a sample on one worker: its reads (S), the sort's spill and the duplicate-marked BAM (about
  0.9 S each: level-1 spill, level-2 BAM, 259 bytes a pair of BAM against 279 of FASTQ.gz on
  HG002), a trimmed copy of the reads when the job trims (S), then the CRAM (0.4 S) beside the
  BAM: at most about 3.8 S;
- a sharded sample's lead: its reads (S; each shard leaves its disk once in S3), the shards'
  BAMs (0.93 S, level 1), which the gather drops once its windows are marked, then the windows
  and the gathered BAM (0.9 S each) while they are concatenated: about 3 S;
- a shard: its reads (S / N), the sort's spill and its BAM: about 3 S / N.

On top: the worker image and the reference with its indexes (GRCh38: 3.1 GB of FASTA, a 7 GB
minimap2 index). Sizes are rounded up, never under the floor, never over EBS's 16 TiB. A
sharded sample's lead also gets gp3's highest throughput (1,000 MB/s, which needs 4,000 IOPS):
its gather reads and writes the whole sample several times over, and the projection in
benchmarks/genome_projection.py assumes that disk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gems import sharding

GIB = 1 << 30
FLOOR_GIB = 30
BASE_GIB = 20  # the worker image, GRCh38's FASTA and its indexes
MAX_GIB = 16 * 1024  # gp3's largest volume
# peak disk over the FASTQ.gz bytes a unit works on (the module's docstring)
PER_INPUT = {"sample": 4.0, "lead": 3.5, "shard": 3.5}
LEAD_THROUGHPUT_MBPS, LEAD_IOPS = 1000, 4000  # gp3's highest throughput needs 4 IOPS per MB/s
ROOT_DEVICE = "<root>"  # replaced at launch by the image's own root device (gems.aws.ec2)


@dataclass(frozen=True)
class Volume:
    gib: int
    throughput_mbps: int | None = None  # None: gp3's baseline (125 MB/s, 3,000 IOPS)
    iops: int | None = None

    def mapping(self) -> dict:
        """The RunInstances BlockDeviceMappings entry for the root volume (its device name is the
        image's, filled in at launch)."""
        ebs: dict = {
            "VolumeSize": self.gib,
            "VolumeType": "gp3",
            "DeleteOnTermination": True,
            "Encrypted": True,
        }
        if self.throughput_mbps:
            ebs.update(Throughput=self.throughput_mbps, Iops=self.iops)
        return {"DeviceName": ROOT_DEVICE, "Ebs": ebs}

    def to_dict(self) -> dict:
        return {"gib": self.gib, "throughput_mbps": self.throughput_mbps, "iops": self.iops}

    @classmethod
    def from_dict(cls, data: dict) -> Volume:
        return cls(int(data["gib"]), data.get("throughput_mbps"), data.get("iops"))


def role(unit: str, shards: dict[str, int]) -> str:
    parsed = sharding.parse(unit)
    if parsed.shard is not None:
        return "shard"
    return "lead" if shards.get(unit, 1) > 1 else "sample"


def unit_bytes(unit: str, sizes: dict[str, int], shards: dict[str, int]) -> float:
    """The FASTQ.gz bytes a unit works on: a shard's share of its sample's, else the sample's."""
    parsed = sharding.parse(unit)
    total = sizes.get(parsed.sample, 0)
    return total / max(1, shards.get(parsed.sample, 1)) if parsed.shard is not None else total


def for_units(units: list[str], sizes: dict[str, int], shards: dict[str, int]) -> Volume:
    """The root volume of a worker that runs `units` one after another (each leaves its disk
    before the next): sized for the largest; the lead's throughput when it leads a sample."""
    need = max(
        (PER_INPUT[role(u, shards)] * unit_bytes(u, sizes, shards) for u in units),
        default=0.0,
    )
    gib = min(MAX_GIB, max(FLOOR_GIB, BASE_GIB + math.ceil(need / GIB)))
    if any(role(u, shards) == "lead" for u in units):
        return Volume(gib, LEAD_THROUGHPUT_MBPS, LEAD_IOPS)
    return Volume(gib)
