"""Spot interruption end to end on the embedded stack: a spot worker running real reads gets
EC2's two-minute notice (`gems interrupt`), records what it finished and what it leaves, and
stops; the service relaunches the rest as attempt 2, and the job completes with both attempts'
records and logs."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from e2e_helpers import ENDED, RunningStack, states_once_ended, wait_finished

from embedded.seed import demo_job

pytestmark = pytest.mark.slow


def _gems(stack: RunningStack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gems.cli.main", *args],
        env=stack.env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _first_sample_done(stack: RunningStack, key: str, timeout_s: float = 300) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        (worker,) = stack.api.job(key)["workers"]
        states = [st["status"] for st in (worker.get("sample_status") or {}).values()]
        if "COMPLETE" in states:
            return worker
        time.sleep(0.3)
    raise AssertionError(f"no sample completed: {stack.api.job(key)}")


def test_an_interrupted_spot_worker_is_relaunched_and_the_job_completes(stack_home):
    stack = RunningStack(stack_home, extra_env={"GEMS_SPOT_POLL_S": "0.5"}).start()
    try:
        body = dict(demo_job(), workers=1, capacity="spot")
        status, job = stack.api.submit(body)
        assert status == 201, job
        key = job["session_key"]
        worker = _first_sample_done(stack, key)
        assert worker["capacity"] == "spot"
        refused = _gems(stack, "interrupt", "i-0123456789abcdef0")
        assert refused.returncode == 1 and "not a running gems worker" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
        given = _gems(stack, "interrupt", worker["instance_id"], "--in", "20")
        assert given.returncode == 0, given.stderr
        job = wait_finished(stack.api, key, timeout_s=600)
        assert job["overall_status"] == "COMPLETE", job
        first, second = job["workers"]
        assert (first["status"], first["attempt"]) == ("INTERRUPTED", 1)
        assert "spot interruption notice" in first["reason"]
        assert (second["status"], second["attempt"], second["replaces"]) == ("COMPLETE", 2, 0)
        done_first = {s for s, st in first["sample_status"].items() if st["status"] == "COMPLETE"}
        left = {s for s, st in first["sample_status"].items() if st["status"] == "INTERRUPTED"}
        assert done_first and left and set(second["samples"]) == left
        results = stack.api.results(key)["samples"]
        assert set(results) == set(first["samples"])  # every sample's results, once
        logs = stack.api.request("GET", f"/job/{key}/logs")[1]["workers"]
        assert "spot interruption notice" in logs["0"] and logs["1"]
        assert states_once_ended(stack) <= ENDED
    finally:
        stack.stop()


def test_interrupt_refuses_a_bad_instance_id_without_a_stack(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEMS_")}
    env["GEMS_HOME"] = str(tmp_path)
    for args, says in (
        (["not-an-id"], "not an EC2 instance id"),
        (["i-0123456789abcdef0", "--wait", "1"], "no running embedded stack"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "gems.cli.main", "interrupt", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 1 and says in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
