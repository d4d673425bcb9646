"""End-to-end helpers: the embedded stack as a user runs it (`gems up` in its own process)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from gems.api_client import ApiClient
from gems.errors import GemsError
from gems.jobs.jobview import is_settled


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningStack:
    def __init__(
        self,
        home: Path,
        model: bool = False,
        cold: bool = False,
        extra_env: dict | None = None,
        image: str | None = None,
    ):
        self.home = home
        self.model = model
        self.cold = cold
        self.image = image
        self.extra_env = extra_env or {}
        self.port, self.moto_port, self.model_port = _port(), _port(), _port()
        self.proc: subprocess.Popen | None = None
        self.api_url = f"http://127.0.0.1:{self.port}"
        self.moto_url = f"http://127.0.0.1:{self.moto_port}"

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GEMS_"))}
        env.update(GEMS_HOME=str(self.home), GEMS_API=self.api_url, PYTHONUNBUFFERED="1")
        if os.environ.get("GEMS_SHARED"):
            env["GEMS_SHARED"] = os.environ["GEMS_SHARED"]
        env.update(self.extra_env)
        return env

    def start(self) -> RunningStack:
        cmd = [
            sys.executable,
            "-m",
            "gems.cli.main",
            "up",
            "--port",
            str(self.port),
            "--moto-port",
            str(self.moto_port),
        ]
        cmd += ["--model-port", str(self.model_port)] + ([] if self.model else ["--no-model"])
        cmd += ["--cold"] if self.cold else []
        cmd += ["--image", self.image] if self.image else []
        self.log = (self.home / "up.log").open("ab")
        self.home.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(cmd, env=self.env(), stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                ApiClient(self.api_url, timeout=2).health()
                break
            except GemsError:
                assert self.proc.poll() is None, (self.home / "up.log").read_text()[-3000:]
                time.sleep(0.3)
        else:
            raise AssertionError("gems up did not answer within 90 s")
        return self

    def stop(self) -> int:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                return self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return -9
        return self.proc.returncode if self.proc else 0

    @property
    def api(self) -> ApiClient:
        key = (self.home / "api_key").read_text().strip()
        return ApiClient(self.api_url, key)

    def client(self, service: str):
        return boto3.client(
            service,
            endpoint_url=self.moto_url,
            region_name="us-east-1",
            aws_access_key_id="embedded",
            aws_secret_access_key="embedded",
        )


@pytest.fixture
def stack_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("gems-home")


ENDED = {"shutting-down", "terminated"}


def instance_states(stack: RunningStack) -> set[str]:
    """The EC2 states of every instance the stack's moto knows."""
    ec2 = stack.client("ec2")
    return {i["State"]["Name"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]}


def states_once_ended(stack: RunningStack, within_s: float = 60) -> set[str]:
    """The fleet's states once every instance has ended, or as they are after `within_s`.

    A job reads COMPLETE as soon as its last worker's record says so; the worker then asks for
    the fleet's stop and powers off, so its machine ends a moment later, on EC2 as here."""
    deadline = time.monotonic() + within_s
    while not (states := instance_states(stack)) <= ENDED and time.monotonic() < deadline:
        time.sleep(0.5)
    return states


def wait_finished(api: ApiClient, key: str, timeout_s: float = 600) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = api.job(key)
        if is_settled(job):  # every current worker finished, no relaunch owed
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {key} did not finish: {api.job(key)}")


def wait_terminated(ec2, timeout_s: float = 90) -> set[str]:
    """The states of every instance once all are terminated (or at the deadline): the last
    worker stops the fleet just after it records its end, so a settled job's instances may
    still be running for a moment."""
    deadline = time.monotonic() + timeout_s
    while True:
        states = {
            i["State"]["Name"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]
        }
        if states == {"terminated"} or time.monotonic() > deadline:
            return states
        time.sleep(0.5)
