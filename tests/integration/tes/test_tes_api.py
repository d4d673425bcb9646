"""The TES v1.1 facade on moto: create/get/list/cancel, views, paging, state mapping, errors."""

from __future__ import annotations

from teshelpers import TES_LAB

from gems import records
from gems.aws import s3 as S3
from gems.states import WorkerStatus
from gems.status import new_worker_record, record_status

BASE = "/ga4gh/tes/v1"


def task_body(samples=("S1", "S2"), **extra) -> dict:
    inputs = [
        {"url": f"s3://{TES_LAB}/run1/{s}_S{s[1]}_L001_R{m}_001.fastq.gz", "path": f"/in/{s}_R{m}.fq.gz"}
        for s in samples
        for m in (1, 2)
    ]
    body = {
        "name": "hla typing run1",
        "inputs": inputs,
        "outputs": [{"url": f"s3://{TES_LAB}/out/", "path": "/out", "type": "DIRECTORY"}],
        "executors": [
            {"image": "ubuntu:22.04", "command": ["gems", "run-sample"], "env": {"HLA_CLASS": "1"}}
        ],
        "tags": {"project": "p1"},
    }
    body.update(extra)
    return body


def create(client, auth_header, **kw) -> str:
    resp = client.post(f"{BASE}/tasks", json=task_body(**kw), headers=auth_header)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["id"]


def test_service_info_names_tes_1_1(tes_client):
    info = tes_client.get(f"{BASE}/service-info").get_json()
    assert info["type"] == {"group": "org.ga4gh", "artifact": "tes", "version": "1.1.0"}
    assert info["storage"] == ["s3://gems-test-state"]


def test_create_maps_inputs_onto_a_job_of_those_samples(tes_client, tes_services, auth_header):
    task_id = create(tes_client, auth_header)
    job = tes_services.jobs.get(task_id)
    assert (job["bucket"], job["prefix"], job["hla_class"]) == (TES_LAB, "run1/", 1)
    assert sorted(s for w in job["workers"] for s in w["samples"]) == ["S1", "S2"]
    minimal = tes_client.get(f"{BASE}/tasks/{task_id}").get_json()
    assert minimal == {"id": task_id, "state": "QUEUED"}
    basic = tes_client.get(f"{BASE}/tasks/{task_id}?view=BASIC").get_json()
    assert basic["name"] == "hla typing run1"
    assert basic["executors"][0]["image"] == "ubuntu:22.04"  # recorded, shown back
    assert basic["tags"] == {"project": "p1"}  # the client's tags, nothing added
    assert basic["logs"][0]["metadata"]["results"] == f"s3://{TES_LAB}/run1/results/{task_id}/"
    assert basic["logs"][0]["logs"] == []  # no executor log (TES requires its exit_code) until a worker ends


def test_a_directory_input_takes_every_pair_and_tags_set_the_class(tes_client, tes_services, auth_header):
    body = {
        "inputs": [{"url": f"s3://{TES_LAB}/run1/", "type": "DIRECTORY"}],
        "executors": [{"image": "x", "command": ["y"]}],
        "tags": {"hla_class": "2"},
    }
    resp = tes_client.post(f"{BASE}/tasks", json=body, headers=auth_header)
    assert resp.status_code == 200, resp.get_json()
    job = tes_services.jobs.get(resp.get_json()["id"])
    assert job["hla_class"] == 2
    assert sorted(s for w in job["workers"] for s in w["samples"]) == ["S1", "S2", "S3"]


def test_bad_tasks_get_a_400_naming_the_field_and_leave_nothing(tes_client, tes_services, auth_header):
    cases = [
        ({"executors": [{"image": "x", "command": ["y"]}]}, "inputs"),
        (task_body(inputs=[{"url": "https://example.org/a_R1.fastq.gz"}]), "inputs.0.url"),
        (task_body(executors=[{"image": "x", "command": ["y"]}]), "tags.hla_class"),
        (task_body(tags={"hla_class": "3"}), "tags.hla_class"),
        (
            task_body(resources={"backend_parameters": {"x": "1"}, "backend_parameters_strict": True}),
            "resources.backend_parameters",
        ),
        (task_body(inputs=[{"url": f"s3://{TES_LAB}/run1/S1_S1_L001_R1_001.fastq.gz"}]), "prefix"),
        (dict(task_body(), bogus=1), "bogus"),
    ]
    for body, field in cases:
        resp = tes_client.post(f"{BASE}/tasks", json=body, headers=auth_header)
        assert resp.status_code == 400, (field, resp.get_json())
        assert resp.get_json()["field"] == field
    keys = [o["Key"] for o in S3.list_keys(tes_services.clients.s3, tes_services.config.state_bucket, "")]
    assert not [k for k in keys if k.startswith(("tes/", "jobs/"))], keys


