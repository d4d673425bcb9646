"""Nothing runs after it should: the real user-data, run by bash as EC2 would run it, powers the
machine off on every way out (failed provisioning, crashed worker, normal end) and when it
outlives the job's maximum run time; a `shutdown` stand-in on PATH records each power-off."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from testconfig import TestConfig

from gems.launchspec import worker_env
from userdata.render import render_user_data

FAKE_PYTHON = """#!/bin/bash
# Passes provisioning's import check; as `-m workers` it does what the test asks.
[[ "$1" == "-c" || "$2" == "-c" ]] && exit 0  # python [-I] -c ...
case "$GEMS_TEST_WORKER" in
  crash) echo "Traceback: boom"; exit 3 ;;
  hang) sleep 60 ;;
  *) exit 0 ;;
esac
"""
# Like a real power-off, the stand-in ends every process of the machine (its process group here),
# a moment later, as a real one does (the log's last lines reach the disk).
FAKE_SHUTDOWN = """#!/bin/bash
echo "shutdown $*" >> "$GEMS_TEST_MARK"
sleep 0.3
kill -TERM 0
"""


def boot(
    tmp_path,
    *,
    worker: str = "ok",
    max_runtime: int = 600,
    source: str = "local",
    minimap2: bool = True,
    **env,
) -> tuple[int, str, list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # A provisioned worker has the minimap2 program beside its python (never run here).
    fakes = (("python-fake", FAKE_PYTHON), ("shutdown", FAKE_SHUTDOWN), ("minimap2", "#!/bin/sh\nexit 1\n"))
    for name, text in fakes if minimap2 else fakes[:2]:
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    config = TestConfig(max_runtime_s=max_runtime, worker_source=source)
    script = tmp_path / "user-data.sh"
    script.write_text(render_user_data(worker_env(config, "k" * 32, 0, "token")))
    mark = tmp_path / "shutdowns"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GEMS_", "VIRTUAL_ENV"))}
    run_env = dict(
        clean,
        PATH=f"{bin_dir}:{clean['PATH']}",
        GEMS_LOG=str(tmp_path / "worker.log"),
        GEMS_PYTHON=str(bin_dir / "python-fake"),
        GEMS_TEST_WORKER=worker,
        GEMS_TEST_MARK=str(mark),
        **env,
    )
    proc = subprocess.Popen(["bash", str(script)], env=run_env, cwd=tmp_path, start_new_session=True)  # noqa: S603
    try:
        code = proc.wait(timeout=60)
    finally:
        _wait_group_gone(proc.pid)
    log = (tmp_path / "worker.log").read_text() if (tmp_path / "worker.log").exists() else ""
    return code, log, mark.read_text().splitlines() if mark.exists() else []


def _wait_group_gone(pgid: int, timeout_s: float = 10.0) -> None:
    """Every process the instance started has ended (no sleeper or worker left behind)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.killpg(pgid, signal.SIGKILL)
    pytest.fail("processes of the instance outlived it")


def test_a_normal_end_powers_off_and_leaves_nothing_running(tmp_path):
    code, log, shutdowns = boot(tmp_path)
    assert shutdowns == ["shutdown -h now"]
    assert "worker exited with code 0" in log


def test_a_crashed_worker_powers_off(tmp_path):
    code, log, shutdowns = boot(tmp_path, worker="crash")
    assert shutdowns == ["shutdown -h now"]
    assert "worker exited with code 3" in log and "Traceback: boom" in log


def test_failed_provisioning_powers_off(tmp_path):
    # A venv that cannot be created stops provisioning under `set -e`: the trap still runs.
    code, log, shutdowns = boot(tmp_path, source="/nonexistent/gems", GEMS_VENV="/proc/gems/venv")
    assert code != 0
    assert shutdowns == ["shutdown -h now"]
    assert "starting worker" not in log


def test_a_local_environment_without_minimap2_fails_and_powers_off(tmp_path):
    # "local" installs nothing: a python without the minimap2 program beside it is no worker.
    code, log, shutdowns = boot(tmp_path, minimap2=False, GEMS_VENV=str(tmp_path / "venv"))
    assert code != 0 and shutdowns == ["shutdown -h now"]
    assert "this machine has no worker installed" in log and "starting worker" not in log


def test_a_hung_worker_is_powered_off_by_the_dead_mans_switch(tmp_path):
    started = time.monotonic()
    code, log, shutdowns = boot(tmp_path, worker="hang", max_runtime=1)
    assert time.monotonic() - started < 30  # well before the hung worker's 60 s
    assert shutdowns and shutdowns[0] == "shutdown -h now"
    assert "maximum run time (1 s) reached" in log
