"""`gems up --cold`: instances boot as fresh EC2 machines (an empty folder for a disk, only the
user-data's environment, the worker installed by pip from the wheel the stack published) and
power themselves off; a job completes that way, and a provisioning failure ends FAILED with the
instance terminated, never RUNNING with a machine left up."""

from __future__ import annotations

import pytest
from e2e_helpers import ENDED, RunningStack, states_once_ended, wait_finished

from embedded.seed import one_sample_job

pytestmark = pytest.mark.slow
ONE_SAMPLE = one_sample_job()


def test_a_cold_instance_provisions_from_the_published_wheel_and_completes(stack_home):
    stack = RunningStack(stack_home, cold=True).start()
    try:
        status, job = stack.api.submit(ONE_SAMPLE)
        assert status == 201
        job = wait_finished(stack.api, job["session_key"], timeout_s=900)
        assert job["overall_status"] == "COMPLETE", job
        iid = job["workers"][0]["instance_id"]
        console = (stack_home / "instances" / iid / "console.log").read_text()
        assert "creating" in console and "/opt/gems/venv" in console  # its own venv, on its own disk
        assert "installing the gems worker from http://127.0.0.1" in console and "X-Amz" not in console
        # Its identity and its role's credentials came from its metadata service, as on EC2.
        assert f"instance {iid}: AWS credentials from iam-role" in console
        user_data = (stack_home / "instances" / iid / "user-data.sh").read_text()
        exported = user_data.split("# --- gems worker provisioning")[0]
        assert "GEMS_PYTHON" not in exported and "AWS_ACCESS_KEY_ID" not in exported
        wheels = stack.client("s3").list_objects_v2(Bucket="gems-state", Prefix="dist/")["Contents"]
        assert [o["Key"] for o in wheels] == ["dist/gems-0.1.0-py3-none-any.whl"]
        assert states_once_ended(stack) <= ENDED
    finally:
        stack.stop()


def test_a_cold_instance_whose_wheel_does_not_answer_fails_and_is_terminated(stack_home):
    bad = {"GEMS_WORKER_SOURCE": "http://127.0.0.1:9/gems-0.1.0-py3-none-any.whl"}
    stack = RunningStack(stack_home, cold=True, extra_env=bad).start()
    try:
        status, job = stack.api.submit(ONE_SAMPLE)
        assert status == 201
        job = wait_finished(stack.api, job["session_key"], timeout_s=600)
        assert job["overall_status"] == "FAILED"
        assert "exited with code" in job["workers"][0]["reason"]
        # Lost to the platform, not to the analysis: relaunched twice (the default budget), then FAILED.
        assert [w["attempt"] for w in job["workers"]] == [1, 2, 3]
        assert "no system retries left" in job["workers"][-1]["reason"]
        iid = job["workers"][0]["instance_id"]
        console = (stack_home / "instances" / iid / "console.log").read_text()
        assert "shutdown -h now: powering off" in console
        assert states_once_ended(stack) <= ENDED
    finally:
        stack.stop()
