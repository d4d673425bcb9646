"""Boot time: how long a job's instance takes from launch to a running worker, and the job to
finish, when instances boot warm (this machine's worker), cold (a fresh machine: venv and pip
install of the published wheel, as a stock AMI boots) and from the worker image (a podman
container of `gems-worker`: what a custom AMI or the Dockerfile's `worker` image gives).

Each mode runs `gems up` in its own process and home and one one-sample job (the demo's
HLA-sim-NA12878, class I), `--repeats` times; the best run counts. pip's cache is kept per home, so
every cold boot downloads from the package registry as a fresh instance would.

    .venv/bin/python -m benchmarks.boot [--modes warm,cold,image] [--repeats 1]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from embedded import container
from embedded.seed import one_sample_job
from gems.api_client import ApiClient
from gems.errors import GemsError
from gems.states import WorkerStatus

IMAGE = "gems-worker"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _up(home: Path, mode: str) -> tuple[subprocess.Popen, ApiClient]:
    port = _port()
    cmd = [sys.executable, "-m", "gems.cli.main", "up", "--no-model", "--port", str(port)]
    cmd += ["--moto-port", str(_port()), "--model-port", str(_port())]
    cmd += {"warm": [], "cold": ["--cold"], "image": ["--image", IMAGE]}[mode]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GEMS_"))}
    env.update(GEMS_HOME=str(home), PIP_CACHE_DIR=str(home / "pip-cache"))
    log = (home / "up.log").open("ab")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            ApiClient(url, timeout=2).health()
            return proc, ApiClient(url, (home / "api_key").read_text().strip())
        except (GemsError, OSError):
            if proc.poll() is not None:
                raise SystemExit(f"gems up ({mode}) exited: see {home / 'up.log'}") from None
            time.sleep(0.3)
    raise SystemExit(f"gems up ({mode}) did not answer in 120 s")


def run_once(mode: str) -> tuple[float, float]:
    """(launch -> worker RUNNING, launch -> job finished) in seconds."""
    home = Path(tempfile.mkdtemp(prefix=f"gems-boot-{mode}-"))
    proc, api = _up(home, mode)
    try:
        t0 = time.monotonic()
        _, job = api.submit(one_sample_job())
        key, running = job["session_key"], None
        while time.monotonic() - t0 < 1200:
            job = api.job(key)
            status = WorkerStatus(job["workers"][0]["status"])
            if running is None and status is not WorkerStatus.PENDING:
                running = time.monotonic() - t0
            if status.finished:
                if status is not WorkerStatus.COMPLETE:
                    raise SystemExit(f"{mode}: the job ended {status}: {job['workers'][0].get('reason')}")
                return running, time.monotonic() - t0
            time.sleep(0.25)
        raise SystemExit(f"{mode}: the job did not finish in 20 minutes")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
        shutil.rmtree(home, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--modes", default="warm,cold,image")
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args(argv)
    modes = args.modes.split(",")
    if "image" in modes and (shutil.which("podman") is None or not container.exists(IMAGE, Path(".gems"))):
        print(f"(image: skipped, no podman image {IMAGE}: bash scripts/build_images.sh worker)")
        modes.remove("image")
    load = os.getloadavg()[0]
    results = {m: min(run_once(m) for _ in range(args.repeats)) for m in modes}
    base = results.get("warm")
    print(f"\nboot benchmark: one sample, one worker; {os.cpu_count()} CPUs, load {load:.1f} before")
    print(f"{'mode':<8}{'launch->RUNNING s':>20}{'launch->COMPLETE s':>21}{'x warm (complete)':>19}")
    for mode, (running, done) in results.items():
        ratio = f"{done / base[1]:.2f}" if base else "-"
        print(f"{mode:<8}{running:>20.1f}{done:>21.1f}{ratio:>19}")
    print(f"(load average at the end: {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
