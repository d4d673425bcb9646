"""One sample scattered across the fleet on the embedded stack, with real reads: a sharded job's
VCF equals the single worker's record for record; each shard is a worker of its own, shown in the
job view and billed; a spot shard interrupted mid-job is relaunched alone; the work files go
when the job ends."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import time

import pytest
from e2e_helpers import ENDED, RunningStack, states_once_ended, wait_finished

from embedded.seed import DEMO_BUCKET, one_sample_job
from gems import sharding
from gems.api_client import ApiError
from gems.config import Config
from gems.jobs.jobview import is_settled

pytestmark = pytest.mark.slow
SAMPLE = "HG002"
BATCH = {"batch_bases": 100_000, "threads": 1}  # the demo's HG002 holds ~31 batches of 100 kb


def _calls(stack: RunningStack, key: str) -> list[str]:
    body = stack.client("s3").get_object(
        Bucket=DEMO_BUCKET, Key=f"demo/results/{key}/{SAMPLE}/variants.vcf.gz"
    )
    return [ln for ln in gzip.decompress(body["Body"].read()).decode().splitlines() if not ln.startswith("#")]


def _job(**extra) -> dict:
    return {**one_sample_job(), "samples": [SAMPLE], "options": BATCH, **extra}


def _interrupt_running_shards(stack: RunningStack, key: str, timeout_s: float = 300) -> set[int]:
    """A spot notice to each shard worker as soon as it is seen RUNNING, the notices in parallel (a
    shard of these reads runs for a few seconds); the indexes of the workers noticed."""
    noticed: set[int] = set()
    notices = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and len(noticed) < 3:
        view = stack.api.job(key)
        for w in view["workers"]:
            running = w["status"] == "RUNNING" and w.get("instance_id") and w["instance_index"] not in noticed
            if running and sharding.is_shard(w["samples"][0]):
                noticed.add(w["instance_index"])
                notices.append(subprocess.Popen(
                    [sys.executable, "-m", "gems.cli.main", "interrupt", w["instance_id"], "--in", "20"],
                    env=stack.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                ))  # fmt: skip
        if is_settled(view):
            break
        time.sleep(0.1)
    for notice in notices:
        notice.wait(60)
    return noticed


def test_a_sharded_sample_equals_the_single_run_and_a_lost_shard_is_rerun_alone(stack_home):
    stack = RunningStack(stack_home, extra_env={"GEMS_SPOT_POLL_S": "0.5"}).start()
    try:
        # The single-worker run (it also leaves the reference's indexes in S3, which shards need).
        status, single = stack.api.submit(_job())
        assert status == 201, single
        single = wait_finished(stack.api, single["session_key"])
        assert single["overall_status"] == "COMPLETE", single
        expected = _calls(stack, single["session_key"])
        assert len(expected) > 100

        status, job = stack.api.submit(_job(shards=3, capacity="spot"))
        assert status == 201, job
        key = job["session_key"]
        assert [w["samples"] for w in job["workers"]] == [
            [SAMPLE], [f"{SAMPLE}+shard000"], [f"{SAMPLE}+shard001"], [f"{SAMPLE}+shard002"],
        ]  # fmt: skip
        noticed = _interrupt_running_shards(stack, key)
        job = wait_finished(stack.api, key, timeout_s=900)
        assert job["overall_status"] == "COMPLETE", job
        detail = stack.api.job(key)
        # each interrupted shard came back alone, as attempt 2; the lead was never relaunched
        relaunched = [w for w in detail["workers"] if w.get("attempt", 1) > 1]
        assert relaunched, f"no shard worker was still running for its notice: {detail['workers']}"
        for w in relaunched:
            assert len(w["samples"]) == 1 and sharding.is_shard(w["samples"][0]), w
            assert w["replaces"] in noticed and w["status"] == "COMPLETE" and w["attempt"] == 2
        assert [w["attempt"] for w in detail["workers"] if w["samples"] == [SAMPLE]] == [1]
        view = detail["shards"][SAMPLE]
        assert view["shards"] == 3 and view["complete"] == 3
        assert view["units"]["lead"]["status"] == "COMPLETE"
        assert sorted(u["attempt"] for k, u in view["units"].items() if k != "lead") == sorted(
            2 if any(w["samples"] == [f"{SAMPLE}+shard{k}"] for w in relaunched) else 1
            for k in ("000", "001", "002")
        )
        assert (
            len(detail["cost"]["by_worker"]) == len(detail["workers"]) == 4 + len(relaunched)
        )  # every attempt billed
        table = stack.api.request("GET", f"/job/{key}/summary.json")[1]
        (row,) = table["samples"]  # one row per sample: shards are not samples, their cost is the sample's
        assert (
            row["sample"] == SAMPLE
            and row["cost_usd"] >= sum(w["usd"] for w in detail["cost"]["by_worker"]) - 0.001
        )
        assert _calls(stack, key) == expected  # the same calls as one worker, record for record
        # HLA typed from the shards' mappings, added up by the lead: the single worker's typing
        s3 = stack.client("s3")
        tsv = [
            s3.get_object(Bucket=DEMO_BUCKET, Key=f"demo/results/{k}/{SAMPLE}/hla.tsv")["Body"].read()
            for k in (single["session_key"], key)
        ]
        assert tsv[0] == tsv[1] and len(tsv[0].splitlines()) > 3, tsv
        # the windows were marked, kept and called on the shards' workers (reading the shards'
        # BAMs from S3 by range); the lead only put them together
        report = json.loads(
            s3.get_object(Bucket=DEMO_BUCKET, Key=f"demo/results/{key}/{SAMPLE}/report.json")["Body"].read()
        )
        assert report["gather"]["gather_windows"] >= 3 and report["stats"]["from_windows"]
        assert report["variants"]["settings"]["regions"] == "the gather's windows"
        assert states_once_ended(stack) <= ENDED
        # the job's MultiQC report: the worker that ends the job builds it before it stops the fleet
        results = {
            o["Key"]
            for o in stack.client("s3").list_objects_v2(Bucket=DEMO_BUCKET, Prefix=f"demo/results/{key}/")[
                "Contents"
            ]
        }
        assert {
            f"demo/results/{key}/multiqc/multiqc_report.html",
            f"demo/results/{key}/{SAMPLE}/samtools.stats.txt",
        } <= results
        assert stack.api.request("GET", f"/job/{key}/reports")[1]["multiqc_url"]
        state = stack.client("s3")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the work files go once the job's summary is written
            left = state.list_objects_v2(Bucket=Config().state_bucket, Prefix=f"jobs/{key}/shards/").get(
                "KeyCount"
            )
            if not left:
                break
            time.sleep(0.5)
        assert not left
    finally:
        stack.stop()


def test_a_sharded_job_is_refused_before_anything_launches(stack_home):
    stack = RunningStack(stack_home).start()
    try:
        for body, field in (
            (_job(shards=300), "shards"),
            (_job(shards=3, options={"threads": 1}), "shards"),  # 100 Mb batches: the sample holds one
            (_job(shards=3), "reference"),  # a fresh stack: the reference is not indexed in S3 yet
        ):
            with pytest.raises(ApiError) as refused:
                stack.api.submit(body)
            assert refused.value.status == 400 and refused.value.field == field, refused.value.details
        ec2 = stack.client("ec2")
        assert not ec2.describe_instances()["Reservations"]
    finally:
        stack.stop()
