"""A worker's liveness and progress in its tags, within its fleet's share of EC2's CreateTags
budget (gems.tagrate).

The pipeline never writes these itself: it hands the newest step text over and goes on, and a
thread writes it (or a bare heartbeat) at the pace the fleet's size allows. So a throttled
CreateTags delays what a reader sees, never a step, and a fleet of a thousand workers asks EC2
for what a fleet of a thousand may.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from gems import tagrate
from gems.records import WorkerRecord
from gems.status import heartbeat, record_progress, tag_state

log = logging.getLogger("gems.worker")


class Beacon:
    def __init__(
        self,
        ec2,
        instance_id: str,
        *,
        fleet: int,
        writes_per_s: float,
        silenced: Callable[[], bool],
        clock: Callable[[], float] = time.monotonic,
    ):
        self.ec2, self.instance_id, self.writes_per_s = ec2, instance_id, writes_per_s
        self.pace(fleet)
        self.silenced = silenced  # the service ended this worker: nothing more is written
        self.clock = clock
        self._step: str | None = None  # the newest step text not yet in the tags
        self._owed: WorkerRecord | None = None  # a change of state whose tags EC2 throttled
        self._last = clock()  # the last write to this worker's tags, its own or record_status's
        self.writes = 0

    def pace(self, fleet: int) -> None:
        """Space the writes for a job of `fleet` workers."""
        self.progress_every = tagrate.progress_every_s(fleet, self.writes_per_s)
        self.heartbeat_every = tagrate.heartbeat_every_s(fleet, self.writes_per_s)

    def step(self, text: str) -> None:
        """The pipeline's newest step text (never blocks, never raises)."""
        self._step = text

    def wrote(self) -> None:
        """record_status just wrote every tag, the step with it."""
        self._step = None
        self._owed = None
        self._last = self.clock()

    def owe(self, record: WorkerRecord) -> None:
        """record_status could not tag a change of state (throttled): write it on the next tick
        that may, before any progress."""
        self._owed = record

    def tick(self) -> bool:
        """One write if one is due: a change of state owed (within 30 s), else the newest step
        once `progress_every` has passed since the last write, else a heartbeat once
        `heartbeat_every` has. Returns whether it wrote."""
        since = self.clock() - self._last
        text, owed = self._step, self._owed
        if self.silenced():
            return False
        if owed is not None and since >= min(self.progress_every, tagrate.HEARTBEAT_EVERY_S):
            write = lambda: tag_state(self.ec2, owed)  # noqa: E731 - the step with it
        elif since < self.progress_every:
            return False
        elif text is not None:
            write = lambda: record_progress(self.ec2, self.instance_id, text)  # noqa: E731
        elif since >= self.heartbeat_every:
            write = lambda: heartbeat(self.ec2, self.instance_id)  # noqa: E731
        else:
            return False
        self._last = self.clock()  # tried: throttled or not, the next try waits its turn
        write()
        if owed is not None and self._owed is owed:
            self._owed = None
        if self._step is text:  # a newer step, come meanwhile, is kept for the next tick
            self._step = None
        self.writes += 1
        return True

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(min(self.progress_every, 5.0)):
            try:
                self.tick()
            except Exception as exc:  # noqa: BLE001 - a missed write is made good by the next
                log.warning("tags not written (%s); the next tick tries again", exc)

    def start(self, stop: threading.Event) -> threading.Thread:
        thread = threading.Thread(target=self.run, args=(stop,), daemon=True, name="beacon")
        thread.start()
        return thread
