"""Spot capacity and system retries against moto: a worker the platform takes (spot reclaim,
lost instance) has its unfinished samples relaunched on a new instance as attempt 2, 3, ...
within the job's budget, separately from analysis failures; a stop relaunches nothing."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from jobhelpers import LAB, bearer, instances
from motostack import use_pipeline

from gems import records, statekeys
from gems.aws import s3 as S3
from workers.program.worker import Superseded, Worker

SPOT = {"bucket": LAB, "prefix": "run1/", "hla_class": 1, "workers": 1, "capacity": "spot"}
NOTICE = {"action": "terminate", "time": "2026-12-03T15:00:00Z"}


@pytest.fixture
def pipeline(monkeypatch):
    """run_sample writes a report and a BAM; `hooks[sample]()` runs mid-sample when set."""
    hooks: dict = {}
    ran: list[str] = []

    def run_sample(sample, r1, r2, out, options, on_progress=None):
        ran.append(sample)
        on_progress("align", 0.5)
        if sample in hooks:
            hooks.pop(sample)()
            on_progress("variants", 0.1)  # the next write after a notice finds the worker ended
        out.mkdir(parents=True, exist_ok=True)
        (out / "sample.bam").write_bytes(b"BAM")
        (out / "report.json").write_text(json.dumps({"sample": sample}))
        return {"sample": sample}

    use_pipeline(monkeypatch, run_sample)
    return hooks, ran


def _worker(services, config, client, key, index):
    job = client.get(f"/job/{key}").json
    iid = next(w["instance_id"] for w in job["workers"] if w["instance_index"] == index)
    w = Worker(config, services.clients, key, index, services.keys.worker_token(key), iid)
    w.halt = lambda: None  # in a test process: the next write raises Superseded instead of exiting
    w.call_api = lambda path, within_s=0: client.post(path, json={"session_key": key, "token": w.token})
    return w


def _results(services, key, sample):
    return {
        o["Key"].rsplit("/", 1)[1]
        for o in S3.list_keys(services.clients.s3, LAB, statekeys.results_prefix("run1/", key, sample))
    }


def test_spot_workers_are_launched_as_one_time_spot_that_terminates(client, services):
    job = client.post("/job", json=SPOT, headers=bearer()).json
    assert job["workers"][0]["capacity"] == "spot"
    (inst,) = instances(services.clients.ec2)
    assert inst["InstanceLifecycle"] == "spot"
    record = records.read_job(services.clients.s3, services.config.state_bucket, job["session_key"])
    assert record.capacity == "spot" and record.system_retries == 2


def test_no_spot_capacity_falls_back_to_on_demand_and_says_so(client, services, monkeypatch):
    ec2 = services.clients.ec2
    real = ec2.run_instances

    def no_spot(**request):
        if "InstanceMarketOptions" in request:
            error = {"Error": {"Code": "InsufficientInstanceCapacity", "Message": "no spot"}}
            raise ClientError(error, "RunInstances")
        return real(**request)

    monkeypatch.setattr(ec2, "run_instances", no_spot)
    key = client.post("/job", json=SPOT, headers=bearer()).json["session_key"]
    (worker,) = client.get(f"/job/{key}").json["workers"]
    assert worker["capacity"] == "on-demand"
    assert "spot refused (InsufficientInstanceCapacity)" in worker["capacity_note"]
    (inst,) = instances(ec2)
    assert "InstanceLifecycle" not in inst


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"max_cost_usd": 0}, "max_cost_usd"),
        ({"max_cost_usd": -5}, "max_cost_usd"),
        ({"max_cost_usd": "ten"}, "max_cost_usd"),
        ({"capacity": "cheap"}, "capacity"),
        ({"system_retries": -1}, "system_retries"),
        ({"system_retries": 11}, "system_retries"),
    ],
)
def test_bad_capacity_or_retries_are_refused_and_nothing_launches(client, services, body, field):
    resp = client.post("/job", json=dict(SPOT, **body), headers=bearer())
    assert resp.status_code == 400 and resp.json["field"] == field
    assert instances(services.clients.ec2) == []


def test_an_interrupted_spot_worker_is_relaunched_and_the_job_completes(
    client, services, config, pipeline, tmp_path
):
    hooks, ran = pipeline
    key = client.post("/job", json=SPOT, headers=bearer()).json["session_key"]
    first = _worker(services, config, client, key, 0)
    old_iid = first.instance_id
    hooks["S2"] = lambda: first.interrupt(NOTICE)  # the notice lands while S2 is being aligned
    with pytest.raises(Superseded):
        first.run(tmp_path / "w0")
    first.hand_over()  # as main() does: the fleet is not stopped, a relaunch is owed
    rec = records.WorkerRecord.read(services.clients.s3, config.state_bucket, key, 0)[0]
    assert rec.status.value == "INTERRUPTED" and "spot interruption notice" in rec.reason
    assert {s: v.status.value for s, v in rec.samples.items()} == {
        "S1": "COMPLETE",
        "S2": "INTERRUPTED",
        "S3": "INTERRUPTED",
    }
    assert _results(services, key, "S2") == set()  # nothing partial went up
    job = client.get(f"/job/{key}").json
    assert job["overall_status"] == "RUNNING"
    new = [w for w in job["workers"] if w["instance_index"] == 1][0]
    assert (new["attempt"], new["replaces"], new["samples"], new["capacity"]) == (2, 0, ["S2", "S3"], "spot")
    states = {i["InstanceId"]: i["State"]["Name"] for i in instances(services.clients.ec2)}
    assert states[old_iid] == "terminated" and states[new["instance_id"]] == "running"

    second = _worker(services, config, client, key, 1)
    assert second.run(tmp_path / "w1").value == "COMPLETE"
    second.hand_over()
    assert ran == ["S1", "S2", "S2", "S3"]
    summary = records.read_summary(services.clients.s3, config.state_bucket, key)
    assert summary["overall_status"] == "COMPLETE"
    assert [(w["instance_index"], w["status"]) for w in summary["workers"]] == [
        (0, "INTERRUPTED"),
        (1, "COMPLETE"),
    ]
    assert _results(services, key, "S2") == {"sample.bam", "report.json"}
    assert {i["State"]["Name"] for i in instances(services.clients.ec2)} == {"terminated"}
    # What it cost: both attempts, at the spot rate of the dated table.
    cost = client.get(f"/job/{key}").json["cost"]
    assert [(r["instance_index"], r["capacity"], r["instance_type"]) for r in cost["by_worker"]] == [
        (0, "spot", config.instance_type),
        (1, "spot", config.instance_type),
    ]
    assert cost["usd"] > 0 and cost["prices"]["source"] == "table"
    assert summary["cost"]["by_worker"] and summary["cost"]["prices"]["as_of"]


def test_the_budget_is_per_worker_so_a_reclaim_wave_does_not_fail_a_big_fleet(client, services):
    body = {"bucket": LAB, "prefix": "run1/", "hla_class": 1, "workers": 3, "system_retries": 1}
    key = client.post("/job", json=body, headers=bearer()).json["session_key"]
    for w in client.get(f"/job/{key}").json["workers"]:  # all three taken at once
        services.jobs.lifecycle.mark_lost(key, w["instance_id"], "instance terminated (reclaim wave)")
    job = client.get(f"/job/{key}").json
    assert sorted((w["attempt"], w.get("replaces")) for w in job["workers"])[3:] == [(2, 0), (2, 1), (2, 2)]
    assert job["overall_status"] == "RUNNING"
    again = next(w for w in job["workers"] if w.get("replaces") == 1)  # the same work lost again: spent
    services.jobs.lifecycle.mark_lost(key, again["instance_id"], "instance terminated (second wave)")
    job = client.get(f"/job/{key}").json
    assert len(job["workers"]) == 6 and job["overall_status"] == "FAILED"
    spent = next(w for w in job["workers"] if w.get("replaces") == 1)
    assert (
        spent["status"] == "FAILED" and "no system retries left 1 of 1 used" in spent["reason"]
    )  # as tags carry it


def test_lost_workers_are_relaunched_until_the_budget_is_spent(client, services, config):
    body = {"bucket": LAB, "prefix": "run1/", "hla_class": 1, "workers": 1}
    key = client.post("/job", json=body, headers=bearer()).json["session_key"]
    for attempt in (1, 2, 3):
        job = client.get(f"/job/{key}").json
        (live,) = [w for w in job["workers"] if w["attempt"] == attempt]
        services.jobs.lifecycle.mark_lost(
            key, live["instance_id"], f"instance terminated (attempt {attempt})"
        )
    job = client.get(f"/job/{key}").json
    assert [w["attempt"] for w in job["workers"]] == [1, 2, 3]
    assert [w.get("replaces") for w in job["workers"]] == [None, 0, 1]
    assert job["overall_status"] == "FAILED"
    summary = records.read_summary(services.clients.s3, config.state_bucket, key)
    last = summary["workers"][-1]
    assert last["status"] == "FAILED" and "no system retries left (2 of 2 used)" in last["reason"]
    assert {i["State"]["Name"] for i in instances(services.clients.ec2)} == {"terminated"}
    # The folder is free again: the next job for it is accepted.
    assert client.post("/job", json=body, headers=bearer()).status_code == 201


def test_analysis_failures_are_never_relaunched(client, services, config, pipeline, tmp_path):
    hooks, _ = pipeline

    def fail():
        raise RuntimeError("reads are truncated")

    key = client.post("/job", json=SPOT, headers=bearer()).json["session_key"]
    hooks["S1"] = fail
    worker = _worker(services, config, client, key, 0)
    assert worker.run(tmp_path / "w").value == "FAILED"
    worker.hand_over()
    job = client.get(f"/job/{key}").json
    assert [w["instance_index"] for w in job["workers"]] == [0]
    assert job["overall_status"] == "FAILED"


def test_a_stopped_job_relaunches_nothing(client, services, config, pipeline, tmp_path):
    hooks, _ = pipeline
    key = client.post("/job", json=SPOT, headers=bearer()).json["session_key"]
    worker = _worker(services, config, client, key, 0)
    worker.call_api = lambda path, within_s=0: None  # the interrupted worker's call has not arrived yet
    hooks["S1"] = lambda: worker.interrupt(NOTICE)
    with pytest.raises(Superseded):
        worker.run(tmp_path / "w")
    services.jobs.lifecycle.terminate(key, reason="stopped by lab")
    assert services.jobs.lifecycle.recover(key) == []  # the late call finds the job finished
    job = client.get(f"/job/{key}").json
    assert job["overall_status"] == "STOPPED" and len(job["workers"]) == 1


def test_relaunch_needs_the_jobs_own_token(client, services):
    key = client.post("/job", json=SPOT, headers=bearer()).json["session_key"]
    resp = client.post("/relaunch_instances", json={"session_key": key, "token": "not-the-token"})
    assert resp.status_code == 403 and resp.json["field"] == "token"
    ok = client.post(
        "/relaunch_instances", json={"session_key": key, "token": services.keys.worker_token(key)}
    )
    assert ok.status_code == 200 and len(ok.json["workers"]) == 1  # nothing was lost: nothing relaunched


def test_no_relaunch_past_the_cost_cap(client, services, config):
    # EC2's 60 s minimum at the spot rate already passes a cap of a hundredth of a cent.
    key = client.post("/job", json=dict(SPOT, max_cost_usd=0.0001), headers=bearer()).json["session_key"]
    (worker,) = client.get(f"/job/{key}").json["workers"]
    services.jobs.lifecycle.mark_lost(key, worker["instance_id"], "instance terminated")
    job = client.get(f"/job/{key}").json
    assert [w["instance_index"] for w in job["workers"]] == [0]
    assert job["overall_status"] == "FAILED" and "max_cost_usd" in job["workers"][0]["reason"]


def test_the_sweep_stops_a_job_past_its_cost_cap(client, services, config):
    from app.events import sweep_jobs

    capped = client.post("/job", json=dict(SPOT, max_cost_usd=0.0001), headers=bearer()).json["session_key"]
    free = client.post("/job", json=dict(SPOT, prefix="run1/", hla_class=2), headers=bearer()).json[
        "session_key"
    ]
    sweep_jobs(services.jobs, services.clients.ec2)
    job = client.get(f"/job/{capped}").json
    assert job["overall_status"] == "STOPPED" and "max_cost_usd" in job["workers"][0]["reason"]
    assert client.get(f"/job/{free}").json["overall_status"] == "PENDING"


def test_a_wave_of_relaunch_calls_relaunches_each_worker_once(client, services):
    from concurrent.futures import ThreadPoolExecutor

    from gems.states import WorkerStatus

    body = {"bucket": LAB, "prefix": "run1/", "hla_class": 1, "workers": 3, "capacity": "spot"}
    key = client.post("/job", json=body, headers=bearer()).json["session_key"]
    record = records.read_job(services.clients.s3, services.config.state_bucket, key)
    for plan in record.workers:  # all three reclaimed at once, as a spot wave does
        services.jobs.lifecycle._end_worker(
            key, plan, WorkerStatus.INTERRUPTED, "spot interruption", fail_samples=True
        )
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda _: services.jobs.lifecycle.recover(key), range(8)))
    assert sorted(i for new in got for i in new) == [3, 4, 5]  # each relaunched once, by one of the calls
    job = client.get(f"/job/{key}").json
    assert sorted(w.get("replaces") for w in job["workers"] if w["attempt"] == 2) == [0, 1, 2]


def test_every_worker_gets_its_planned_root_volume_and_its_relaunch_the_same(client, services, config):
    ec2 = services.clients.ec2

    def root_volume(iid: str) -> list[tuple]:
        (inst,) = [i for i in instances(ec2) if i["InstanceId"] == iid]
        vols = ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [iid]}])["Volumes"]
        # the image's own root device, sized as planned (moto's image alone would give 15 GiB)
        return [
            (v["Size"], v["VolumeType"], v["Attachments"][0]["Device"] == inst["RootDeviceName"])
            for v in vols
        ]

    body = {"bucket": LAB, "prefix": "run1/", "hla_class": 1, "workers": 1}
    key = client.post("/job", json=body, headers=bearer()).json["session_key"]
    first = client.get(f"/job/{key}").json["workers"][0]["instance_id"]
    assert root_volume(first) == [(30, "gp3", True)]
    services.jobs.lifecycle.mark_lost(key, first, "instance terminated")
    job = records.read_job(services.clients.s3, config.state_bucket, key)
    assert [w.volume for w in job.workers] == [{"gib": 30, "throughput_mbps": None, "iops": None}] * 2
    assert root_volume(job.workers[1].instance_id) == [(30, "gp3", True)]
    cost = client.get(f"/job/{key}", headers=bearer()).json["cost"]  # each attempt's volume is billed
    assert [r["volume_gib"] for r in cost["by_worker"]] == [30, 30] and cost["volumes_usd"] > 0
