"""The failed-key throttle cannot be turned against others (issue 31, item 3): wrong keys from an
address are limited, but a right key, an admin key and a job's worker token from that same
address are always served; a worker's last calls outlast a throttled window."""

from __future__ import annotations

import io
import urllib.error

import pytest
from security_helpers import LAB, bearer

from app import limits
from workers.program.api_call import post_job_call

WRONG = {"Authorization": "Bearer not-a-key"}


def _flood(client, n: int = limits.KEY_FAILURES + 5) -> None:
    answers = [client.get("/job/x/logs", headers=WRONG).status_code for _ in range(n)]
    assert answers[: limits.KEY_FAILURES] == [401] * limits.KEY_FAILURES
    assert set(answers[limits.KEY_FAILURES :]) == {429}


def test_wrong_keys_from_one_address_do_not_lock_out_right_keys_behind_it(client):
    job = client.post(
        "/job", json={"bucket": LAB, "prefix": "run1/", "hla_class": 1}, headers=bearer("alice")
    )
    assert job.status_code == 201
    key = job.json["session_key"]
    _flood(client)
    assert client.get(f"/job/{key}/logs", headers=bearer("alice")).status_code == 200
    assert client.get(f"/job/{key}/logs", headers=bearer("carol")).status_code == 200  # the admin
    assert client.post("/job", json={}, headers=bearer("bob")).status_code == 400  # heard, not 429
    assert client.get("/job/x/logs", headers=WRONG).status_code == 429  # wrong keys still are not


def test_a_workers_token_is_served_during_an_attack_on_user_keys(client, services):
    job = client.post(
        "/job", json={"bucket": LAB, "prefix": "run1/", "hla_class": 1}, headers=bearer("alice")
    )
    key = job.json["session_key"]
    token = services.keys.worker_token(key)
    _flood(client)
    for path in ("/status_changed", "/stop_instances"):
        resp = client.post(path, json={"session_key": key, "token": token})
        assert resp.status_code == 200, (path, resp.json)
    # A wrong job token counts like a wrong key: refused, then throttled.
    wrong = client.post("/stop_instances", json={"session_key": key, "token": "0" * 64})
    assert wrong.status_code == 429 and wrong.json["field"] == "token"


class _Answers:
    """urlopen's stand-in: each call takes the next answer (an int: that HTTP error; 200: ok)."""

    def __init__(self, *answers, retry_after: str | None = None):
        self.answers, self.retry_after, self.calls = list(answers), retry_after, 0

    def __call__(self, req, timeout):
        self.calls += 1
        code = self.answers.pop(0)
        if code == 200:
            return io.BytesIO(b"{}")
        headers = {"Retry-After": self.retry_after} if self.retry_after else {}
        raise urllib.error.HTTPError(req.full_url, code, "x", headers, io.BytesIO(b"{}"))  # type: ignore[arg-type]


def _call(opener, within_s: float):
    now, waits = [0.0], []

    def sleep(s):
        waits.append(s)
        now[0] += s

    ok = post_job_call(
        "http://api/stop_instances",
        "k",
        "t",
        within_s=within_s,
        sleep=sleep,
        clock=lambda: now[0],
        opener=opener,
    )
    return ok, waits


def test_a_workers_stop_call_waits_out_a_throttled_window():
    # Six 429s of a 60 s window (what a worker behind a throttled NAT address met before).
    opener = _Answers(429, 429, 429, 429, 429, 429, 200, retry_after="60")
    ok, waits = _call(opener, within_s=600)
    assert ok and opener.calls == 7
    assert all(w >= 60 for w in waits)  # Retry-After honoured
    assert sum(waits) <= 600


def test_a_workers_call_backs_off_then_gives_up_on_time():
    opener = _Answers(*([503] * 100))
    ok, waits = _call(opener, within_s=120)
    assert not ok and sum(waits) <= 120 and max(waits) <= 30
    assert waits[:3] == [1.0, 2.0, 4.0]


@pytest.mark.parametrize("code", [400, 401, 403, 404])
def test_an_answer_no_retry_can_change_ends_the_tries(code):
    opener = _Answers(code, 200)
    ok, waits = _call(opener, within_s=600)
    assert not ok and opener.calls == 1 and waits == []
