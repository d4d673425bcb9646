"""One place that turns errors into JSON answers."""

from __future__ import annotations

import logging

from botocore.exceptions import BotoCoreError, ClientError
from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from gems.errors import GemsError, RateLimitError

log = logging.getLogger(__name__)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(GemsError)
    def _gems_error(exc: GemsError):
        response = jsonify(exc.to_dict())
        if isinstance(exc, RateLimitError):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response, exc.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        return jsonify({"error": code, "message": exc.description}), exc.code

    # An AWS dependency that is unreachable, refuses us or lacks a permission is the deployment's
    # fault, not a bug and not the caller's: a 503 that names the call, never its credentials.
    @app.errorhandler(BotoCoreError)
    def _aws_unreachable(exc: BotoCoreError):
        log.warning("AWS unavailable: %s: %s", type(exc).__name__, exc)
        return _unavailable(f"AWS did not answer: {type(exc).__name__}: {exc}")

    @app.errorhandler(ClientError)
    def _aws_refused(exc: ClientError):
        code = exc.response.get("Error", {}).get("Code", "error")
        log.warning("AWS %s failed: %s", exc.operation_name, code)
        return _unavailable(f"AWS {exc.operation_name} failed: {code}")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return jsonify({"error": "internal_error", "message": "internal server error"}), 500


def _unavailable(message: str):
    return jsonify({"error": "unavailable", "message": message[:300]}), 503
