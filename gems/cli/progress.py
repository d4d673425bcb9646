"""Live progress of a job in a terminal: one bar per worker and a line per sample."""

from __future__ import annotations

import sys
import time

from gems.api_client import ApiClient
from gems.errors import GemsError
from gems.jobs.jobview import is_settled
from gems.states import SampleStatus


def _bar(done: int, total: int, width: int = 20) -> str:
    filled = int(width * done / total) if total else width
    return "#" * filled + "-" * (width - filled)


def render(job: dict) -> list[str]:
    lines = [f"job {job['session_key']}  {job['overall_status']}"]
    for w in job["workers"]:
        samples = w.get("sample_status") or {s: {"status": SampleStatus.QUEUED.value} for s in w["samples"]}
        done = sum(1 for s in samples.values() if SampleStatus(s["status"]).done)
        attempt = (
            f" (attempt {w['attempt']}, for worker {w['replaces']})" if w.get("replaces") is not None else ""
        )
        spot = " spot" if w.get("capacity") == "spot" else ""
        lines.append(
            f"  worker {w['instance_index']}{spot} [{_bar(done, len(samples))}] {done}/{len(samples)} "
            f"{w['status']:<8} {w.get('step', '')}{attempt}"
        )
        for name, st in sorted(samples.items()):
            why = f" - {st['reason']}" if st.get("reason") else ""
            lines.append(f"      {name:<24} {st['status']:<8} {st.get('step', '')}{why}")
    return lines


def follow_with_bars(client: ApiClient, session_key: str, timeout_s: float = 3600, out=sys.stdout) -> dict:
    tty = out.isatty()
    shown = 0
    last: list[str] = []
    deadline = time.monotonic() + timeout_s
    while True:
        job = client.job(session_key)
        lines = render(job)
        if lines != last:
            if tty and shown:
                out.write(f"\x1b[{shown}F\x1b[J")  # redraw in place
            out.write("\n".join(lines) + "\n")
            out.flush()
            shown, last = len(lines), lines
        if is_settled(job):
            return job
        if time.monotonic() > deadline:
            raise GemsError(f"job {session_key} still {job['overall_status']} after {timeout_s:.0f} s")
        time.sleep(1)
