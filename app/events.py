"""Scheduled sweep (Zappa event, every 5 minutes on AWS; a thread in the embedded stack):
workers that died are recorded LOST and what they left is relaunched.

A worker whose instance is stopped or terminated without having finished, or whose heartbeat
is older than the timeout, is marked LOST with the reason and its instance terminated; the job
then relaunches its unfinished samples while its system retries last (gems.recovery), else
records it FAILED, so no job stays RUNNING forever. A job with a worker still owed a relaunch
(an interrupted worker whose own call for one never arrived) gets it here. Callbacks: each live
job's status is looked at, and failed deliveries whose backoff has passed are sent again.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime

import gems.tags
from gems.aws import ec2 as EC2
from gems.config import Config
from gems.jobs.jobview import effective_status

log = logging.getLogger(__name__)
_GONE = {"stopping", "stopped", "shutting-down", "terminated"}


def sweep_jobs(jobs, ec2, now: datetime | None = None) -> list[tuple[str, str, str]]:
    """Mark lost workers LOST (and relaunch); returns (session_key, instance_id, reason) for each."""
    now = now or datetime.now(UTC)
    marked = []
    owed, running = set(), set()
    tagged = [(iid, gems.tags.WorkerTags.parse(iid, tags)) for iid, tags in EC2.read_gems_tags(ec2).items()]
    fleets = Counter(w.session_key for _, w in tagged if w is not None)
    for iid, w in tagged:
        if w is not None and w.status.awaits_relaunch:
            owed.add(w.session_key)
        if w is not None and not w.status.finished:
            running.add(w.session_key)
        if w is None or w.status.finished:
            continue
        status, reason = effective_status(
            w.status, w.heartbeat or w.updated, w.reason, jobs.lost_after_s(fleets[w.session_key]), now
        )
        if not status.finished:
            state = EC2.instance_states(ec2, w.session_key).get(iid)
            if state in _GONE:
                reason = f"instance {state} before the worker finished"
            else:
                continue
        jobs.lifecycle.mark_lost(w.session_key, iid, reason)
        marked.append((w.session_key, iid, reason))
    for session_key in sorted(owed - {key for key, _, _ in marked}):
        jobs.lifecycle.recover(session_key)  # a no-op where the relaunch already happened
    for session_key in sorted(running):
        jobs.lifecycle.enforce_cost_cap(
            session_key
        )  # one record read per live job; only capped jobs go further
    # A status change no API call saw (a heartbeat gone quiet), and deliveries to try again.
    for session_key in sorted(running | set(jobs.callbacks.owed())):
        jobs.callbacks.check(session_key)
    return marked


def sweep(event=None, context=None) -> dict:
    from app.services import Services

    services = Services.from_config(Config.from_env())
    marked = sweep_jobs(services.jobs, services.clients.ec2)
    for key, iid, reason in marked:
        log.warning("job %s: worker %s marked LOST (%s)", key, iid, reason)
    return {"marked": len(marked)}
