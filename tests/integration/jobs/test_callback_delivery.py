"""Signed callbacks against moto: the secret answered once and stored nowhere, a signed POST of
the job's JSON on each status change and once at the end, failed deliveries tried again by the
sweep with the same id and body, given up after the bounded time, and bad URLs refused."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from jobhelpers import LAB, bearer, instances, state_snapshot
from motostack import use_pipeline

from app.events import sweep_jobs
from gems import records
from gems.callbacks.webhook import Sent
from workers.program.worker import Worker

HOOK = "https://hooks.lab.example.org/gems/T0KEN"
JOB = {"bucket": LAB, "prefix": "run1/", "hla_class": 1, "workers": 1, "callback_url": HOOK}


class Receiver:
    """Stands in for the lab's endpoint: records each POST, answers what `answers` says."""

    def __init__(self):
        self.got: list[dict] = []
        self.answers: list[Sent] = []

    def __call__(self, url, body, headers, *, embedded, own_ports=frozenset()):
        self.got.append({"url": url, "body": body, "headers": headers})
        return self.answers.pop(0) if self.answers else Sent(204)

    def verified(self, secret: str) -> list[tuple[str, str]]:
        out = []
        for got in self.got:
            mac = hmac.new(secret.encode(), got["body"], hashlib.sha256).hexdigest()
            assert hmac.compare_digest(got["headers"]["X-Gems-Signature"], f"sha256={mac}")
            job = json.loads(got["body"])
            assert "callback" not in job and "callback_secret" not in job
            assert got["headers"]["X-Gems-Event"] in ("status", "finished")
            out.append((got["headers"]["X-Gems-Event"], job["overall_status"]))
        return out


@pytest.fixture
def receiver(services):
    r = Receiver()
    services.jobs.callbacks.send = r
    return r


@pytest.fixture
def clock(services):
    now = [datetime.now(UTC)]
    services.jobs.callbacks.clock = lambda: now[0]
    return now


@pytest.fixture
def pipeline(monkeypatch):
    def run_sample(sample, r1, r2, out, options, on_progress=None):
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.json").write_text(json.dumps({"sample": sample}))
        return {"sample": sample}

    use_pipeline(monkeypatch, run_sample)


def _run_worker(services, config, client, key, tmp_path):
    job = client.get(f"/job/{key}").json
    iid = job["workers"][0]["instance_id"]
    w = Worker(config, services.clients, key, 0, services.keys.worker_token(key), iid)
    w.call_api = lambda path, within_s=0: client.post(path, json={"session_key": key, "token": w.token})
    w.run(tmp_path)
    w.hand_over()


def test_the_secret_is_answered_once_and_stored_nowhere(client, services):
    answer = client.post("/job", json=JOB, headers=bearer() | {"Idempotency-Key": "cb-1"})
    assert answer.status_code == 201
    key, secret = answer.json["session_key"], answer.json["callback_secret"]
    assert secret == services.keys.callback_secret(key) != services.keys.worker_token(key)
    again = client.post("/job", json=JOB, headers=bearer() | {"Idempotency-Key": "cb-1"})
    assert again.status_code == 200 and "callback_secret" not in again.json
    shown = client.get(f"/job/{key}").json
    assert "callback_secret" not in shown
    assert shown["callback"] == {
        "url": "https://hooks.lab.example.org/…",
        "pending": 0,
        "delivered": 0,
        "given_up": 0,
        "last_delivery": None,
    }
    s3 = services.clients.s3
    for obj in s3.list_objects_v2(Bucket=services.config.state_bucket)["Contents"]:
        body = s3.get_object(Bucket=services.config.state_bucket, Key=obj["Key"])["Body"].read()
        assert secret.encode() not in body
    (inst,) = instances(services.clients.ec2)
    user_data = services.clients.ec2.describe_instance_attribute(
        InstanceId=inst["InstanceId"], Attribute="userData"
    )["UserData"]["Value"]
    assert secret not in user_data  # the workers never hold it


def test_a_run_is_posted_signed_when_it_starts_and_when_it_ends(
    client, services, config, receiver, pipeline, tmp_path
):
    answer = client.post("/job", json=JOB, headers=bearer()).json
    key, secret = answer["session_key"], answer["callback_secret"]
    _run_worker(services, config, client, key, tmp_path)
    assert receiver.verified(secret) == [("status", "RUNNING"), ("finished", "COMPLETE")]
    assert all(g["url"] == HOOK for g in receiver.got)
    ids = [g["headers"]["X-Gems-Delivery"] for g in receiver.got]
    assert len(set(ids)) == 2
    final = json.loads(receiver.got[-1]["body"])
    assert final["session_key"] == key and final["cost"]["usd"] >= 0
    view = client.get(f"/job/{key}").json["callback"]
    assert view["delivered"] == 2 and view["pending"] == 0
    assert view["last_delivery"]["outcome"] == "delivered"
    assert view["last_delivery"]["event"] == "finished" and view["last_delivery"]["http_status"] == 204
    sweep_jobs(services.jobs, services.clients.ec2)  # nothing more is owed or sent
    assert len(receiver.got) == 2


