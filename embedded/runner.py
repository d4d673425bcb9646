"""The instance runner: boots each launched instance by running its real user-data locally.

It watches EC2 (the moto server) for gems instances. A new running instance gets its user-data
run as a local process group; an instance that is stopped or terminated has its process ended;
a process that exits ends its instance (as `shutdown` would with InstanceInitiatedShutdownBehavior
= terminate), and if its worker had not finished, the worker is recorded FAILED with the reason.

Warm (the default), an instance reuses this machine's installed worker (GEMS_PYTHON) for
one-second boots. Cold (`gems up --cold`), it boots as a fresh EC2 machine: its folder is its
disk, its environment holds only what EC2 gives (the user-data's own exports, a system PATH, and
the instance's identity and role credentials), and `shutdown` on its PATH is a stand-in that
powers it off, after which the runner terminates it through the EC2 API. From an image
(`gems up --image`), a cold instance is a container of that image (embedded/container.py).
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import gems.tags
from embedded import container
from embedded.disks import Disks, root_volume_gib
from embedded.imds import InstanceMetadata, MetadataService
from gems.aws import ec2 as EC2
from gems.states import WorkerStatus

log = logging.getLogger(__name__)
_GONE = {"stopping", "stopped", "shutting-down", "terminated"}
INSTANCE_ID = re.compile(r"^i-[0-9a-f]{8,17}$")
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# A power-off: the machine's processes end; the runner sees the exit and terminates the instance.
POWER_OFF = """#!/bin/sh
echo "[instance] $(basename "$0") $*: powering off" >&2
sleep 0.3
kill -TERM 0
"""


@dataclass
class Booted:
    instance_id: str
    session_key: str
    proc: subprocess.Popen
    log_path: Path


class InstanceRunner:
    def __init__(
        self,
        ec2,
        jobs,
        home: Path,
        env: dict[str, str],
        poll_s: float = 0.5,
        *,
        cold: bool = False,
        image: str | None = None,
        sweep_s: float = 60.0,
        disks: Disks | None = None,
    ):
        self.ec2 = ec2
        self.image = image  # boot instances as containers of this image (a custom AMI)
        self.cold = cold or bool(image)
        self.jobs = jobs  # gems.jobs.service.JobService, for mark_lost
        self.home = home
        self.env = env
        self.poll_s = poll_s
        self.booted: dict[str, Booted] = {}
        self.seen: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # On the port the stack announced (GEMS_IMDS_URL), so the API knows it for one of its own.
        self.imds = MetadataService(
            env.get("AWS_ACCESS_KEY_ID", ""),
            env.get("AWS_SECRET_ACCESS_KEY", ""),
            port=urlsplit(env.get("GEMS_IMDS_URL") or "").port or 0,
        )
        self.reclaim_at: dict[str, float] = {}  # spot instances given a notice -> when EC2 takes them
        self.sweep_s = sweep_s  # the scheduled sweep, as Zappa runs it every 5 minutes on AWS
        self._swept = time.monotonic()
        self.disks = disks or Disks()  # each instance's folder held to its root volume (embedded.disks)

    def start(self) -> None:
        self.imds.start()
        self._thread = threading.Thread(target=self._loop, name="instance-runner", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self.tick()
            except Exception as exc:  # noqa: BLE001 - keep watching; the next tick retries
                log.warning("instance runner: %s", exc)

    def _instances(self, filters: list[dict]) -> dict[str, dict]:
        out = {}
        for page in self.ec2.get_paginator("describe_instances").paginate(Filters=filters):
            for res in page["Reservations"]:
                for inst in res["Instances"]:
                    out[inst["InstanceId"]] = inst
        return out

    def tick(self) -> None:
        self._take_interrupt_requests()
        self._reclaim()
        if time.monotonic() - self._swept > self.sweep_s:
            self._swept = time.monotonic()
            from app.events import sweep_jobs  # the API's own sweep, against this stack's moto

            sweep_jobs(self.jobs, self.ec2)
        new = self._instances(
            [
                {"Name": "tag-key", "Values": [gems.tags.SESSION]},
                {"Name": "instance-state-name", "Values": ["pending", "running"]},
            ]
        )
        for iid, inst in new.items():
            if iid not in self.seen:
                self.seen.add(iid)
                self._boot(inst)
        if not self.booted:
            return
        states = {
            iid: inst["State"]["Name"]
            for iid, inst in self._instances([{"Name": "instance-id", "Values": list(self.booted)}]).items()
        }
        for iid, used, limit in self.disks.over():
            b = self.booted.get(iid)
            if b is None or b.proc.poll() is not None:
                continue
            why = f"its root volume is full ({used / self.disks.gib_bytes:.1f} of {limit / self.disks.gib_bytes:.0f} GiB)"
            log.error("instance %s: %s: powering it off, as its writes would fail on EC2", iid, why)
            self._kill(b)
            self.booted.pop(iid)
            self.disks.forget(iid)
            self.imds.forget(iid)
            self.jobs.lifecycle.mark_lost(b.session_key, iid, why, status=WorkerStatus.FAILED)
        for iid, b in list(self.booted.items()):
            code = b.proc.poll()
            if states.get(iid) in _GONE and code is None:
                log.info("instance %s is %s: ending its worker", iid, states[iid])
                self._kill(b)
                self.booted.pop(iid)
                self.disks.forget(iid)
                self.imds.forget(iid)
                # Terminated behind the job's back (or stopped by it: then its record is final).
                self.jobs.lifecycle.mark_lost(
                    b.session_key, iid, f"instance {states[iid]} before the worker finished"
                )
            elif code is not None:
                self.booted.pop(iid)
                self.disks.forget(iid)
                self.imds.forget(iid)
                self._exited(b, code, states.get(iid))

    def _boot(self, inst: dict) -> None:
        iid = inst["InstanceId"]
        tags = gems.tags.from_aws(inst.get("Tags", []))
        session_key = tags.get(gems.tags.SESSION, "")
        user_data = EC2.user_data(self.ec2, iid)
        if not user_data:
            log.warning("instance %s has no user-data; leaving it alone", iid)
            return
        folder = self.home / "instances" / iid
        folder.mkdir(parents=True, exist_ok=True)
        script = folder / "user-data.sh"
        script.write_text(user_data)
        log_path = folder / "worker.log"
        metadata = InstanceMetadata(
            instance_id=iid,
            region=self.env.get("AWS_DEFAULT_REGION", "us-east-1"),
            instance_type=inst.get("InstanceType", ""),
            ami_id=inst.get("ImageId", ""),
            availability_zone=inst.get("Placement", {}).get("AvailabilityZone", ""),
            profile_arn=inst.get("IamInstanceProfile", {}).get("Arn"),
            lifecycle="spot" if inst.get("InstanceLifecycle") == "spot" else "on-demand",
            user_data=user_data,
            tags=tags,
        )
        # Who it is and its role's credentials come from the metadata service, as on EC2.
        disk = dict(
            AWS_EC2_METADATA_SERVICE_ENDPOINT=self.imds.register(metadata),
            GEMS_WORKDIR=str(folder / "work"),
            GEMS_LOG=str(log_path),
            GEMS_PIDFILE=str(folder / "worker.pid"),
        )
        if self.cold:
            env = self._cold_env(folder, disk)
        else:
            env = dict(self.env, GEMS_PYTHON=sys.executable, GEMS_EMBEDDED="1", **disk)
        cmd = ["bash", str(script)]
        if self.image:
            cmd, env = container.command(self.image, iid, folder, env), container.engine_env(self.home)
        with open(folder / "console.log", "ab") as console:
            proc = subprocess.Popen(  # noqa: S603 - the instance's own user-data, as EC2 would run it
                cmd,
                env=env,
                cwd=folder,
                stdout=console,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.booted[iid] = Booted(iid, session_key, proc, log_path)
        gib = root_volume_gib(self.ec2, inst)
        if gib is not None:
            self.disks.watch(iid, folder, gib)
        log.info("booted instance %s (job %s) as pid %d", iid, session_key[:8], proc.pid)

    def _cold_env(self, folder: Path, disk: dict[str, str]) -> dict[str, str]:
        """What a fresh EC2 machine has before its user-data runs: a system PATH (with the
        power-off stand-ins first), its own disk, and its metadata service (which alone gives it
        its identity and its role's credentials). Nothing of this machine's Python, gems or keys."""
        bin_dir = folder / "bin"
        bin_dir.mkdir(exist_ok=True)
        for name in ("shutdown", "poweroff"):
            (bin_dir / name).write_text(POWER_OFF)
            (bin_dir / name).chmod(0o755)
        env = dict(PATH=f"{bin_dir}:{SYSTEM_PATH}", HOME=str(folder / "home"), LANG="C.UTF-8", **disk)
        if not self.image:  # an image's /opt/gems/venv is its own; a folder is this machine's disk
            env["GEMS_VENV"] = str(folder / "opt" / "gems" / "venv")
        return env

    def _exited(self, b: Booted, code: int, state: str | None) -> None:
        """The user-data ended, as a powered-off machine does: mark_lost records an unfinished
        worker FAILED and terminates the instance (InstanceInitiatedShutdownBehavior=terminate)."""
        log.info("worker on %s exited with code %s (instance %s)", b.instance_id, code, state)
        self.jobs.lifecycle.mark_lost(
            b.session_key, b.instance_id, f"worker process exited with code {code} before finishing"
        )

    # ---- spot interruptions -------------------------------------------------------------------
    def interrupt(self, instance_id: str, in_s: int = 120) -> str:
        """Give a booted spot instance EC2's interruption notice; EC2 takes it `in_s` later.
        Returns "" when given, else why not."""
        if instance_id not in self.booted:
            return f"{instance_id} is not a running gems worker of this stack"
        if self.imds.lifecycle(instance_id) != "spot":
            return f"{instance_id} is an on-demand instance: EC2 interrupts only spot instances"
        self.imds.interrupt(instance_id, in_s=in_s)
        self.reclaim_at[instance_id] = time.monotonic() + in_s
        log.warning("instance %s: spot interruption notice, reclaimed in %d s", instance_id, in_s)
        return ""

    def _reclaim(self) -> None:
        now = time.monotonic()
        due = [iid for iid, at in self.reclaim_at.items() if at <= now]
        for iid in due:
            self.reclaim_at.pop(iid)
            EC2.terminate(self.ec2, [iid])  # as EC2 takes a spot instance back, whatever it is doing

    def _take_interrupt_requests(self) -> None:
        """`gems interrupt` (another process) drops `<home>/interrupts/<id>.request`; the answer
        is `<id>.given` or `<id>.refused` beside it."""
        folder = self.home / "interrupts"
        if not folder.is_dir():
            return
        for request in folder.glob("*.request"):
            iid = request.name.removesuffix(".request")
            try:
                in_s = int(request.read_text().strip() or "120")
            except ValueError:
                in_s = 120
            request.unlink(missing_ok=True)
            if not INSTANCE_ID.match(iid):
                continue  # gems interrupt checks the shape before it writes
            refused = self.interrupt(iid, in_s)
            if refused:
                (folder / f"{iid}.refused").write_text(refused + "\n")
            else:
                (folder / f"{iid}.given").write_text(f"reclaimed in {in_s} s\n")

    def _kill(self, b: Booted, grace_s: float = 5.0) -> None:
        if self.image:  # podman ends its container (the process below is only its client)
            container.remove(b.instance_id, self.home)
        try:
            os.killpg(b.proc.pid, signal.SIGTERM)
            b.proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(b.proc.pid, signal.SIGKILL)
            b.proc.wait()
        except ProcessLookupError:
            pass

    def stop(self, reason: str = "the embedded stack was stopped before the worker finished") -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
        for b in list(self.booted.values()):
            self._kill(b)
            self.imds.forget(b.instance_id)
            try:
                self.jobs.lifecycle.mark_lost(b.session_key, b.instance_id, reason)  # terminates it too
            except Exception as exc:  # noqa: BLE001 - shutting down: record what we can
                log.warning("could not record %s as lost: %s", b.instance_id, exc)
        self.booted.clear()
        self.imds.stop()

    def log_of(self, instance_id: str) -> Path:
        return self.home / "instances" / instance_id / "console.log"
