"""The /predict side of drift monitoring: served feature counts, merged in memory and appended to S3.

A PUT per call would cost every prediction an S3 round trip (about a third of the embedded
stack's /predict time; on AWS a network round trip, not measured here), so each process merges
its calls' histograms and writes them as one object per model version, from a background thread,
on the first call that finds the oldest unwritten count FLUSH_S old or MAX_PATIENTS piled up: no
call waits for S3. The embedded stack writes what is pending when it stops. What can be lost:
counts a process holds when it ends without another call (on Lambda, an idle environment reaped;
at most FLUSH_S of its traffic, or MAX_PATIENTS patients). Counts only; the prediction never depends on them.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import current_app

from ml import drift

log = logging.getLogger(__name__)

FLUSH_S = 30.0
MAX_PATIENTS = 5000
_KEY = "gems_drift_counts"


class ServedCounts:
    """The served histograms of one process not yet written, per model version."""

    def __init__(self, s3, bucket: str, clock=time.monotonic):
        self.s3, self.bucket, self.clock = s3, bucket, clock
        self._lock = threading.Lock()
        self._pending: dict[str, dict] = {}
        self._first: float | None = None
        self._writer: threading.Thread | None = None

    def add(self, model_version: str | None, counts: dict) -> None:
        with self._lock:
            self._keep(model_version or "unknown", counts)
            waiting = sum(h["n"] for h in self._pending.values())
            due = self.clock() - self._first >= FLUSH_S or waiting >= MAX_PATIENTS
            if due and (self._writer is None or not self._writer.is_alive()):
                self._writer = threading.Thread(target=self.flush_quietly, name="drift-writer", daemon=True)
                self._writer.start()

    def _keep(self, version: str, counts: dict) -> None:
        """Under the lock: add to what is pending, and start the clock if nothing was."""
        self._pending[version] = drift.merge([self._pending.get(version, {}), counts])
        if self._first is None:
            self._first = self.clock()

    def flush(self) -> list[str]:
        """Write what is pending (one object per model version); a version that fails stays pending."""
        with self._lock:
            taken, self._pending, self._first = self._pending, {}, None
        keys, failed = [], []
        for version, counts in taken.items():
            try:
                keys.append(drift.write(self.s3, self.bucket, version, counts))
            except Exception as exc:  # noqa: BLE001 - kept for the next write, raised below
                failed.append(exc)
                with self._lock:
                    self._keep(version, counts)
        if failed:
            raise failed[0]
        return keys

    def flush_quietly(self) -> None:
        try:
            self.flush()
        except Exception as exc:  # noqa: BLE001 - monitoring must not cost the user an answer
            log.warning("drift: could not write served counts: %s", exc)


def served_counts(app=None) -> ServedCounts | None:
    """The app's buffer (made on first use), or None when the app has no AWS services."""
    app = app or current_app
    services = app.extensions.get("gems")
    if services is None:
        return None
    buffer = app.extensions.get(_KEY)
    if buffer is None:  # setdefault: two first requests at once share one buffer
        buffer = app.extensions.setdefault(
            _KEY, ServedCounts(services.clients.s3, services.config.state_bucket)
        )
    return buffer


def record_served(patients: list[dict], model_version: str | None, counts: dict | None = None) -> None:
    """Counts only (see ml.drift); a failure is logged and never fails the prediction. `counts`:
    what the model server counted from the feature rows it built (ml.serve), used when it covers
    every patient; else they are counted here."""
    try:
        buffer = served_counts()
        if buffer is not None:
            if not (isinstance(counts, dict) and counts.get("n") == len(patients)):
                counts = drift.histogram(patients)
            buffer.add(model_version, counts)
    except Exception as exc:  # noqa: BLE001 - monitoring must not cost the user an answer
        log.warning("drift: could not record served features: %s", exc)
