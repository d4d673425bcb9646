"""Structured logs: one JSON object per line, with the service, request id and job key.

API and workers both log through `configure(service)`. Fields that belong to the work in hand
(request id, session key, sample) live in a context variable, so every line logged while that
work runs carries them without each call site passing them along. A log shipper (CloudWatch
Logs Insights, Loki, jq) can then select one request or one job across all processes.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
import time
import uuid

_context: contextvars.ContextVar[dict | None] = contextvars.ContextVar("gems_log_context", default=None)
# Attributes every LogRecord has; anything else came in through `extra=` and is logged as a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
REQUEST_ID_MAX = 128


def new_request_id() -> str:
    return uuid.uuid4().hex


def clean_request_id(value: str | None) -> str:
    """Accept a caller's X-Request-Id only if it is short printable ASCII (it ends up in headers)."""
    if value and len(value) <= REQUEST_ID_MAX and value.isascii() and value.isprintable():
        return value.strip() or new_request_id()
    return new_request_id()


def context() -> dict:
    return dict(_context.get() or {})


def bind(**fields) -> contextvars.Token:
    """Add fields to the current context; returns a token for `unbind`."""
    merged = context()
    merged.update({k: v for k, v in fields.items() if v not in (None, "")})
    return _context.set(merged)


def unbind(token: contextvars.Token) -> None:
    _context.reset(token)


@contextlib.contextmanager
def bound(**fields):
    token = bind(**fields)
    try:
        yield
    finally:
        unbind(token)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str, static: dict | None = None):
        super().__init__()
        self.service = service
        self.static = static or {}

    def format(self, record: logging.LogRecord) -> str:
        body = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        body.update(self.static)
        body.update(context())
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                body[key] = value
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str, ensure_ascii=False)


def _is_plain_console(handler: logging.Handler) -> bool:
    # basicConfig's handler; pytest's capture handlers are subclasses and must stay.
    return type(handler) is logging.StreamHandler and getattr(handler, "stream", None) in (
        sys.stderr,
        sys.stdout,
    )


def configure(service: str, *, level: int | str | None = None, stream=None) -> logging.Handler:
    """Make the root logger write JSON lines to stderr; idempotent.

    A worker gets its session key and instance index from its environment, so every line of
    its log names the job it belongs to.
    """
    from gems.config import Config

    config = Config.from_env()
    root = logging.getLogger()
    static = {}
    if config.worker.session_key:
        static["session_key"] = config.worker.session_key
    if config.worker.instance_index is not None:
        static["instance_index"] = str(config.worker.instance_index)
    for handler in list(root.handlers):
        if getattr(handler, "_gems_json", False) or _is_plain_console(handler):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(service, static))
    handler._gems_json = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level or config.log_level)
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler
