"""Faults at the AWS edge, on moto: S3 uploads that fail, EC2 that has no capacity or throttles."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError
from motostack import use_pipeline
from opshelpers import OPS_LAB

import gems.tags
from gems import records, statekeys
from gems.aws import ec2 as EC2
from gems.aws import s3 as S3
from workers.program.worker import Worker


def client_error(code: str, op: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"injected {code}"}}, op)


class Flaky:
    """A boto3 client whose `method` fails while `fails(call_number, kwargs)` says so."""

    def __init__(self, real, method: str, code: str, fails):
        self._real, self._method, self._code, self._fails = real, method, code, fails
        self.calls: list = []

    def __getattr__(self, name):
        attr = getattr(self._real, name)
        if name != self._method:
            return attr

        def call(*args, **kwargs):
            self.calls.append((args, kwargs))
            if self._fails(len(self.calls), args, kwargs):
                raise client_error(self._code, name)
            return attr(*args, **kwargs)

        return call


@pytest.fixture
def sleeps(monkeypatch):
    """Record the backoff delays instead of waiting them out."""
    delays: list[float] = []
    # Replace the modules' `time`, not time.sleep itself: other threads of the test process sleep too.
    fake = SimpleNamespace(sleep=delays.append, monotonic=time.monotonic, time=time.time)
    monkeypatch.setattr(S3, "time", fake)
    monkeypatch.setattr(EC2, "time", fake)
    return delays


@pytest.fixture
def stand_in_pipeline(monkeypatch):
    def run_sample(sample, r1, r2, out, options, on_progress=None):
        out.mkdir(parents=True, exist_ok=True)
        (out / "sample.bam").write_bytes(b"BAM")
        (out / "variants.vcf.gz").write_bytes(b"VCF")
        (out / "report.json").write_text(json.dumps({"sample": sample}))
        return {"sample": sample}

    use_pipeline(monkeypatch, run_sample)


def submit(client, auth_header, samples=("S1",), workers=1):
    body = {
        "bucket": OPS_LAB,
        "prefix": "run1/",
        "hla_class": 1,
        "samples": list(samples),
        "workers": workers,
    }
    return client.post("/job", json=body, headers=auth_header)


def run_worker(svc, client, key: str, s3, tmp_path) -> dict:
    iid = client.get(f"/job/{key}").get_json()["workers"][0]["instance_id"]
    clients = SimpleNamespace(s3=s3, ec2=svc.clients.ec2)
    worker = Worker(svc.config, clients, key, 0, svc.keys.worker_token(key), iid)
    worker.stop_fleet = lambda: None
    worker.run(tmp_path / "w")
    return S3.get_json(svc.clients.s3, svc.config.state_bucket, statekeys.worker_key(key, 0))


def result_names(svc, key: str, sample: str) -> set[str]:
    prefix = statekeys.results_prefix("run1/", key, sample)
    return {o["Key"].rsplit("/", 1)[1] for o in S3.list_keys(svc.clients.s3, OPS_LAB, prefix)}


def test_s3_upload_failures_are_retried(
    ops_client, ops_services, auth_header, stand_in_pipeline, sleeps, tmp_path
):
    key = submit(ops_client, auth_header).get_json()["session_key"]
    per_key: dict[str, int] = {}

    def twice_per_file(_n, args, _kw):
        per_key[args[2]] = per_key.get(args[2], 0) + 1
        return per_key[args[2]] <= 2

    flaky = Flaky(ops_services.clients.s3, "upload_file", "SlowDown", twice_per_file)
    rec = run_worker(ops_services, ops_client, key, flaky, tmp_path)
    assert rec["status"] == "COMPLETE" and rec["samples"]["S1"]["status"] == "COMPLETE"
    assert result_names(ops_services, key, "S1") == {"sample.bam", "variants.vcf.gz", "report.json"}
    assert sleeps[:2] == [0.5, 1.0]  # exponential backoff per file


def test_s3_upload_that_keeps_failing_ends_failed_never_complete(
    ops_client, ops_services, auth_header, stand_in_pipeline, sleeps, tmp_path
):
    key = submit(ops_client, auth_header).get_json()["session_key"]
    bam_fails = Flaky(
        ops_services.clients.s3, "upload_file", "InternalError", lambda _n, a, _k: a[2].endswith(".bam")
    )
    rec = run_worker(ops_services, ops_client, key, bam_fails, tmp_path)
    sample = rec["samples"]["S1"]
    assert rec["status"] == "FAILED" and sample["status"] == "FAILED"
    assert "InternalError" in sample["reason"] and "results" not in sample
    assert sum(1 for a, _ in bam_fails.calls if a[2].endswith(".bam")) == 4  # tried 4 times, then gave up
    names = result_names(ops_services, key, "S1")
    assert "sample.bam" not in names
    job = ops_client.get(f"/job/{key}").get_json()
    assert job["overall_status"] == "FAILED"
    assert job["workers"][0]["sample_status"]["S1"]["status"] == "FAILED"


@pytest.mark.parametrize("code", ["InsufficientInstanceCapacity", "RequestLimitExceeded"])
def test_ec2_capacity_and_throttling_are_retried_with_backoff(
    ops_client, ops_services, auth_header, sleeps, code
):
    flaky = Flaky(ops_services.jobs.ec2, "run_instances", code, lambda n, _a, _k: n <= 2)
    ops_services.jobs.ec2 = flaky
    resp = submit(ops_client, auth_header)
    assert resp.status_code == 201, resp.get_json()
    assert len(flaky.calls) == 3 and sleeps == [0.5, 1.0]
    assert resp.get_json()["workers"][0]["instance_id"].startswith("i-")


def test_ec2_without_capacity_gives_a_clear_job_error_and_frees_the_folder(
    ops_client, ops_services, auth_header, sleeps
):
    real = ops_services.jobs.ec2

    def second_worker(_n, _a, kw):
        tags = {t["Key"]: t["Value"] for t in kw["TagSpecifications"][0]["Tags"]}
        return tags[gems.tags.INDEX] == "1"

    ops_services.jobs.ec2 = Flaky(real, "run_instances", "InsufficientInstanceCapacity", second_worker)
    resp = submit(ops_client, auth_header, samples=("S1", "S2"), workers=2)
    assert resp.status_code == 503
    message = resp.get_json()["message"]
    assert message == "EC2 could not launch workers: InsufficientInstanceCapacity (retried 5 times)"
    assert sleeps == [0.5, 1.0, 2.0, 4.0]
    (key,) = records.list_session_keys(ops_services.clients.s3, ops_services.config.state_bucket)
    # The durable record says why. (GET /job reads the terminated instance's launch tags first while
    # EC2 still lists it, so it shows PENDING until then: reported to the job service's owner.)
    summary = records.read_summary(ops_services.clients.s3, ops_services.config.state_bucket, key)
    assert summary["overall_status"] == "FAILED"
    assert all(w["reason"].startswith("launch failed: EC2 could not launch") for w in summary["workers"])
    states = {i["State"]["Name"] for r in real.describe_instances()["Reservations"] for i in r["Instances"]}
    assert states == {"terminated"}  # the worker that did launch is not left running
    ops_services.jobs.ec2 = real
    assert submit(ops_client, auth_header, samples=("S1", "S2"), workers=2).status_code == 201
