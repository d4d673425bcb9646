"""One HLA typing run as the user runs it, measured: a fresh `gems type-hla` process, so its
time includes loading the cached index and its peak RSS is that process's own. Shared by the
HLA benchmarks that time gems (benchmarks.hla, benchmarks.hla_peer)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

THREADS = 2


def run_typer(r1: Path, r2: Path, out: Path, hla_class: str = "both") -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS MiB) of one `gems type-hla` process. CPU time is
    reported beside wall time because a shared machine's load inflates wall time."""
    cmd = [sys.executable, "-m", "gems.cli.main", "type-hla", "--r1", str(r1), "--r2", str(r2)]
    cmd += ["--out", str(out), "--hla-class", hla_class, "--threads", str(THREADS)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"type-hla failed on {r1.name}: {proc.stderr.read().decode()[-500:]}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024
