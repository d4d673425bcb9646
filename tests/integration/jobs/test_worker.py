"""The worker program against moto, with a stand-in pipeline: statuses, uploads, isolation, hand-over."""

from __future__ import annotations

import json

import pytest
from jobhelpers import LAB, bearer, instances
from motostack import use_pipeline

import gems.tags
from gems import records, statekeys
from gems.aws import s3 as S3
from gems.errors import InputError
from gems.states import WorkerStatus
from gems.status import new_worker_record, record_status
from workers.pipeline.framework import SampleFailed
from workers.program.worker import Superseded, Worker


@pytest.fixture
def fake_pipeline(monkeypatch):
    """run_sample writes a BAM-like file and a report; sample S2 has bad reads."""
    calls = []

    def run_sample(sample, r1, r2, out, options, on_progress=None):
        calls.append((sample, r1.read_bytes()[:2], options))
        out.mkdir(parents=True, exist_ok=True)
        on_progress("qc", 0.5)
        (out / "report.json").write_text(json.dumps({"sample": sample, "qc": {"pairs": 4}}))
        if sample == "S2":
            raise SampleFailed("qc", "R1 and R2 have different read names at read 3") from InputError("x")
        (out / "sample.bam").write_bytes(b"BAM")
        return {"sample": sample, "qc": {"pairs": 4}}

    use_pipeline(monkeypatch, run_sample)
    return calls


def _worker(services, config, client, key, index, tmp_path):
    iid = client.get(f"/job/{key}").json["workers"][index]["instance_id"]
    w = Worker(config, services.clients, key, index, services.keys.worker_token(key), iid)
    w.stop_fleet = lambda: client.post("/stop_instances", json={"session_key": key, "token": w.token})
    return w


def test_worker_runs_its_samples_and_isolates_a_failure(client, services, config, fake_pipeline, tmp_path):
    key = client.post(
        "/job", json={"bucket": LAB, "prefix": "run1/", "hla_class": 2, "workers": 2}, headers=bearer()
    ).json["session_key"]
    job = client.get(f"/job/{key}").json
    index_of_s2 = next(w["instance_index"] for w in job["workers"] if "S2" in w["samples"])
    w = _worker(services, config, client, key, index_of_s2, tmp_path)
    status = w.run(tmp_path / "w")
    assert status.value == "FAILED"
    assert [c[0] for c in fake_pipeline] == sorted(job["workers"][index_of_s2]["samples"])
    assert fake_pipeline[0][1] == b"\x1f\x8b"  # the real gzipped reads came down from S3
    rec = S3.get_json(services.clients.s3, config.state_bucket, statekeys.worker_key(key, index_of_s2))
    assert rec["samples"]["S2"]["status"] == "FAILED"
    assert "different read names" in rec["samples"]["S2"]["reason"]
    for s in job["workers"][index_of_s2]["samples"]:
        if s != "S2":
            assert rec["samples"][s]["status"] == "COMPLETE"
            keys = {
                o["Key"]
                for o in S3.list_keys(services.clients.s3, LAB, statekeys.results_prefix("run1/", key, s))
            }
            assert {k.rsplit("/", 1)[1] for k in keys} == {"report.json", "sample.bam"}
            head = services.clients.s3.head_object(
                Bucket=LAB, Key=statekeys.results_prefix("run1/", key, s) + "report.json"
            )
            assert head["ContentType"] == "application/json"
    # The failed sample's report is uploaded so the user can read why; its BAM never existed.
    failed = {
        o["Key"].rsplit("/", 1)[1]
        for o in S3.list_keys(services.clients.s3, LAB, statekeys.results_prefix("run1/", key, "S2"))
    }
    assert failed == {"report.json"}
    tags = gems.tags.from_aws(
        next(i for i in instances(services.clients.ec2) if i["InstanceId"] == w.instance_id)["Tags"]
    )
    assert tags[gems.tags.STATUS] == "FAILED" and "S2" in tags[gems.tags.REASON]
    # Not the last worker: no summary, fleet still up.
    w.hand_over()
    assert records.read_summary(services.clients.s3, config.state_bucket, key) is None
    other = _worker(services, config, client, key, 1 - index_of_s2, tmp_path)
    assert other.run(tmp_path / "o").value == "COMPLETE"
    other.hand_over()
    summary = records.read_summary(services.clients.s3, config.state_bucket, key)
    assert summary["overall_status"] == "FAILED"
    assert {i["State"]["Name"] for i in instances(services.clients.ec2)} == {"terminated"}
    listed = client.get(f"/job/{key}").json
    assert listed["overall_status"] == "FAILED"
    assert {w["status"] for w in listed["workers"]} == {"FAILED", "COMPLETE"}


