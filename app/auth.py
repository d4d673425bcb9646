"""Bearer-key authentication and job ownership for the API.

API keys live in credstash; comparisons are constant-time and keys are never logged. Failed key
attempts are counted per client address (app.limits): past the limit each further wrong key from
that address is answered 429 for a while; a right key is always served.
"""

from __future__ import annotations

import functools

from flask import current_app, g, request

from app import limits
from gems.auth import Caller
from gems.errors import AuthError, ForbiddenError
from gems.scopes import Reach


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate() -> Caller:
    """The caller of this request, from its bearer key; AuthError (401) or RateLimitError (429)."""
    token = bearer_token()
    if token is None:
        raise AuthError("missing API key: send 'Authorization: Bearer <key>'", field="Authorization")
    caller = current_app.extensions["gems"].keys.check_api_key(token)
    if caller is None:
        limits.key_throttle().failed(request.remote_addr)
        raise AuthError("invalid API key", field="Authorization")
    g.caller, g.api_user = caller, caller.user
    return caller


def optional_caller() -> Caller | None:
    """The caller when the request carries a key (a wrong one is a 401, as anywhere), else None."""
    return authenticate() if bearer_token() is not None else None


def _documented(wrapper, auth: str):
    """What /openapi.json says of the route: 'key' (always needs one) or 'read' (when reads are closed)."""
    wrapper.gems_auth = auth
    return wrapper


def require_api_key(view):
    """Allow the request only with `Authorization: Bearer <API key>`; sets g.caller and g.api_user."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        authenticate()
        return view(*args, **kwargs)

    return _documented(wrapper, "key")


def read_access(view):
    """GET endpoints: open unless the deployment sets GEMS_READ_REQUIRES_KEY=1."""
    guarded = require_api_key(view)

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if current_app.config["GEMS"].read_requires_key:
            return guarded(*args, **kwargs)
        return view(*args, **kwargs)

    return _documented(wrapper, "read")


def owner_only(param: str):
    """The job named by the route's `param` must belong to the caller (or the caller is admin).

    Anyone else gets the same 404 as for a job that does not exist, so keys cannot probe for jobs.
    Implies require_api_key.
    """

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            caller = authenticate()
            current_app.extensions["gems"].jobs.check_owner(kwargs[param], caller)
            return view(*args, **kwargs)

        return _documented(wrapper, "key")

    return decorate


def admin_only(view):
    """Only admin keys (`gems keys create NAME --admin`): answers that span every user's jobs."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not authenticate().admin:
            raise ForbiddenError(
                "this needs an admin key (gems keys create NAME --admin)", field="Authorization"
            )
        return view(*args, **kwargs)

    return _documented(wrapper, "admin")


def caller_reach() -> Reach:
    """The S3 data this request's key may run jobs on and list (after require_api_key)."""
    return Reach.of(g.caller, keys_need_scopes=current_app.config["GEMS"].keys_need_scopes)
