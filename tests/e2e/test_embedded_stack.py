"""The product on one machine: `gems up`, a demo job on real reads, persistence, lost workers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from e2e_helpers import RunningStack, wait_finished, wait_terminated

from embedded.seed import DEMO_BUCKET, demo_job

pytestmark = pytest.mark.slow


def result_files(stack, key: str) -> dict[str, set[str]]:
    s3 = stack.client("s3")
    out: dict[str, set[str]] = {}
    base = f"demo/results/{key}/"
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=DEMO_BUCKET, Prefix=base):
        for obj in page.get("Contents", []):
            sample, _, name = obj["Key"][len(base) :].partition("/")
            out.setdefault(sample, set()).add(name)
    return out


def test_demo_job_runs_the_full_pipeline_and_survives_a_restart(stack_home):
    stack = RunningStack(stack_home).start()
    try:
        status, job = stack.api.submit(demo_job())
        assert status == 201
        key = job["session_key"]
        job = wait_finished(stack.api, key)
        assert job["overall_status"] == "COMPLETE", job
        assert wait_terminated(stack.client("ec2")) == {"terminated"}  # the last worker stopped the fleet
        files = result_files(stack, key)  # the job's MultiQC report is in before the fleet stops
        assert set(files) == {"HG002", "NA12878", "HLA-sim-NA12878", "multiqc"}
        assert files["multiqc"] == {"multiqc_report.html", "multiqc_data.json"}
        for sample, names in files.items():
            if sample == "multiqc":
                continue
            assert {
                "report.json",
                "report.html",
                "sample.bam",
                "sample.bam.bai",
                "variants.vcf.gz",
            } <= names, sample
        assert "hla.tsv" in files["HLA-sim-NA12878"]
        refs = {
            o["Key"]
            for o in stack.client("s3").list_objects_v2(Bucket=DEMO_BUCKET, Prefix="references/")["Contents"]
        }
        assert "references/demo.fa.fai" in refs and any(
            k.endswith(".mmi") for k in refs
        )  # indexed once, cached in S3
        assert wait_terminated(stack.client("ec2")) == {"terminated"}  # the last worker stopped the fleet
        detail = stack.api.job(key)
        samples = {s: st["status"] for w in detail["workers"] for s, st in w["sample_status"].items()}
        assert set(samples.values()) == {"COMPLETE"}
        # The samples reached the cohort lake, and `gems lake` finds them through `.gems/env`.
        lake = lake_json(stack, "hla-frequencies", "--gene", "A")
        assert {row["allele"] for row in lake} == {"A*01:01", "A*11:01"}  # HLA-sim-NA12878's class I types
    finally:
        assert stack.stop() == 0
    again = RunningStack(stack_home).start()
    try:
        listed = again.api.jobs()
        assert [(j["session_key"], j["overall_status"]) for j in listed] == [(key, "COMPLETE")]
        assert result_files(again, key) == files  # results are still in (local) S3
    finally:
        again.stop()


def lake_json(stack, *args) -> list[dict]:
    env = dict(stack.env())
    for line in (stack.home / "env").read_text().splitlines():
        if line.startswith("export "):
            k, _, v = line[len("export ") :].partition("=")
            env[k] = v.strip("'")
    cmd = [sys.executable, "-m", "gems.cli.main", "lake", *args, "--format", "json", "--no-cache"]
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)["rows"]


def test_a_class_ii_job_types_class_ii_genes(stack):
    status, job = stack.api.submit(dict(demo_job(), hla_class=2, workers=1, samples=["HLA-sim-NA12878"]))
    job = wait_finished(stack.api, job["session_key"])
    assert job["overall_status"] == "COMPLETE", job
    url = next(
        f["url"]
        for f in stack.api.results(job["session_key"])["samples"]["HLA-sim-NA12878"]
        if f["name"] == "hla.tsv"
    )
    rows = [line.split("\t") for line in urllib.request.urlopen(url).read().decode().splitlines()]  # noqa: S310
    calls = {r[0]: (r[1], r[2]) for r in rows[1:]}
    assert set(calls) == {"DRB1", "DRB3", "DRB4", "DRB5", "DQA1", "DQB1", "DPA1", "DPB1"}
    assert calls["DRB1"] == ("DRB1*01:01", "DRB1*03:01")  # NA12878's types (shared/data/hla/truth.tsv)


def test_a_killed_worker_is_lost_and_its_sample_relaunched(stack):
    status, job = stack.api.submit(dict(demo_job(), workers=1, samples=["HG002"]))
    key = job["session_key"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        w = stack.api.job(key)["workers"][0]
        if w["status"] == "RUNNING" and "HG002:" in w["step"]:
            break
        time.sleep(0.2)
    pidfile = stack.home / "instances" / w["instance_id"] / "worker.pid"
    os.kill(int(pidfile.read_text()), signal.SIGKILL)  # the worker process dies mid-sample
    job = wait_finished(stack.api, key, timeout_s=300)
    # Not RUNNING forever, and not an analysis failure: the platform lost it, so it is relaunched.
    lost, again = job["workers"]
    assert lost["status"] == "LOST" and "exited with code 137 before finishing" in lost["reason"]
    sample = lost["sample_status"]["HG002"]
    assert sample["status"] == "INTERRUPTED" and "before finishing" in sample["reason"]
    assert (again["attempt"], again["replaces"], again["status"]) == (2, 0, "COMPLETE")
    assert job["overall_status"] == "COMPLETE"