def test_a_failed_delivery_is_tried_again_by_the_sweep_with_the_same_id_and_body(
    client, services, config, receiver, clock, pipeline, tmp_path
):
    receiver.answers = [Sent(None, "could not connect"), Sent(503, "HTTP 503")]
    key = client.post("/job", json=JOB, headers=bearer()).json["session_key"]
    _run_worker(services, config, client, key, tmp_path)
    assert len(receiver.got) == 1  # RUNNING failed; COMPLETE waits behind it, in order
    last = client.get(f"/job/{key}").json["callback"]
    assert last["pending"] == 2 and last["last_delivery"]["outcome"] == "retrying"
    assert last["last_delivery"]["error"] == "could not connect"
    assert key in services.jobs.callbacks.owed()
    sweep_jobs(services.jobs, services.clients.ec2)  # before the backoff: nothing
    assert len(receiver.got) == 1
    clock[0] += timedelta(seconds=11)
    sweep_jobs(services.jobs, services.clients.ec2)  # 503 again
    clock[0] += timedelta(seconds=31)
    sweep_jobs(services.jobs, services.clients.ec2)  # delivered, and the finished one after it
    first, again, third, final = receiver.got
    assert first["body"] == again["body"] == third["body"]
    assert len({g["headers"]["X-Gems-Delivery"] for g in (first, again, third)}) == 1
    assert json.loads(final["body"])["overall_status"] == "COMPLETE"
    view = client.get(f"/job/{key}").json["callback"]
    assert view["pending"] == 0 and view["delivered"] == 2
    assert key not in services.jobs.callbacks.owed()


def test_a_receiver_down_for_good_is_given_up_after_the_bounded_time(
    client, services, config, receiver, clock, pipeline, tmp_path
):
    services.jobs.callbacks.config = services.config.with_(callback_retry_s=120)
    receiver.answers = [Sent(500, "HTTP 500")] * 50
    key = client.post("/job", json=JOB, headers=bearer()).json["session_key"]
    _run_worker(services, config, client, key, tmp_path)
    for _ in range(12):
        clock[0] += timedelta(seconds=60)
        sweep_jobs(services.jobs, services.clients.ec2)
    view = client.get(f"/job/{key}").json["callback"]
    assert view["pending"] == 0 and view["given_up"] == 2 and view["delivered"] == 0
    assert view["last_delivery"]["outcome"] == "gave_up"
    assert key not in services.jobs.callbacks.owed()
    tries = len(receiver.got)
    sweep_jobs(services.jobs, services.clients.ec2)
    assert len(receiver.got) == tries


def test_a_user_stop_is_posted_as_the_end(client, services, receiver):
    answer = client.post("/job", json=JOB, headers=bearer()).json
    key = answer["session_key"]
    assert client.post(f"/job/{key}/stop", headers=bearer()).status_code == 200
    assert receiver.verified(answer["callback_secret"]) == [("finished", "STOPPED")]


def test_a_job_without_a_callback_sends_nothing(client, services, receiver):
    job = dict(JOB)
    del job["callback_url"]
    key = client.post("/job", json=job, headers=bearer()).json["session_key"]
    client.post(f"/job/{key}/stop", headers=bearer())
    assert receiver.got == [] and "callback" not in client.get(f"/job/{key}").json


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.lab.example.org/",
        "file:///etc/passwd",
        "https://169.254.169.254/latest/meta-data/iam/",
        "https://[fe80::1]/",
        "https://127.0.0.1/",
        "https://user:pw@hooks.lab.example.org/",
        "not a url",
        "",
    ],
)
def test_bad_callback_urls_are_refused_before_anything_is_launched(client, services, url):
    before = state_snapshot(services.clients.s3, services.config.state_bucket)
    answer = client.post("/job", json=dict(JOB, callback_url=url), headers=bearer())
    assert answer.status_code == 400
    assert answer.json["field"] == "callback_url"
    assert instances(services.clients.ec2) == []
    assert state_snapshot(services.clients.s3, services.config.state_bucket) == before


def test_only_the_jobs_own_workers_may_ask_for_a_check(client, services):
    key = client.post("/job", json=JOB, headers=bearer()).json["session_key"]
    wrong = client.post("/status_changed", json={"session_key": key, "token": "0" * 64})
    assert wrong.status_code == 403
    right = client.post(
        "/status_changed", json={"session_key": key, "token": services.keys.worker_token(key)}
    )
    assert right.status_code == 200 and right.json["session_key"] == key


def test_tes_tasks_carry_a_callback_in_their_tags(client, services, receiver):
    task = {
        "inputs": [
            {"url": f"s3://{LAB}/run1/S1_S1_L001_R1_001.fastq.gz"},
            {"url": f"s3://{LAB}/run1/S1_S1_L001_R2_001.fastq.gz"},
        ],
        "executors": [{"image": "gems-worker", "command": ["gems"]}],
        "tags": {"hla_class": "1", "callback_url": HOOK},
    }
    made = client.post("/ga4gh/tes/v1/tasks", json=task, headers=bearer())
    assert made.status_code == 200, made.json
    key, secret = made.json["id"], made.json["callback_secret"]
    assert secret == services.keys.callback_secret(key)
    record = records.read_job(services.clients.s3, services.config.state_bucket, key)
    assert record.callback_url == HOOK
    shown = client.get(f"/ga4gh/tes/v1/tasks/{key}?view=FULL", headers=bearer()).json
    assert shown["tags"]["callback_url"] == "https://hooks.lab.example.org/…"  # never its token
    bad = client.post(
        "/ga4gh/tes/v1/tasks",
        json=dict(task, tags={"hla_class": "1", "callback_url": "ftp://x/"}),
        headers=bearer(),
    )
    assert bad.status_code == 400 and bad.json["field"] == "tags.callback_url"
