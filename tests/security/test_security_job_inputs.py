"""Items 2 and 5: job options and sample names are checked at submit; a refusal launches and stores nothing."""

from __future__ import annotations

import pytest
from motostack import fastq
from security_helpers import LAB, bearer, instances, state_snapshot

GOOD = {"bucket": LAB, "prefix": "run1/", "hla_class": 1}


def refused(client, services, config, body, field):
    before = state_snapshot(services.clients.s3, config.state_bucket)
    resp = client.post("/job", json=body, headers=bearer())
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert resp.is_json and resp.json["field"] == field, resp.json
    assert instances(services.clients.ec2) == []
    assert state_snapshot(services.clients.s3, config.state_bucket) == before
    return resp.json


@pytest.mark.parametrize(
    ("change", "field"),
    [
        # the service's own state: every job's records, manifests and logs
        ({"options": {"hla_reference": "s3://gems-test-state/jobs/"}}, "options.hla_reference"),
        ({"reference": "s3://gems-lake/variants/x.fa"}, "reference"),
        ({"reference": "file:///etc/passwd"}, "reference"),
        ({"options": {"annotation": "http://169.254.169.254/latest/meta-data/"}}, "options.annotation"),
        ({"options": {"targets": "https://example.org/t.bed"}}, "options.targets"),
        ({"options": {"targets": "s3://someone-elses-bucket/t.bed"}}, "options.targets"),
        ({"reference": "s3://UPPER_case/x.fa"}, "reference"),
        ({"reference": "refs/../../other/x.fa"}, "reference"),
        ({"reference": "/refs/x.fa"}, "reference"),
        ({"reference": "refs/x\x00.fa"}, "reference"),
        ({"bucket": "gems-test-state", "prefix": "jobs/"}, "bucket"),
        ({"samples": ["../S1"]}, "samples"),
        ({"options": {"retry_of": "../../x"}}, "options.retry_of"),
    ],
)
def test_inputs_outside_the_job_are_refused(client, services, config, change, field):
    body = {**GOOD, **change}
    if change.get("bucket") == config.state_bucket:
        services.clients.s3.put_object(Bucket=config.state_bucket, Key="jobs/X_S1_R1.fastq.gz", Body=fastq())
        services.clients.s3.put_object(Bucket=config.state_bucket, Key="jobs/X_S1_R2.fastq.gz", Body=fastq())
    refused(client, services, config, body, field)


def test_allow_listed_reference_buckets_and_bare_keys_are_accepted(services, config):
    from app import create_app

    services.clients.s3.create_bucket(Bucket="shared-refs")
    # they exist: a job naming a file that is not in S3 is refused at submit
    services.clients.s3.put_object(Bucket="shared-refs", Key="GRCh38.fa", Body=b">c\nACGT\n")
    services.clients.s3.put_object(Bucket=LAB, Key="refs/t.bed", Body=b"c\t0\t4\n")
    allowed = config.with_(reference_buckets=("shared-refs",))
    services.config = services.jobs.config = allowed
    client = create_app(allowed, services=services).test_client()
    body = dict(GOOD, reference="s3://shared-refs/GRCh38.fa", options={"targets": "refs/t.bed"})
    resp = client.post("/job", json=body, headers=bearer())
    assert resp.status_code == 201, resp.json
    assert len(instances(services.clients.ec2)) == 1


BAD_NAMES = ["<img src=x onerror=alert(1)>", "..", ".hidden", "a\x01b", "x" * 101, "-rf"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_pair_with_a_bad_sample_name_is_refused_and_the_lookup_says_why(client, services, config, name):
    s3 = services.clients.s3
    for mate in (1, 2):
        s3.put_object(Bucket=LAB, Key=f"run1/{name}_S9_L001_R{mate}_001.fastq.gz", Body=fastq())
    found = client.get(f"/samples?bucket={LAB}&prefix=run1/", headers=bearer())
    assert found.status_code == 200
    assert sorted(s["name"] for s in found.json["samples"]) == ["S1", "S2", "S3"]
    assert [s["name"] for s in found.json["skipped"]] == [ascii(name)]
    assert found.json["skipped"][0]["reason"]
    body = refused(client, services, config, GOOD, "samples")
    assert ascii(name) in body["message"]
    # Naming the good samples runs them; the bad pair is left alone.
    resp = client.post("/job", json=dict(GOOD, samples=["S1", "S2"]), headers=bearer())
    assert resp.status_code == 201, resp.json
    job = services.jobs.get(resp.json["session_key"])
    assert sorted(s for w in job["workers"] for s in w["samples"]) == ["S1", "S2"]


def test_the_worker_refuses_a_bad_sample_name_in_its_record(services, tmp_path, monkeypatch):
    """A record written before the rule (or by hand) cannot make the worker write outside its folder."""
    from gems import statekeys
    from gems.aws import s3 as S3
    from workers.program.worker import Worker

    cfg = services.config
    S3.put_json(services.clients.s3, cfg.state_bucket, "jobs/k1/manifests/0.json", {"samples": {"..": []}})
    job = {
        "session_key": "k1",
        "bucket": LAB,
        "prefix": "run1/",
        "hla_class": 1,
        "options": {},
        "created": "2026-12-01T00:00:00Z",
    }
    job["workers"] = [{"index": 0, "samples": [".."], "manifest": "jobs/k1/manifests/0.json"}]
    S3.put_json(services.clients.s3, cfg.state_bucket, statekeys.job_key("k1"), job)
    ran = []
    monkeypatch.setattr(Worker, "_run_sample", lambda self, *a: ran.append(a))
    monkeypatch.setattr("workers.program.beacon.heartbeat", lambda *a: None)
    worker = Worker(cfg, services.clients, "k1", 0, "token", "i-0")
    try:
        worker.run(tmp_path / "work")
    finally:
        worker._stop.set()  # its heartbeat thread must not outlive the moto mock
    assert ran == []
    record = S3.get_json(services.clients.s3, cfg.state_bucket, statekeys.worker_key("k1", 0))
    assert record["samples"][".."]["status"] == "FAILED"
    assert "sample names may hold" in record["samples"][".."]["reason"]
