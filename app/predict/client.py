"""Calls the model: SageMaker runtime `invoke_endpoint` when an endpoint is configured, else the
local inference server (embedded stack) over HTTP. Never imports catboost.

Throttling, timeouts and a model that is not ready are retried with exponential backoff; when
the retries are spent the caller gets gems.errors.UnavailableError (503) with the reason.

A batch is sent in slices of CHUNK patients (about a second of the model's work each), each call
with its own timeout and all of them within one deadline that fits under API Gateway's 29 s. So
the documented maximum of 500 patients fits the client's time, a timed-out try repeats a
second's work rather than the whole batch's, and a caller that gave up stops costing the server
at the next slice.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from gems.config import Config
from gems.errors import UnavailableError, ValidationError

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

    @property
    def served_by(self) -> str:
        if self.config.sagemaker_endpoint:
            return f"sagemaker:{self.config.sagemaker_endpoint}"
        return f"local:{self.config.model_url}" if self.config.model_url else "none"

    def predict(self, patients: list[dict]) -> dict:
        """One answer for the whole batch, asked for CHUNK patients at a time within the deadline."""
        deadline = self.clock() + self.deadline_s
        answer: dict | None = None
        for start in range(0, max(1, len(patients)), self.chunk):
            part = self._predict_chunk(patients[start : start + self.chunk], deadline)
            if answer is None:
                answer = part
                continue
            if part.get("model_version") != answer.get("model_version"):
                raise UnavailableError("the served model changed during the batch; send it again")
            answer["predictions"] = list(answer.get("predictions") or []) + list(
                part.get("predictions") or []
            )
        assert answer is not None  # the loop runs at least once
        return answer

    def _predict_chunk(self, patients: list[dict], deadline: float) -> dict:
        body = json.dumps({"instances": patients}).encode()
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
                return json.loads(call(body, min(self.timeout_s, left)))
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

    def _post_local(self, body: bytes, timeout_s: float) -> bytes:
        url = (self.config.model_url or "").rstrip("/") + "/invocations"
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - configured URL
                return response.read()
        except urllib.error.HTTPError as exc:
            text = _reason(exc.read())
            if exc.code == 400:
                raise ValidationError(f"the model refused the request: {text}") from None
            if exc.code in RETRYABLE_STATUS:
                raise _Retry(f"model server {exc.code}: {text}") from None
            raise UnavailableError(
                f"model server at {self.config.model_url} answered {exc.code}: {text}"
            ) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise _Retry(f"model server at {self.config.model_url} unreachable: {reason}") from None


def _reason(raw) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    try:
        payload = json.loads(text)
        return str(payload.get("message") or payload.get("reason") or payload)
    except (ValueError, AttributeError):
        return text[:300]