NO_RETRIES = {"bucket": LAB, "prefix": "run1/", "hla_class": 1, "system_retries": 0}


def test_a_crashed_worker_is_recorded_failed(client, services, config, fake_pipeline, tmp_path):
    """With no system retries left (none here; relaunches: test_relaunch.py), a lost worker is FAILED."""
    key = client.post("/job", json=NO_RETRIES, headers=bearer()).json["session_key"]
    iid = client.get(f"/job/{key}").json["workers"][0]["instance_id"]
    services.jobs.lifecycle.mark_lost(key, iid, "worker process exited with code -9 before finishing")
    job = client.get(f"/job/{key}").json
    assert job["overall_status"] == "FAILED"
    assert "code -9" in job["workers"][0]["reason"]
    assert "no system retries left" in job["workers"][0]["reason"]
    assert {i["State"]["Name"] for i in instances(services.clients.ec2)} == {"terminated"}


def test_sweep_marks_workers_of_vanished_instances(client, services, config, tmp_path):
    from app.events import sweep_jobs

    key = client.post("/job", json=NO_RETRIES, headers=bearer()).json["session_key"]
    iid = client.get(f"/job/{key}").json["workers"][0]["instance_id"]
    assert sweep_jobs(services.jobs, services.clients.ec2) == []
    services.clients.ec2.terminate_instances(InstanceIds=[iid])  # behind the job's back
    marked = sweep_jobs(services.jobs, services.clients.ec2)
    assert [(k, i) for k, i, _ in marked] == [(key, iid)]
    assert client.get(f"/job/{key}").json["overall_status"] == "FAILED"
    assert records.read_summary(services.clients.s3, config.state_bucket, key)["overall_status"] == "FAILED"


