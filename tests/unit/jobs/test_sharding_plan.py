"""A sharded sample's plan (pure): its units, one worker each, the default count, and refusals."""

from __future__ import annotations

import math

import pytest
from testconfig import TestConfig

from gems import sharding, volumes
from gems.errors import ValidationError
from gems.plan import JobRequest, ReadPair, check_request, plan_job

GIB = 1 << 30


def _plan(sizes: dict[str, int], **request):
    pairs = {s: [ReadPair(f"run/{s}_R1.fastq.gz", f"run/{s}_R2.fastq.gz", size)] for s, size in sizes.items()}
    req = JobRequest(bucket="b", prefix="run/", hla_class=1, reference="s3://b/ref/genome.fa", **request)
    return plan_job(TestConfig(max_workers=40), req, pairs, session_key="k" * 32, created="t", token="tok")


def test_unit_names_never_collide_with_sample_names():
    assert sharding.units("HG002", 3) == ["HG002", "HG002+shard000", "HG002+shard001", "HG002+shard002"]
    assert sharding.units("HG002", 1) == ["HG002"]
    assert sharding.parse("HG002+shard002") == sharding.Unit("HG002", 2)
    assert sharding.parse("HG002") == sharding.Unit("HG002") and not sharding.is_shard("HG002.shard002")
    assert sharding.parse("a+shard001+shard007") == sharding.Unit("a+shard001", 7)  # only the last counts


def test_each_unit_of_a_sharded_sample_gets_its_own_worker_and_the_rest_share_as_before():
    # by default (no `shards`) each sample gets what its size calls for: here 4 shards and none
    plan = _plan({"G": 16 * GIB, "s1": 1000, "s2": 1000}, workers=1)
    assert plan.shards == {"G": 4}
    assert [w.samples for w in plan.workers] == [
        ["s1", "s2"], ["G"], ["G+shard000"], ["G+shard001"], ["G+shard002"], ["G+shard003"],
    ]  # fmt: skip
    # the lead gets the sample's reads; a shard's reads come from its lead's split
    assert plan.pairs["G"][0].r1 == "run/G_R1.fastq.gz" and plan.pairs["G+shard002"] == []
    assert plan.workers[3].tags["gems:samples"] == "G+shard001"


def test_the_default_is_one_shard_per_4_gib_and_never_more_than_the_sample_has_batches():
    assert _plan({"genome": 100 * 10**9}).shards == {"genome": 24}
    assert _plan({"exome": 19 * 10**9}).shards == {"exome": 5}
    assert _plan({"small": 3 * GIB}).shards == {}  # under 4 GiB: one worker, today's line
    assert sharding.default_shards(10**15) == sharding.DEFAULT_MAX_SHARDS
    batch = {"batch_bases": 10_000}
    assert _plan({"tiny": 50_000}, shards=7, options=batch).shards == {"tiny": 7}


@pytest.mark.parametrize(
    "sizes, request_, message",
    [
        ({"s": 2_000_000}, dict(shards=2), "too small to split into 2 shards"),
        ({"s": 10 * GIB}, dict(shards=0), "from 1 to 256"),
        ({"s": 10 * GIB}, dict(shards=257), "from 1 to 256"),
        ({"s": 10 * GIB}, dict(shards=True), "from 1 to 256"),
        ({"a": 100 * GIB, "b": 100 * GIB}, dict(shards=25), "need 52 workers"),
        ({"s": 20 * GIB, **{f"p{i}": 10 for i in range(36)}}, dict(workers=36), "needs 42 workers"),
        ({"big": 10 * GIB, "small": 1000}, dict(shards=2), "sample small is too small"),
    ],
)
def test_refusals_name_the_shards_field(sizes, request_, message):
    with pytest.raises(ValidationError, match=message) as err:
        _plan(sizes, **request_)
    assert err.value.field == "shards"


def test_a_sharded_job_needs_a_reference_and_a_sane_batch():
    pairs = {"s": [ReadPair("run/s_R1.fastq.gz", "run/s_R2.fastq.gz", 10 * GIB)]}
    req = JobRequest(bucket="b", prefix="run/", hla_class=1, shards=2)
    with pytest.raises(ValidationError, match="needs a reference") as err:
        plan_job(TestConfig(), req, pairs, session_key="k" * 32, created="t", token="tok")
    assert err.value.field == "shards"
    bad = JobRequest(bucket="lab-bucket", prefix="run/", hla_class=1, options={"batch_bases": 5})
    with pytest.raises(ValidationError, match="10,000 to 1,000,000,000") as err:
        check_request(TestConfig(), bad)
    assert err.value.field == "options.batch_bases"


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
