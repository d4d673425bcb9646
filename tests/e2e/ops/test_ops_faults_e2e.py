"""Faults on the embedded stack: duplicate submissions, instances terminated behind the job's
back, and the API restarted while a job runs."""

from __future__ import annotations

import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from e2e_helpers import wait_finished, wait_terminated

from embedded.seed import DEMO_BUCKET, demo_job
from embedded.stack import Stack, StackOptions
from gems import tags
from gems.api_client import ApiClient, ApiError

pytestmark = pytest.mark.slow


def fleet(stack, session_key: str) -> list[str]:
    ec2 = stack.client("ec2")
    filters = [{"Name": f"tag:{tags.SESSION}", "Values": [session_key]}]
    return [
        i["InstanceId"]
        for r in ec2.describe_instances(Filters=filters)["Reservations"]
        for i in r["Instances"]
    ]


def all_instances(stack) -> list[dict]:
    return [i for r in stack.client("ec2").describe_instances()["Reservations"] for i in r["Instances"]]


def submit_quietly(api: ApiClient, body: dict, key: str | None) -> tuple[int, dict]:
    try:
        return api.submit(body, idempotency_key=key)
    except ApiError as exc:
        return exc.status, exc.details


def test_twenty_concurrent_duplicates_make_one_fleet(stack):
    body = dict(demo_job(), workers=1, samples=["NA12878"])
    with ThreadPoolExecutor(20) as pool:
        same_key = list(pool.map(lambda _: submit_quietly(stack.api, body, "dup-1"), range(20)))
    assert sorted(s for s, _ in same_key) == [200] * 19 + [201], same_key
    keys = {j["session_key"] for _, j in same_key}
    assert len(keys) == 1
    (key,) = keys
    assert len(fleet(stack, key)) == 1
    stack.api.request("POST", f"/job/{key}/stop")

    other = dict(demo_job(), workers=1, samples=["HG002"], hla_class=2)  # the first job's lock may linger
    with ThreadPoolExecutor(20) as pool:
        no_key = list(pool.map(lambda _: submit_quietly(stack.api, other, None), range(20)))
    created = [j for s, j in no_key if s == 201]
    assert len(created) == 1 and sorted(s for s, _ in no_key) == [201] + [409] * 19, no_key
    assert {j["details"]["session_key"] for s, j in no_key if s == 409} == {created[0]["session_key"]}
    assert len(fleet(stack, created[0]["session_key"])) == 1
    assert len(all_instances(stack)) == 2  # two fleets of one, from forty requests
    stack.api.request("POST", f"/job/{created[0]['session_key']}/stop")


def test_terminated_instances_leave_the_record_and_finished_results(stack):
    status, job = stack.api.submit(dict(demo_job(), workers=2, samples=["NA12878", "HG002"]))
    key = job["session_key"]
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        detail = stack.api.job(key)
        done = {s: st for w in detail["workers"] for s, st in (w.get("sample_status") or {}).items()}
        if done.get("NA12878", {}).get("status") == "COMPLETE":
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"NA12878 never completed: {stack.api.job(key)}")
    ec2 = stack.client("ec2")
    ec2.terminate_instances(InstanceIds=fleet(stack, key))  # behind the job's back
    # The runner sees the instances end (the sweep would, on AWS): a worker cut off is LOST, with
    # a reason, and what it left is relaunched; what had finished stays finished.
    job = wait_finished(stack.api, key, timeout_s=300)
    assert job["overall_status"] == "COMPLETE", job
    by_sample = {}
    for w in job["workers"]:  # in index order: a relaunch's record comes after the one it replaces
        by_sample.update(w.get("sample_status") or {})
    assert by_sample["NA12878"]["status"] == by_sample["HG002"]["status"] == "COMPLETE"
    for w in job["workers"]:
        if w["status"] == "LOST":
            assert w["reason"] and any(x.get("replaces") == w["instance_index"] for x in job["workers"])
    results = stack.api.results(key)["samples"]
    assert {"report.json", "sample.bam", "variants.vcf.gz"} <= {f["name"] for f in results["NA12878"]}
    s3 = stack.client("s3")
    state = {o["Key"] for o in s3.list_objects_v2(Bucket="gems-state", Prefix=f"jobs/{key}/")["Contents"]}
    assert {f"jobs/{key}/job.json", f"jobs/{key}/workers/0.json", f"jobs/{key}/workers/1.json"} <= state
    assert s3.head_object(Bucket=DEMO_BUCKET, Key=f"demo/results/{key}/NA12878/report.json")


@pytest.fixture
def inprocess_stack(tmp_path):
    """The stack in this process, so the test can restart its API; the environment is restored."""
    saved_env, root = dict(os.environ), logging.getLogger()
    saved_handlers = list(root.handlers)
    stack = Stack(
        StackOptions(home=tmp_path / "gems", port=0, moto_port=0, model_port=0, persist=False, model=False)
    )
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved_env)
        root.handlers[:] = saved_handlers


def test_api_restarted_mid_job_and_the_job_still_completes(inprocess_stack):
    stack = inprocess_stack
    api = ApiClient(stack.api_url, stack.api_key, timeout=30)
    status, job = api.submit(dict(demo_job(), workers=1, samples=["NA12878"]))
    key = job["session_key"]
    deadline = time.monotonic() + 300
    while api.job(key)["workers"][0]["status"] != "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.3)
    step_before = api.job(key)["workers"][0]["step"]
    stack.restart_api(down_s=5)  # the API is gone for 5 s; a fresh app (cold caches) comes back
    job = wait_finished(api, key, timeout_s=600)
    assert job["overall_status"] == "COMPLETE", job
    assert job["workers"][0]["step"] != step_before
    # The worker's hand-over (POST /stop_instances, retried) reached the restarted API.
    assert wait_terminated(stack.runner.ec2) == {"terminated"}