def test_stale_heartbeat_reads_as_lost(client, services, config):
    from datetime import UTC, datetime, timedelta

    from gems.jobs.jobview import effective_status
    from gems.states import WorkerStatus

    old = (datetime.now(UTC) - timedelta(seconds=config.heartbeat_timeout_s + 5)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    status, reason = effective_status(
        WorkerStatus.RUNNING, old, "", config.heartbeat_timeout_s, datetime.now(UTC)
    )
    assert status is WorkerStatus.LOST and "heartbeat" in reason


def test_retry_reruns_only_the_failed_samples(client, services, config, fake_pipeline, tmp_path):
    key = client.post("/job", json={"bucket": LAB, "prefix": "run1/", "hla_class": 1}, headers=bearer()).json[
        "session_key"
    ]
    assert client.post(f"/job/{key}/retry", headers=bearer()).status_code == 409  # still running
    w = _worker(services, config, client, key, 0, tmp_path)
    w.run(tmp_path / "w")
    w.hand_over()
    resp = client.post(f"/job/{key}/retry", headers=bearer())
    assert resp.status_code == 201, resp.json
    retry = resp.json
    assert retry["session_key"] != key
    assert [s for w in retry["workers"] for s in w["samples"]] == ["S2"]
    assert client.post(f"/job/{key}/retry").status_code == 401
    assert client.post("/job/nope/retry", headers=bearer()).status_code == 404


def test_sweep_terminates_the_instance_of_a_silent_worker(client, services, config):
    """A hung worker (heartbeat stopped, instance still up) is recorded FAILED and its machine ended."""
    from datetime import UTC, datetime, timedelta

    from app.events import sweep_jobs

    key = client.post("/job", json=NO_RETRIES, headers=bearer()).json["session_key"]
    iid = client.get(f"/job/{key}").json["workers"][0]["instance_id"]
    later = datetime.now(UTC) + timedelta(seconds=config.heartbeat_timeout_s + 5)
    marked = sweep_jobs(services.jobs, services.clients.ec2, now=later)
    assert [(k, i) for k, i, _ in marked] == [(key, iid)]
    assert {i["State"]["Name"] for i in instances(services.clients.ec2)} == {"terminated"}
    assert "heartbeat" in client.get(f"/job/{key}").json["workers"][0]["reason"]


def test_a_stop_during_a_sample_is_never_undone_by_the_worker(
    client, services, config, monkeypatch, tmp_path
):
    """The user stops the job while the worker is mid-sample (on EC2 the instance takes seconds
    to die): the worker's next write finds the record changed, writes nothing more, uploads
    nothing, and the record stays STOPPED."""
    key = client.post(
        "/job", json={"bucket": LAB, "prefix": "run1/", "hla_class": 2, "workers": 1}, headers=bearer()
    ).json["session_key"]

    def run_sample(sample, r1, r2, out, options, on_progress=None):
        on_progress("qc", 0.1)
        services.jobs.lifecycle.terminate(key, reason="stopped by lab")  # the stop lands mid-sample
        out.mkdir(parents=True, exist_ok=True)
        (out / "sample.bam").write_bytes(b"BAM")
        on_progress("align", 0.5)  # the worker's next heartbeat of progress
        raise AssertionError("the worker must stop at its first write after the stop")

    use_pipeline(monkeypatch, run_sample)
    w = _worker(services, config, client, key, 0, tmp_path)
    with pytest.raises(Superseded, match="STOPPED"):
        w.run(tmp_path / "w")
    rec = S3.get_json(services.clients.s3, config.state_bucket, statekeys.worker_key(key, 0))
    assert rec["status"] == "STOPPED" and rec["reason"] == "stopped by lab"
    assert list(S3.list_keys(services.clients.s3, LAB, f"run1/results/{key}/")) == []
    with pytest.raises(Superseded):  # and it stays quiet
        w.status(step="anything")
    assert client.get(f"/job/{key}").json["overall_status"] == "STOPPED"


def test_a_stop_never_overwrites_a_worker_that_finished_meanwhile(services, config, monkeypatch, client):
    """The service reads the record, the worker writes COMPLETE, the service's write must not land."""
    key = client.post(
        "/job", json={"bucket": LAB, "prefix": "run1/", "hla_class": 2, "workers": 1}, headers=bearer()
    ).json["session_key"]
    plan = records.read_job(services.clients.s3, config.state_bucket, key).workers[0]
    rec = new_worker_record(key, 0, plan.instance_id, plan.samples)
    version = record_status(
        services.clients.ec2, services.clients.s3, state_bucket=config.state_bucket, record=rec,
        status=WorkerStatus.RUNNING, version="",
    )  # fmt: skip
    real = S3.get_json_etag
    reads = []

    def read_then_worker_finishes(s3, bucket, k):
        found = real(s3, bucket, k)
        if not reads:  # between the service's first read and its write, the worker completes
            done = records.WorkerRecord.from_dict(found[0])
            record_status(
                services.clients.ec2, s3, state_bucket=bucket, record=done, status=WorkerStatus.COMPLETE,
                version=version,
            )  # fmt: skip
        reads.append(k)
        return found

    monkeypatch.setattr(S3, "get_json_etag", read_then_worker_finishes)
    services.jobs.lifecycle.terminate(key, reason="stopped by lab")
    assert len(reads) == 2  # it looked again after its conditional write lost
    assert (
        S3.get_json(services.clients.s3, config.state_bucket, statekeys.worker_key(key, 0))["status"]
        == "COMPLETE"
    )


def test_a_late_tag_write_from_the_worker_never_undoes_a_stop(services, config, client):
    """A worker's status goes to S3 first and then to its tags. Its S3 write lands before the
    stop, but its tag write arrives after the stop's (a slow call on a loaded machine): the
    tags then say RUNNING again. The stopped job must still read STOPPED, in the job's view and
    in the listing, because only the ending's own tag decides a finished worker."""
    key = client.post(
        "/job", json={"bucket": LAB, "prefix": "run1/", "hla_class": 2, "workers": 1}, headers=bearer()
    ).json["session_key"]
    plan = records.read_job(services.clients.s3, config.state_bucket, key).workers[0]
    rec = new_worker_record(key, 0, plan.instance_id, plan.samples)
    record_status(
        services.clients.ec2, services.clients.s3, state_bucket=config.state_bucket, record=rec,
        status=WorkerStatus.RUNNING, step="align", version="",
    )  # fmt: skip
    services.jobs.lifecycle.terminate(key, reason="stopped by lab")
    services.clients.ec2.create_tags(  # the worker's delayed tag write of its last RUNNING
        Resources=[plan.instance_id],
        Tags=[{"Key": gems.tags.STATUS, "Value": "RUNNING"}, {"Key": gems.tags.STEP, "Value": "align"}],
    )
    services.jobs.tags.invalidate()
    job = client.get(f"/job/{key}", headers=bearer()).json
    assert job["overall_status"] == "STOPPED" and job["workers"][0]["status"] == "STOPPED"
    listed = [j for j in client.get("/job", headers=bearer()).json if j["session_key"] == key]
    assert listed[0]["overall_status"] == "STOPPED"
