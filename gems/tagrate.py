"""How often a fleet may write its EC2 tags: EC2 throttles CreateTags per account and region.

EC2 refills an account's bucket for a mutating action such as CreateTags at a few requests per
second (AWS documents 5 a second for mutating actions, behind a bucket of 200; an account can ask
for more). Every worker of a job writes tags: on each change of its state, and between those
to say it is alive and how far its step has got. A few workers can do the latter every few
seconds; a job of 1,088 workers doing so would ask for about 250 CreateTags a second, be
throttled, and spend its workers' time in back-off. So a job's liveness and progress tags share
a budget (`Config.tag_writes_per_s` for the whole fleet of one job) and each worker spaces them
by the fleet's size; a change of state is written at once, as few of those as there are.

The read path judges a silent worker by the same numbers: a worker that may beat only every
ten minutes is not lost after fifteen.
"""

from __future__ import annotations

HEARTBEAT_EVERY_S = 30.0  # a worker's heartbeat when its fleet is small enough
PROGRESS_EVERY_S = 5.0  # how often a step's percentage may reach the tags, likewise
LOST_AFTER_BEATS = 3  # missed beats, at the fleet's pace, before a worker counts as lost


def _gap_s(fleet: int, writes_per_s: float) -> float:
    """Seconds between one worker's liveness writes so `fleet` workers stay within the budget."""
    return max(1, fleet) / max(writes_per_s, 1e-6)


def progress_every_s(fleet: int, writes_per_s: float) -> float:
    return max(PROGRESS_EVERY_S, _gap_s(fleet, writes_per_s))


def heartbeat_every_s(fleet: int, writes_per_s: float) -> float:
    return max(HEARTBEAT_EVERY_S, _gap_s(fleet, writes_per_s))


def lost_after_s(fleet: int, writes_per_s: float, timeout_s: int) -> int:
    """The configured heartbeat timeout, or longer where the fleet's size spaces the beats wider
    than the timeout allows for."""
    every = heartbeat_every_s(fleet, writes_per_s)
    if every <= HEARTBEAT_EVERY_S:
        return timeout_s
    return max(timeout_s, int(LOST_AFTER_BEATS * every))
