"""Which workers the platform took are relaunched, and which the job gives up on (pure).

A worker INTERRUPTED (spot reclaimed) or LOST (instance gone, powered off early, silent) did not
fail on its own: its unfinished samples are owed a rerun on a new instance, a system retry.
The job's `system_retries` (default 2) bounds the retries of each piece of work: a worker is
relaunched while its attempt number is at most that, so every sample gets at most 1 +
system_retries attempts however large the fleet (67 spot workers losing 7 to one reclaim wave
all come back; one sample's worker lost three times does not). Analysis failures are never
retried automatically (POST /job/<key>/retry is for those); what the whole job may spend is
bounded by its max_cost_usd. Once a worker's retries are spent it is recorded FAILED with the
reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from gems.records import JobRecord
from gems.states import SampleStatus, WorkerStatus


@dataclass(frozen=True)
class Relaunch:
    replaces: int  # the worker taken
    samples: list[str]  # what it left unfinished
    attempt: int
    reason: str = "lost"  # why it is owed a relaunch, as the view read it


@dataclass(frozen=True)
class GiveUp:
    index: int
    reason: str
    status: WorkerStatus = WorkerStatus.FAILED  # COMPLETE when every sample had completed


def current(workers: list[dict]) -> list[dict]:
    """The workers that make the job's status: all but those a relaunch took over from."""
    replaced = {w["replaces"] for w in workers if w.get("replaces") is not None}
    return [w for w in workers if w.get("instance_index") not in replaced]


def unfinished(worker: dict) -> list[str]:
    """Samples of a job-view worker not yet COMPLETE or FAILED, in its own order."""
    states = worker.get("sample_status") or {}
    return [
        s
        for s in worker["samples"]
        if not SampleStatus(states.get(s, {}).get("status", SampleStatus.QUEUED.value)).done
    ]


def decide(job: JobRecord, workers: list[dict], *, blocked: str = "") -> tuple[list[Relaunch], list[GiveUp]]:
    """For the job-view `workers` (effective states): relaunch each current worker owed one while
    its own retries last (and nothing `blocked` it, e.g. the cost cap), else give it up."""
    relaunch: list[Relaunch] = []
    give_up: list[GiveUp] = []
    for w in current(workers):
        status = WorkerStatus(w["status"])
        if not status.awaits_relaunch:
            continue
        todo = unfinished(w)
        why = w.get("reason") or status.value.lower()
        if not todo:
            states = [SampleStatus(st["status"]) for st in (w.get("sample_status") or {}).values()]
            ok = all(st is SampleStatus.COMPLETE for st in states)
            end = WorkerStatus.COMPLETE if ok else WorkerStatus.FAILED
            give_up.append(GiveUp(w["instance_index"], f"{why}; every sample had finished", end))
        elif blocked:
            give_up.append(GiveUp(w["instance_index"], f"{why}; not relaunched: {blocked}"))
        elif (attempt := int(w.get("attempt") or 1)) <= job.system_retries:
            relaunch.append(Relaunch(w["instance_index"], todo, attempt + 1, why))
        else:
            give_up.append(
                GiveUp(
                    w["instance_index"],
                    f"{why}; no system retries left ({attempt - 1} of {job.system_retries} used)",
                )
            )
    return relaunch, give_up
