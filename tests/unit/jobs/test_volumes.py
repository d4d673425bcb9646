"""Each worker's root volume is sized for its units' work (pure)."""

from __future__ import annotations

import math

from testconfig import TestConfig

from gems import volumes
from gems.plan import JobRequest, ReadPair, plan_job

GIB = 1 << 30


def _plan(sizes: dict[str, int], **request):
    pairs = {s: [ReadPair(f"run/{s}_R1.fastq.gz", f"run/{s}_R2.fastq.gz", size)] for s, size in sizes.items()}
    req = JobRequest(bucket="b", prefix="run/", hla_class=1, reference="s3://b/ref/genome.fa", **request)
    return plan_job(TestConfig(max_workers=40), req, pairs, session_key="k" * 32, created="t", token="tok")


def test_a_genome_lead_gets_room_for_its_reads_bams_and_the_gathered_bam_and_a_fast_disk():
    plan = _plan({"G": 100 * 10**9, "s1": 2 * GIB, "s2": 1000}, workers=1)  # G: 24 shards by its size
    assert plan.shards == {"G": 24}
    by_units = {tuple(w.samples): w for w in plan.workers}
    lead, shard, small = by_units[("G",)], by_units[("G+shard003",)], by_units[("s1", "s2")]
    need = 100 * 10**9 / GIB  # 93 GiB of reads
    assert lead.volume.gib == 20 + math.ceil(3.5 * need) == 346 and lead.volume.throughput_mbps == 1000
    assert (
        shard.volume.gib == max(30, 20 + math.ceil(3.5 * need / 24)) == 34
        and shard.volume.throughput_mbps is None
    )
    assert small.volume.gib == 30  # the floor: the largest of its samples is 2 GiB
    mapping = lead.request["BlockDeviceMappings"][0]
    assert mapping["DeviceName"] == volumes.ROOT_DEVICE  # the image's, named at launch
    assert mapping["Ebs"] == {
        "VolumeSize": lead.volume.gib, "VolumeType": "gp3", "DeleteOnTermination": True, "Encrypted": True,
        "Throughput": 1000, "Iops": 4000,
    }  # fmt: skip
    assert "Throughput" not in shard.request["BlockDeviceMappings"][0]["Ebs"]


def test_a_worker_of_several_samples_is_sized_for_the_largest_and_never_past_ebs_limits():
    assert volumes.for_units(["a", "b"], {"a": 10 * GIB, "b": 40 * GIB}, {}).gib == 20 + 160
    assert volumes.for_units(["huge"], {"huge": 10**13}, {}).gib == volumes.MAX_GIB
    assert volumes.for_units([], {}, {}).gib == volumes.FLOOR_GIB


def test_a_volume_survives_the_job_record():
    v = volumes.Volume(420, 1000, 4000)
    assert volumes.Volume.from_dict(v.to_dict()) == v
