"""One small exception hierarchy; each error carries the HTTP status it maps to.

The Flask app turns these into JSON in one handler, the CLI into one line and a
non-zero exit, and the worker into a FAILED state with the message as reason.
"""

from __future__ import annotations


class GemsError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, field: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or {}

    def to_dict(self) -> dict:
        body: dict[str, object] = {"error": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        if self.details:
            body["details"] = self.details
        return body


class ValidationError(GemsError):
    status = 400
    code = "invalid_request"


class AuthError(GemsError):
    status = 401
    code = "unauthorized"


class ForbiddenError(GemsError):
    status = 403
    code = "forbidden"


class NotFoundError(GemsError):
    status = 404
    code = "not_found"


class ConflictError(GemsError):
    status = 409
    code = "conflict"


class UnavailableError(GemsError):
    status = 503
    code = "unavailable"


class MissingSecretError(UnavailableError):
    """A secret the deployment has not stored yet (a 503 for a request; a first key may create it)."""


class RateLimitError(GemsError):
    """Too many failed attempts from one address; `retry_after` seconds until the next is heard."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, field: str | None = None):
        super().__init__(message, field=field, details={"retry_after_s": retry_after})
        self.retry_after = retry_after


class InputError(GemsError):
    """Bad input data (reads, references, annotations): the sample fails with this reason."""

    status = 422
    code = "bad_input"
