"""Calls the model: SageMaker runtime `invoke_endpoint` when an endpoint is configured, else the
local inference server (embedded stack) over HTTP. Never imports catboost.

Throttling, timeouts and a model that is not ready are retried with exponential backoff; when
the retries are spent the caller gets gems.errors.UnavailableError (503) with the reason.

A batch is sent in slices of CHUNK patients (tens of milliseconds of the model's work for typical
tumours; 0.56 s for the 50 most mutated TCGA patients, 127,000 mutations), each call with its own
timeout and all of them within one deadline that fits under API Gateway's 29 s. So the documented
maximum of 500 patients fits the client's time, a timed-out try repeats one slice's work rather
than the whole batch's, and a caller that gave up stops costing the server at the next slice.
`predict_chunks` sends each slice while the app checks the next, so the app and the model work at
once. That is for AWS, where they are different machines (Lambda, SageMaker); on a 2-core laptop
running both, where the model server keeps both cores busy, it measured 3% faster (within noise).
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
import urllib.parse
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor

import orjson
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from gems.config import Config
from gems.errors import UnavailableError, ValidationError
from ml import drift

log = logging.getLogger(__name__)

RETRYABLE_CODES = {
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "ServiceUnavailable",
    "ModelNotReadyException",
    "InternalFailure",
}
RETRYABLE_STATUS = {429, 500, 502, 503, 504}
CHUNK = 50
DEADLINE_S = 25.0


class _Retry(Exception):
    """A failure worth another try; its message is the reason reported if none succeeds."""


class ModelClient:
    """`predict(patients)` -> the inference server's JSON answer (model_version, classes, predictions)."""

    def __init__(
        self,
        config: Config,
        *,
        runtime=None,
        attempts: int = 4,
        backoff_s: float = 0.2,
        timeout_s: float = 10.0,
        deadline_s: float = DEADLINE_S,
        chunk: int = CHUNK,
        sleep=time.sleep,
        clock=time.monotonic,
    ):
        self.config = config
        self.runtime = runtime
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.deadline_s = deadline_s
        self.chunk = chunk
        self.sleep = sleep
        self.clock = clock
        # one kept-alive connection to the local server per app thread: a new TCP connection per
        # call cost about as much as the model's own work for one patient
        self._local = threading.local()
        self._pool: ThreadPoolExecutor | None = None
        self._workers_lock = threading.Lock()

    @property
    def served_by(self) -> str:
        if self.config.sagemaker_endpoint:
            return f"sagemaker:{self.config.sagemaker_endpoint}"
        return f"local:{self.config.model_url}" if self.config.model_url else "none"

    def predict(self, patients: list[dict]) -> dict:
        """One answer for the whole batch, asked for CHUNK patients at a time within the deadline."""
        deadline = self.clock() + self.deadline_s
        parts = [
            self._predict_chunk(patients[start : start + self.chunk], deadline)
            for start in range(0, max(1, len(patients)), self.chunk)
        ]
        return _joined(parts)

    def predict_chunks(self, chunks: Iterable[list[dict]]) -> dict:
        """One answer for a batch whose chunks (CHUNK patients at most) the caller is still making:
        each goes to the model from a worker thread as soon as it is ready, so validating the next
        chunk overlaps the model's work on this one. An exception from `chunks` (a bad patient)
        stops the batch; chunks not yet sent are dropped."""
        deadline = self.clock() + self.deadline_s
        sent: list[Future] = []
        try:
            for chunk in chunks:
                sent.append(self._workers().submit(self._predict_chunk, chunk, deadline))
            return _joined([future.result() for future in sent])
        finally:
            for future in sent:
                future.cancel()

    def _workers(self) -> ThreadPoolExecutor:
        with self._workers_lock:
            if self._pool is None:
                # two: one chunk's answer travels while the next is computed
                self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="model-call")
            return self._pool

    def _predict_chunk(self, patients: list[dict], deadline: float) -> dict:
        body = orjson.dumps({"instances": patients})
        if self.config.sagemaker_endpoint:
            if self.runtime is None:
                raise UnavailableError("no SageMaker runtime client configured")
            call = self._invoke_endpoint
        elif self.config.model_url:
            call = self._post_local
        else:
            raise UnavailableError("no model is configured: set GEMS_SAGEMAKER_ENDPOINT or GEMS_MODEL_URL")
        reason = ""
        for attempt in range(self.attempts):
            left = deadline - self.clock()
            if left <= 0:
                raise UnavailableError(
                    f"the model did not answer within {self.deadline_s:g} s: {reason or 'the batch is too slow'}",
                    details={"served_by": self.served_by},
                )
            try:
                return orjson.loads(call(body, min(self.timeout_s, left)))
            except _Retry as exc:
                reason = str(exc)
                log.warning("model call failed (attempt %d/%d): %s", attempt + 1, self.attempts, reason)
                if attempt + 1 < self.attempts:
                    self.sleep(max(0.0, min(self.backoff_s * (2**attempt), deadline - self.clock())))
        raise UnavailableError(
            f"the model is unavailable after {self.attempts} attempts: {reason}",
            details={"served_by": self.served_by},
        )

    def _invoke_endpoint(self, body: bytes, timeout_s: float) -> bytes:
        try:
            response = self.runtime.invoke_endpoint(
                EndpointName=self.config.sagemaker_endpoint,
                ContentType="application/json",
                Accept="application/json",
                Body=body,
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code, message = error.get("Code", ""), error.get("Message", "")
            status = exc.response.get("OriginalStatusCode") or exc.response.get("ResponseMetadata", {}).get(
                "HTTPStatusCode"
            )
            if code == "ModelError" and status == 400:
                raise ValidationError(
                    f"the model refused the request: {_reason(exc.response.get('OriginalMessage') or message)}"
                ) from None
            if code in RETRYABLE_CODES or (code == "ModelError" and status in RETRYABLE_STATUS):
                raise _Retry(f"SageMaker {code}: {message}") from None
            raise UnavailableError(
                f"SageMaker endpoint {self.config.sagemaker_endpoint}: {code}: {message}"
            ) from None
        except (ReadTimeoutError, ConnectTimeoutError, EndpointConnectionError, ConnectionClosedError) as exc:
            raise _Retry(f"SageMaker endpoint {self.config.sagemaker_endpoint}: {exc}") from None
        return response["Body"].read()

    def _connection(self, timeout_s: float) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            url = urllib.parse.urlsplit(self.config.model_url or "")
            kind = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
            conn = self._local.conn = kind(url.hostname or "", url.port, timeout=timeout_s)
            self._local.path = (url.path.rstrip("/") or "") + "/invocations"
        conn.timeout = timeout_s
        if conn.sock is not None:
            conn.sock.settimeout(timeout_s)
        return conn

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()

    def _exchange(self, body: bytes, timeout_s: float) -> tuple[int, bytes]:
        """One POST on this thread's connection; a kept-alive connection the server has closed
        meanwhile is replaced once, at no cost to the retry budget."""
        reused = getattr(self._local, "conn", None) is not None
        try:
            return self._post_once(body, timeout_s)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            if not reused:
                raise
        return self._post_once(body, timeout_s)  # on a new connection

    def _post_once(self, body: bytes, timeout_s: float) -> tuple[int, bytes]:
        conn = self._connection(timeout_s)
        try:
            conn.request(
                "POST",
                self._local.path,
                body=body,
                headers={"Content-Type": "application/json", "Accept": "application/json"},
            )
            response = conn.getresponse()
            data = response.read()
        except BaseException:
            self._drop_connection()
            raise
        if response.getheader("Connection", "").lower() == "close":
            self._drop_connection()
        return response.status, data

    def _post_local(self, body: bytes, timeout_s: float) -> bytes:
        try:
            status, data = self._exchange(body, timeout_s)
        except (OSError, http.client.HTTPException) as exc:
            raise _Retry(f"model server at {self.config.model_url} unreachable: {exc}") from None
        if status == 200:
            return data
        text = _reason(data)
        if status == 400:
            raise ValidationError(f"the model refused the request: {text}")
        if status in RETRYABLE_STATUS:
            raise _Retry(f"model server {status}: {text}")
        raise UnavailableError(f"model server at {self.config.model_url} answered {status}: {text}")


def _joined(parts: list[dict]) -> dict:
    answer = dict(parts[0])
    for part in parts[1:]:
        if part.get("model_version") != answer.get("model_version"):
            raise UnavailableError("the served model changed during the batch; send it again")
        answer["predictions"] = list(answer.get("predictions") or []) + list(part.get("predictions") or [])
        answer["drift"] = (
            drift.merge([answer["drift"], part["drift"]])
            if answer.get("drift") and part.get("drift")
            else None
        )
    return answer


def _reason(raw) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    try:
        payload = json.loads(text)
        return str(payload.get("message") or payload.get("reason") or payload)
    except (ValueError, AttributeError):
        return text[:300]
