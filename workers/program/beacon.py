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
from gems.status import heartbeat, record_progress

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
        self.ec2, self.instance_id = ec2, instance_id
        self.progress_every = tagrate.progress_every_s(fleet, writes_per_s)
        self.heartbeat_every = tagrate.heartbeat_every_s(fleet, writes_per_s)
        self.silenced = silenced  # the service ended this worker: nothing more is written
        self.clock = clock
        self._step: str | None = None  # the newest step text not yet in the tags
        self._last = clock()  # the last write to this worker's tags, its own or record_status's
        self.writes = 0

    def step(self, text: str) -> None:
        """The pipeline's newest step text (never blocks, never raises)."""
        self._step = text

    def wrote(self) -> None:
        """record_status just wrote every tag, the step with it."""
        self._step = None
        self._last = self.clock()

    def tick(self) -> bool:
        """One write if one is due: the newest step once `progress_every` has passed since the
        last write, else a heartbeat once `heartbeat_every` has. Returns whether it wrote."""
        since = self.clock() - self._last
        text = self._step
        if self.silenced() or since < self.progress_every:
            return False
        if text is not None:
            record_progress(self.ec2, self.instance_id, text)
            if self._step is text:  # kept when it failed, or when a newer one came meanwhile
                self._step = None
        elif since >= self.heartbeat_every:
            heartbeat(self.ec2, self.instance_id)
        else:
            return False
        self._last = self.clock()
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
