"""app.tes.mapping: TES task -> job request, and gems job -> TES state and task document."""

from __future__ import annotations

import pytest

from app.tes import mapping
from gems.errors import ValidationError


def job(status: str, *workers: tuple[str, str], **extra) -> dict:
    rows = [
        {"instance_index": i, "instance_id": f"i-{i}", "status": s, "reason": r, "step": "", "updated": "t1"}
        for i, (s, r) in enumerate(workers)
    ]
    return dict(
        session_key="k1",
        bucket="b",
        prefix="run1/",
        hla_class=1,
        overall_status=status,
        created="t0",
        results_prefix="run1/results/k1/",
        workers=rows,
        **extra,
    )


@pytest.mark.parametrize(
    ("status", "workers", "state"),
    [
        ("PENDING", [("PENDING", "")], "QUEUED"),
        ("RUNNING", [("RUNNING", ""), ("PENDING", "")], "RUNNING"),
        ("COMPLETE", [("COMPLETE", "")], "COMPLETE"),
        ("STOPPED", [("STOPPED", "stopped by alice")], "CANCELED"),
        ("FAILED", [("FAILED", "1 of 2 samples failed: S1: bad reads")], "EXECUTOR_ERROR"),
        ("FAILED", [("FAILED", "worker lost: no heartbeat for 901 s (timeout 900 s)")], "SYSTEM_ERROR"),
        (
            "FAILED",
            [("FAILED", "launch failed: EC2 could not launch workers: InsufficientInstanceCapacity")],
            "SYSTEM_ERROR",
        ),
        ("SOMETHING", [("RUNNING", "")], "UNKNOWN"),
    ],
)
def test_states(status, workers, state):
    assert mapping.tes_state(job(status, *workers)) == state


def test_a_running_job_still_fetching_is_initializing():
    j = job("RUNNING", ("RUNNING", ""))
    j["workers"][0]["step"] = "S1: fetch"
    assert mapping.tes_state(j) == "INITIALIZING"


def test_request_from_read_files_reference_and_options():
    task = {
        "inputs": [
            {"url": "s3://lab/run1/A_S1_L001_R1_001.fastq.gz"},
            {"url": "s3://lab/run1/A_S1_L001_R2_001.fastq.gz"},
            {"url": "s3://refs/hg38.fa.gz"},
            {"url": "s3://refs/panel.bed", "name": "targets"},
        ],
        "executors": [{"image": "x", "command": ["y"], "env": {"HLA_CLASS": "2", "GEMS_WORKERS": "1"}}],
    }
    req = mapping.job_request(task)
    assert (req.bucket, req.prefix, req.samples, req.hla_class, req.workers) == ("lab", "run1/", ["A"], 2, 1)
    assert req.reference == "s3://refs/hg38.fa.gz" and req.options == {"targets": "s3://refs/panel.bed"}
    assert req.shards is None  # chosen by each sample's size
    task["tags"] = {"shards": "8"}
    assert mapping.job_request(task).shards == 8


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ([{"url": "s3://lab-a/run1/x_R1.fastq.gz"}, {"url": "s3://lab-b/run1/x_R2.fastq.gz"}], "inputs"),
        ([{"url": "s3://lab-a/run1/x_R1.fastq.gz"}, {"url": "s3://lab-a/run2/x_R2.fastq.gz"}], "inputs"),
        ([{"url": "s3://lab-a/x_R1.fastq.gz"}, {"url": "s3://lab-a/x_R2.fastq.gz"}], "inputs"),
        ([{"url": "s3://lab-a/run1/notes.txt"}], "inputs"),
        ([{"content": "ACGT", "path": "/in/x"}], "inputs"),
        ([{"url": "gs://a/run1/x_R1.fastq.gz"}], "inputs.0.url"),
    ],
)
def test_bad_inputs_name_the_field(inputs, field):
    task = {"inputs": inputs, "executors": [{"image": "x", "command": ["y"]}], "tags": {"hla_class": "1"}}
    with pytest.raises(ValidationError) as err:
        mapping.job_request(task)
    assert err.value.field == field


def test_views_minimal_basic_full():
    j = job("FAILED", ("COMPLETE", ""), ("FAILED", "worker lost: no heartbeat"), ("RUNNING", ""))
    assert mapping.task_view(j, None, "MINIMAL") == {"id": "k1", "state": "SYSTEM_ERROR"}
    basic = mapping.task_view(
        j, {"name": "n", "tags": {"a": "b"}, "inputs": [{"url": "s3://b/x", "content": "c"}]}, "BASIC"
    )
    assert basic["tags"] == {"a": "b"} and "content" not in basic["inputs"][0]
    assert [e["exit_code"] for e in basic["logs"][0]["logs"]] == [0, 1]  # the running worker has none yet
    assert "system_logs" not in basic["logs"][0]
    full = mapping.task_view(j, None, "FULL", worker_logs={0: "ok", 1: "died"}, outputs=[])
    assert [e["stdout"] for e in full["logs"][0]["logs"]] == ["ok", "died"]
    assert full["logs"][0]["system_logs"] == ["worker 1 (i-1): worker lost: no heartbeat"]
    assert full["outputs"] == [{"url": "s3://b/run1/results/k1/", "path": "/results", "type": "DIRECTORY"}]
