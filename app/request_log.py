"""Request ids and one JSON access line per request (the formatter is gems.logs)."""

from __future__ import annotations

import contextlib
import logging
import time

from flask import Flask, g, request

from gems import logs

log = logging.getLogger("gems.api.access")
HEADER = "X-Request-Id"


def init_app(app: Flask) -> None:
    logs.configure("api")

    @app.before_request
    def _start():
        g.request_id = logs.clean_request_id(request.headers.get(HEADER))
        g.started = time.perf_counter()
        key = (request.view_args or {}).get("session_key") or (request.view_args or {}).get("task_id")
        g.log_token = logs.bind(request_id=g.request_id, session_key=key)

    @app.after_request
    def _finish(response):
        response.headers[HEADER] = g.get("request_id") or logs.new_request_id()
        if request.endpoint not in ("health.health", "metrics.metrics"):
            elapsed = time.perf_counter() - g.get("started", time.perf_counter())
            log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={"status": response.status_code, "duration_ms": round(elapsed * 1000, 1)},
            )
        return response

    @app.teardown_request
    def _unbind(_exc):
        token = g.pop("log_token", None)
        if token is not None:
            # Bound in another context (a streamed response): nothing to undo here.
            with contextlib.suppress(ValueError):
                logs.unbind(token)
