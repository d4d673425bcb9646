"""The record types own the state bucket's JSON shape: what they read they write back unchanged,
and every change of a worker's or a sample's state goes through WorkerRecord.set_status."""

from __future__ import annotations

import pytest

from gems.records import JobRecord, SampleRecord, WorkerRecord, progress
from gems.states import SampleStatus, WorkerStatus

WORKER = {
    "session_key": "k1",
    "instance_index": 1,
    "instance_id": "i-0abc",
    "status": "RUNNING",
    "step": "S2: align 40%",
    "reason": "",
    "started": "2026-12-02T10:00:00Z",
    "updated": "2026-12-02T10:05:00Z",
    "samples": {
        "S1": {
            "status": "COMPLETE",
            "step": "done",
            "reason": "",
            "steps": {},
            "results": "s3://lab/run1/results/k1/S1/",
            "summary": {"read_pairs": 1200},
        },
        "S2": {"status": "RUNNING", "step": "align", "reason": "", "steps": {}},
        "S3": {"status": "QUEUED", "step": "", "reason": "", "steps": {}},
    },
}
JOB = {
    "session_key": "k1",
    "bucket": "lab",
    "prefix": "run1/",
    "hla_class": 2,
    "reference": None,
    "options": {"threads": 2},
    "created": "2026-12-02T10:00:00Z",
    "submitted_by": "alice",
    "idempotency_key": None,
    "capacity": "spot",
    "system_retries": 2,
    "max_cost_usd": 25.0,
    "callback_url": "https://hooks.lab.example.org/gems",
    "workers": [
        {
            "index": 0,
            "samples": ["S1", "S2", "S3"],
            "manifest": "jobs/k1/manifests/0.json",
            "instance_id": "",
            "attempt": 1,
            "capacity": "spot",
            "launched": "2026-12-02T10:00:01Z",
        },
        {
            "index": 1,
            "samples": ["S2", "S3"],
            "manifest": "jobs/k1/manifests/1.json",
            "instance_id": "i-0def",
            "attempt": 2,
            "replaces": 0,
            "capacity": "on-demand",
            "capacity_note": "spot refused (InsufficientInstanceCapacity): launched on-demand",
            "launched": "2026-12-02T10:20:00Z",
            "instance_type": "c5.2xlarge",
        },
    ],
    "written_by_a_later_version": True,
}


def test_a_worker_record_round_trips_with_fields_it_does_not_know():
    rec = WorkerRecord.from_dict(WORKER)
    assert rec.key == "jobs/k1/workers/1.json"
    assert rec.samples["S1"].extra["summary"] == {"read_pairs": 1200}
    assert rec.to_dict() == WORKER


def test_a_job_record_round_trips_and_owns_its_key():
    job = JobRecord.from_dict(JOB)
    assert job.key == "jobs/k1/job.json" and job.workers[0].samples == ["S1", "S2", "S3"]
    assert job.to_dict() == JOB
    assert job.replaced() == {0}


def test_progress_counts_finished_samples_only():
    assert WorkerRecord.from_dict(WORKER).progress == "1/3"
    assert progress([SampleStatus.FAILED, SampleStatus.COMPLETE, SampleStatus.RUNNING]) == "2/3"
    assert progress([]) == "0/0"


def test_set_status_changes_a_sample_and_keeps_what_the_worker_added():
    rec = WorkerRecord.from_dict(WORKER)
    rec.set_status(
        "2026-12-02T10:06:00Z",
        sample="S2",
        sample_status=SampleStatus.COMPLETE,
        sample_fields={"step": "done", "results": "s3://lab/x/"},
    )
    s2 = rec.samples["S2"]
    assert (s2.status, s2.step, s2.extra["results"]) == (SampleStatus.COMPLETE, "done", "s3://lab/x/")
    assert rec.updated == "2026-12-02T10:06:00Z" and rec.progress == "2/3"
    assert rec.to_dict()["samples"]["S2"]["results"] == "s3://lab/x/"


def test_a_lost_worker_fails_only_its_unfinished_samples():
    rec = WorkerRecord.from_dict(WORKER)
    rec.set_status("t", status=WorkerStatus.FAILED, reason="worker lost", fail_unfinished=True)
    assert rec.status is WorkerStatus.FAILED
    assert {n: s.status for n, s in rec.samples.items()} == {
        "S1": SampleStatus.COMPLETE,
        "S2": SampleStatus.FAILED,
        "S3": SampleStatus.FAILED,
    }
    assert rec.samples["S2"].reason == "worker lost" and rec.samples["S1"].reason == ""
    assert rec.failed_samples() == ["S2", "S3"]


def test_a_state_name_outside_the_enums_is_refused():
    with pytest.raises(ValueError):
        WorkerRecord.from_dict(dict(WORKER, status="SLEEPING"))
    with pytest.raises(ValueError):
        SampleRecord.from_dict({"status": "ALMOST"})


def test_a_failed_launch_is_recorded_on_every_planned_worker():
    job = JobRecord.from_dict(JOB)
    job.set_launch_failed("launch failed: InsufficientInstanceCapacity")
    body = job.to_dict()["workers"][0]
    assert (body["status"], body["reason"]) == ("FAILED", "launch failed: InsufficientInstanceCapacity")
    assert JobRecord.from_dict(job.to_dict()).workers[0].status is WorkerStatus.FAILED
