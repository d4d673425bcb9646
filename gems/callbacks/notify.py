"""Signed callbacks, the executor: read a job's callback record, queue what its status owes the
receiver (gems.callbacks.rules decides), send what is due (gems.callbacks.webhook) and record the outcome.

`check(key)` is called wherever the API learns that a job may have changed (a worker's report,
the last worker's hand-over, a relaunch, a stop, the sweep); the sweep also calls it for every
job with a delivery still owed, which is how failed deliveries are tried again. Every write of
the record is If-Match the version read, so concurrent callers never both claim one attempt.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from gems import records, statekeys
from gems.aws import s3 as S3
from gems.callbacks.rules import CallbackRecord, Delivery, signature
from gems.callbacks.webhook import Sent, post
from gems.errors import ConflictError
from gems.jobs import jobview

log = logging.getLogger(__name__)
_TRIES = 5  # conditional writes lost to another caller before this one lets it be


class Callbacks:
    def __init__(self, config, s3, keys, jobs, send=post, clock=None):
        self.config, self.s3, self.keys, self.jobs = config, s3, keys, jobs
        self.send = send
        self.clock = clock or (lambda: datetime.now(UTC))

    @property
    def bucket(self) -> str:
        return self.config.state_bucket

    def read(self, session_key: str) -> tuple[CallbackRecord, str | None]:
        data, etag = S3.get_json_etag(self.s3, self.bucket, statekeys.callback_key(session_key))
        return CallbackRecord.from_dict(data), etag

    def _write(self, session_key: str, rec: CallbackRecord, etag: str | None) -> None:
        guard = {"if_match": etag} if etag else {"if_none_match": True}
        S3.put_json(self.s3, self.bucket, statekeys.callback_key(session_key), rec.to_dict(), **guard)
        due = statekeys.callback_due_key(session_key)
        if rec.queue:
            S3.put_json(self.s3, self.bucket, due, {"session_key": session_key})
        else:
            S3.delete_key(self.s3, self.bucket, due)

    def owed(self) -> list[str]:
        """Jobs with a delivery still queued (the sweep tries them again)."""
        return [
            k["Key"].rsplit("/", 1)[-1] for k in S3.list_keys(self.s3, self.bucket, statekeys.CALLBACKS_DUE)
        ]

    def view(self, session_key: str, url: str) -> dict:
        return self.read(session_key)[0].view(url)

    # ---- queue and send ---------------------------------------------------------------------
    def check(self, session_key: str) -> None:
        """Queue a delivery if the job's status changed (or it finished), then send what is due.
        Never raises: a callback must not break the call that noticed the change."""
        try:
            job = records.read_job(self.s3, self.bucket, session_key)
            if job is None or not job.callback_url:
                return
            self._observe(session_key)
            self._deliver(session_key, job.callback_url)
        except Exception:  # noqa: BLE001 - logged; the sweep comes back to it
            log.exception("job %s: callback check failed", session_key)

    def _observe(self, session_key: str) -> None:
        for _ in range(_TRIES):
            rec, etag = self.read(session_key)
            if rec.finished:
                return
            view = self.jobs.get(session_key)
            if not rec.observe(
                view["overall_status"],
                jobview.is_settled(view),
                lambda: self._body(session_key),
                self.clock(),
            ):
                return
            try:
                self._write(session_key, rec, etag)
                return
            except ConflictError:
                continue

    def _body(self, session_key: str) -> str:
        """The job's JSON as GET /job/<key> answers it (its callback part aside)."""
        job = self.jobs.detail(session_key, with_callback=False)
        return json.dumps(job, separators=(",", ":"), default=str)

    def _deliver(self, session_key: str, url: str) -> None:
        while True:
            rec, etag = self.read(session_key)
            delivery = rec.due(self.clock())
            if delivery is None:
                return
            rec.claim(delivery, self.clock())
            try:
                self._write(session_key, rec, etag)
            except ConflictError:
                return  # another caller claimed or changed it: it sends
            sent = self._send(session_key, url, delivery)
            self._settle(session_key, delivery, sent)
            if sent.error:
                return  # the next attempt waits for its backoff

    def _send(self, session_key: str, url: str, d: Delivery) -> Sent:
        body = d.body.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "gems-callback/1",
            "X-Gems-Event": d.event,
            "X-Gems-Delivery": d.id,
            "X-Gems-Signature": signature(self.keys.callback_secret(session_key), body),
        }
        try:
            sent = self.send(
                url, body, headers, embedded=self.config.embedded, own_ports=self.config.own_ports
            )
        except Exception as exc:  # noqa: BLE001 - every attempt settles, so the give-up applies
            log.warning("job %s: callback %s could not be sent", session_key, d.id, exc_info=True)
            sent = Sent(None, f"could not send ({type(exc).__name__})")
        log.info(
            "job %s: callback %s (%s %s) attempt %d: %s",
            session_key, d.id, d.event, d.status, d.attempts + 1, sent.error or f"HTTP {sent.http_status}",
        )  # fmt: skip
        return sent

    def _settle(self, session_key: str, d: Delivery, sent: Sent) -> None:
        for _ in range(_TRIES):
            rec, etag = self.read(session_key)
            rec.settle(d.id, sent.http_status, sent.error, self.clock(), self.config.callback_retry_s)
            try:
                self._write(session_key, rec, etag)
                return
            except ConflictError:
                continue
