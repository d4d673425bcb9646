"""Watching for EC2's spot interruption notice.

EC2 posts `meta-data/spot/instance-action` ({"action": "terminate", "time": ...}) two minutes
before it reclaims a spot instance; until then that path is 404. The watcher asks every few
seconds (AWS's own advice is every 5 s) and calls back once when a notice appears. On-demand
instances (`meta-data/instance-life-cycle` other than "spot") are never interrupted, so they are
not watched.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
from collections.abc import Callable

from workers.program.instance import metadata

log = logging.getLogger("gems.worker")


def is_spot() -> bool:
    try:
        return metadata("meta-data/instance-life-cycle").strip() == "spot"
    except OSError:
        return False


def notice() -> dict | None:
    """The interruption notice, or None while there is none."""
    try:
        body = metadata("meta-data/spot/instance-action")
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise
    try:
        return json.loads(body)
    except ValueError:
        return {"action": "terminate", "time": body.strip()}


class SpotWatch:
    """A daemon thread that calls `on_notice(notice)` once, when the notice appears."""

    def __init__(self, poll_s: float, on_notice: Callable[[dict], None]):
        self.poll_s = poll_s
        self.on_notice = on_notice
        self._stop = threading.Event()

    def start(self) -> SpotWatch:
        threading.Thread(target=self._loop, name="spot-watch", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                found = notice()
            except OSError as exc:  # the metadata service hiccuped: ask again next tick
                log.warning("spot notice check failed: %s", exc)
                continue
            if found:
                log.warning("spot interruption notice: %s", found)
                self._stop.set()
                self.on_notice(found)
                return
