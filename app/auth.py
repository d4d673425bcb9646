"""Bearer-key authentication for the API.

API keys live in credstash; comparisons are constant-time and keys are never logged.
"""

from __future__ import annotations

import functools

from flask import current_app, g, request

from gems.errors import AuthError


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def require_api_key(view):
    """Allow the request only with `Authorization: Bearer <API key>`; sets g.api_user."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        token = bearer_token()
        if token is None:
            raise AuthError("missing API key: send 'Authorization: Bearer <key>'", field="Authorization")
        user = current_app.extensions["gems"].keys.check_api_key(token)
        if user is None:
            raise AuthError("invalid API key", field="Authorization")
        g.api_user = user
        return view(*args, **kwargs)

    return wrapper


def read_access(view):
    """GET endpoints: open unless the deployment sets GEMS_READ_REQUIRES_KEY=1."""
    guarded = require_api_key(view)

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if current_app.config["GEMS"].read_requires_key:
            return guarded(*args, **kwargs)
        return view(*args, **kwargs)

    return wrapper
