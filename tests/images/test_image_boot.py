"""`gems up --image gems-worker`: each instance of a job is a container of the worker image (a
custom AMI's stand-in) running its real user-data against the embedded stack's moto, API and
metadata service. Provisioning finds the worker in the image and installs nothing; the job
completes; a stopped job's container is ended with its instance."""

from __future__ import annotations

import time

import pytest
from e2e_helpers import ENDED, RunningStack, stack_home, states_once_ended, wait_finished  # noqa: F401 - stack_home is a fixture
from test_images import images, podman  # noqa: F401 - images is the session fixture that builds them

from embedded.seed import demo_job, one_sample_job

pytestmark = pytest.mark.slow
ONE_SAMPLE = one_sample_job()


def _containers(env, iid: str) -> str:
    return podman(env, "ps", "-a", "--filter", f"name=gems-{iid}", "--format", "{{.Names}}").stdout.strip()


def _gone(env, iid: str, within_s: float = 60) -> bool:
    """The instance's container ends when it powers off or is terminated (the runner polls)."""
    deadline = time.monotonic() + within_s
    while _containers(env, iid) and time.monotonic() < deadline:
        time.sleep(0.5)
    return _containers(env, iid) == ""


def _stack(home, env) -> RunningStack:
    return RunningStack(home, image="gems-worker", extra_env={"CONTAINERS_CONF": env["CONTAINERS_CONF"]})


def test_a_job_runs_on_instances_booted_from_the_worker_image(images, stack_home):  # noqa: F811
    stack = _stack(stack_home, images).start()
    try:
        status, job = stack.api.submit(ONE_SAMPLE)
        assert status == 201
        job = wait_finished(stack.api, job["session_key"], timeout_s=600)
        assert job["overall_status"] == "COMPLETE", job
        iid = job["workers"][0]["instance_id"]
        console = (stack_home / "instances" / iid / "console.log").read_text()
        # The image is the machine: nothing installed at boot, its own venv, its role's credentials.
        assert "installing the gems worker" not in console and "creating" not in console, console[-2000:]
        assert f"instance {iid}: AWS credentials from iam-role" in console
        # It ends by powering off or by its fleet being stopped, whichever comes first (as on EC2).
        assert states_once_ended(stack) <= ENDED
        assert _gone(images, iid)
    finally:
        stack.stop()


def test_stopping_the_job_ends_its_containers(images, stack_home):  # noqa: F811
    stack = _stack(stack_home, images).start()
    try:
        status, job = stack.api.submit(dict(demo_job(), workers=1, samples=["NA12878", "HG002"]))
        key = job["session_key"]
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            worker = stack.api.job(key)["workers"][0]
            if worker["status"] == "RUNNING" and worker.get("step"):
                break
            time.sleep(0.5)
        iid = worker["instance_id"]
        assert _containers(images, iid) == f"gems-{iid}"
        stack.api.request("POST", f"/job/{key}/stop")
        job = wait_finished(stack.api, key, timeout_s=120)
        assert job["overall_status"] == "STOPPED", job
        assert _gone(images, iid)
        assert states_once_ended(stack) <= ENDED
    finally:
        stack.stop()