def test_create_needs_an_api_key(tes_client):
    assert tes_client.post(f"{BASE}/tasks", json=task_body()).status_code == 401


def test_list_pages_through_every_task_once(tes_client, tes_services, auth_header):
    ids = set()
    for sample in ("S1", "S2", "S3"):  # one running job per folder: cancel each to free the lock
        task_id = create(tes_client, auth_header, samples=(sample,))
        tes_client.post(f"{BASE}/tasks/{task_id}:cancel", headers=auth_header)
        ids.add(task_id)
    seen, token = [], None
    while True:
        url = f"{BASE}/tasks?page_size=2" + (f"&page_token={token}" if token else "")
        page = tes_client.get(url).get_json()
        assert len(page["tasks"]) <= 2
        seen += [t["id"] for t in page["tasks"]]
        token = page.get("next_page_token")
        if not token:
            break
    assert sorted(seen) == sorted(ids)
    named = tes_client.get(f"{BASE}/tasks?name_prefix=hla&view=BASIC").get_json()["tasks"]
    assert {t["id"] for t in named} == ids and all(t["name"].startswith("hla") for t in named)
    assert tes_client.get(f"{BASE}/tasks?name_prefix=zzz").get_json() == {"tasks": []}
    assert tes_client.get(f"{BASE}/tasks?page_token=%%%").status_code == 400
    assert tes_client.get(f"{BASE}/tasks?view=EVERYTHING").status_code == 400


def test_cancel_ends_canceled_and_full_view_has_logs(tes_client, tes_services, auth_header):
    task_id = create(tes_client, auth_header)
    resp = tes_client.post(f"{BASE}/tasks/{task_id}:cancel", headers=auth_header)
    assert resp.status_code == 200 and resp.get_json() == {}
    full = tes_client.get(f"{BASE}/tasks/{task_id}?view=FULL", headers=auth_header).get_json()
    assert full["state"] == "CANCELED"
    assert [log["exit_code"] for log in full["logs"][0]["logs"]] == [143]
    assert "stdout" in full["logs"][0]["logs"][0]
    assert any("canceled through TES by alice" in line for line in full["logs"][0]["system_logs"])
    again = tes_client.post(f"{BASE}/tasks/{task_id}:cancel", headers=auth_header)
    assert again.status_code == 200  # idempotent
    assert tes_client.post(f"{BASE}/tasks/nope:cancel", headers=auth_header).status_code == 404
    assert tes_client.get(f"{BASE}/tasks/nope").status_code == 404


def test_state_follows_the_workers_records(tes_client, tes_services, auth_header):
    task_id = create(tes_client, auth_header, samples=("S1",))
    svc = tes_services
    job = records.read_job(svc.clients.s3, svc.config.state_bucket, task_id)
    plan = job.workers[0]
    rec = new_worker_record(task_id, 0, plan.instance_id, plan.samples)
    kw = dict(state_bucket=svc.config.state_bucket, record=rec)
    record_status(svc.clients.ec2, svc.clients.s3, status=WorkerStatus.RUNNING, step="S1: fetch", **kw)
    assert tes_client.get(f"{BASE}/tasks/{task_id}").get_json()["state"] == "INITIALIZING"
    record_status(svc.clients.ec2, svc.clients.s3, step="S1: align 10%", **kw)
    assert tes_client.get(f"{BASE}/tasks/{task_id}").get_json()["state"] == "RUNNING"
    record_status(svc.clients.ec2, svc.clients.s3, status=WorkerStatus.FAILED, reason="S1: bad reads", **kw)
    assert tes_client.get(f"{BASE}/tasks/{task_id}").get_json()["state"] == "EXECUTOR_ERROR"
    state = tes_client.get(f"{BASE}/tasks?state=EXECUTOR_ERROR").get_json()["tasks"]
    assert [t["id"] for t in state] == [task_id]
