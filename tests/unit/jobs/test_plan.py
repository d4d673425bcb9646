"""Planning is pure: pairs, worker counts, assignment, the RunInstances request and user-data."""

from __future__ import annotations

import base64

import pytest
from testconfig import TestConfig

from gems.errors import ValidationError
from gems.plan import JobRequest, assign, check_prefix, discover_pairs, plan_job, worker_count
from gems.states import JobStatus, WorkerStatus, overall_status


def objs(*keys, size=10):
    return [{"Key": k, "Size": size} for k in keys]


def test_discover_illumina_and_plain_names():
    found = discover_pairs(
        objs(
            "run/A_S1_L001_R1_001.fastq.gz",
            "run/A_S1_L001_R2_001.fastq.gz",
            "run/A_S1_L002_R1_001.fastq.gz",
            "run/A_S1_L002_R2_001.fastq.gz",
            "run/sim_na12878_R1.fastq.gz",
            "run/sim_na12878_R2.fastq.gz",
            "run/results/x/A_S1_L001_R1_001.fastq.gz",
            "run/notes.txt",
        ),
        "run/",
    )
    assert sorted(found) == ["A", "sim_na12878"]
    assert len(found["A"]) == 2  # two lanes of one sample
    assert found["sim_na12878"][0].r2 == "run/sim_na12878_R2.fastq.gz"


def test_missing_mate_is_an_error():
    with pytest.raises(ValidationError, match="no R2"):
        discover_pairs(objs("run/A_S1_L001_R1_001.fastq.gz"), "run/")


@pytest.mark.parametrize("prefix", ["", "/", "/abs", "a/../b", "./a", "a\\b", "a;b"])
def test_bad_prefixes(prefix):
    with pytest.raises(ValidationError) as err:
        check_prefix(prefix)
    assert err.value.field == "prefix"


def test_worker_count():
    cfg = TestConfig(max_workers=4, samples_per_worker=3)
    assert worker_count(7, None, cfg) == 3
    assert worker_count(100, None, cfg) == 4
    assert worker_count(2, 4, cfg) == 2  # never more workers than samples
    with pytest.raises(ValidationError, match="cap"):
        worker_count(10, 5, cfg)


def test_assign_balances_by_size():
    pairs = discover_pairs(
        [
            {"Key": f"r/{s}_R{m}.fastq.gz", "Size": size}
            for s, size in (("big", 100), ("m1", 50), ("m2", 50))
            for m in (1, 2)
        ],
        "r/",
    )
    assert assign(pairs, 2) == [["big"], ["m1", "m2"]]


def test_plan_builds_requests_with_tags_from_the_first_moment():
    cfg = TestConfig(instance_profile="gems-worker", subnet_id="subnet-1")
    pairs = discover_pairs(objs(*[f"run/S{i}_R{m}.fastq.gz" for i in range(5) for m in (1, 2)]), "run/")
    plan = plan_job(
        cfg,
        JobRequest(bucket="b", prefix="run/", hla_class=1, workers=2),
        pairs,
        session_key="k" * 32,
        created="t",
        token="tok",
    )
    assert len(plan.workers) == 2
    req = plan.workers[1].request
    assert req["ClientToken"] == "k" * 32 + "-1" and len(req["ClientToken"]) <= 64
    assert req["MinCount"] == req["MaxCount"] == 1
    assert req["IamInstanceProfile"] == {"Name": "gems-worker"}
    tag_keys = {t["Key"] for t in req["TagSpecifications"][0]["Tags"]}
    assert {"gems:session", "gems:index", "gems:status"} <= tag_keys
    ud = req["UserData"]
    assert "export GEMS_INSTANCE_INDEX=1" in ud and "export GEMS_JOB_TOKEN=tok" in ud
    assert "-m workers" in ud and len(ud.encode()) < 16 * 1024
    base64.b64encode(ud.encode())


def test_overall_status():
    W = WorkerStatus
    assert overall_status([W.COMPLETE, W.FAILED]) is JobStatus.FAILED
    assert overall_status([W.COMPLETE, W.COMPLETE]) is JobStatus.COMPLETE
    assert overall_status([W.COMPLETE, W.RUNNING]) is JobStatus.RUNNING
    assert overall_status([W.PENDING, W.PENDING]) is JobStatus.PENDING
    assert overall_status([W.COMPLETE, W.STOPPED]) is JobStatus.STOPPED
    assert overall_status([]) is JobStatus.PENDING
