"""The jobs list page's filters and the figures the job pages show (pure: dicts in, values out)."""

from __future__ import annotations

from datetime import UTC, datetime

from gems.recovery import current
from gems.states import JobStatus

STATUSES = tuple(s.value for s in JobStatus)
ACTIVE = frozenset(s.value for s in JobStatus if not s.finished)


def parse_day(value: str | None) -> str | None:
    """'2026-11-25' -> itself when it is a real date; anything else is no filter (None)."""
    if not value:
        return None
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d").strftime("%Y-%m-%d")
    except ValueError:
        return None


def filter_jobs(jobs: list[dict], *, since: str | None = None, until: str | None = None) -> list[dict]:
    """Jobs created on or after `since` and on or before `until` (days, UTC), newest first."""
    kept = [
        j
        for j in jobs
        if (since is None or (j.get("created") or "")[:10] >= since)
        and (until is None or (j.get("created") or "")[:10] <= until)
    ]
    return sorted(kept, key=lambda j: j.get("created") or "", reverse=True)


def _when(stamp: str | None) -> datetime | None:
    if not stamp:
        return None
    try:
        return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def duration(start: str | None, end: str | None, now: datetime | None = None) -> str:
    """'1 h 02 min', '3 min 05 s', '12 s' between two ISO stamps (end missing: until now)."""
    a, b = _when(start), _when(end) or now or datetime.now(UTC)
    if a is None:
        return ""
    seconds = max(0, int((b - a).total_seconds()))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


def progress(text: str | None) -> tuple[int, int]:
    """A worker's '2/3' -> (2, 3); anything else (0, 0)."""
    done, _, total = (text or "").partition("/")
    try:
        return int(done), int(total)
    except ValueError:
        return 0, 0


def job_progress(job: dict) -> tuple[int, int]:
    """Samples done / samples: a relaunched worker's unfinished samples count once, under the
    worker that took them over."""
    workers = job.get("workers") or []
    now_on = {id(w) for w in current(workers)}
    done = total = 0
    for w in workers:
        d, t = progress(w.get("progress"))
        done += d
        total += t if id(w) in now_on else d
    return done, total


def ended(job: dict) -> str | None:
    """When the job ended: its `finished`, else (once nothing runs) its workers' last update."""
    if job.get("finished"):
        return job["finished"]
    if is_active(job):
        return None
    stamps = [w.get("updated") or "" for w in job.get("workers") or []]
    return max(stamps, default="") or None


def is_active(job: dict) -> bool:
    return job.get("overall_status") in ACTIVE
