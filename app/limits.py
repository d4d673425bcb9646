"""The API's limits, in one place: request body size, JSON nesting depth, failed-key attempts.

| limit | value | answer |
|---|---|---|
| request body | 1 MiB; 16 MiB for POST /predict (500 patients of up to 5,000 genes); 4 MiB for TES create | 413 JSON |
| JSON nesting | 32 levels of arrays and objects | 400 JSON, field `body` |
| failed API keys | 10 per client address in 60 s | 429 JSON with Retry-After for each further wrong key or job token from that address until the window clears |

A right key or job token is never refused by this throttle: every user and worker behind one
address (a NAT gateway, the embedded stack's loopback) would otherwise be locked out by anyone
who sends wrong keys from it. Keys and tokens carry 256 bits, so guessing gains nothing from
being answered; the throttle bounds the work and the log lines wrong keys cost. It lives in the
process: on Lambda each warm container counts on its own (docs/security.md).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque

import orjson
from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider

from gems.errors import RateLimitError, ValidationError

MAX_BODY = 1024 * 1024
BODY_LIMITS = {"predict.predict": 16 * 1024 * 1024, "tes.create_task": 4 * 1024 * 1024}
MAX_DEPTH = 32
KEY_FAILURES = 10
KEY_WINDOW_S = 60.0

# Every byte but quotes and brackets, once escapes are gone. UTF-8 never uses these values inside
# a multi-byte character.
_NOT_STRUCTURE = bytes(c for c in range(256) if c not in b'"[]{}')


def json_depth(text: str | bytes, limit: int = MAX_DEPTH) -> int:
    """How deeply arrays and objects nest in a JSON text (counted up to limit + 1), without parsing.

    Escaped backslashes and quotes are dropped first (left to right, as a parser pairs them), so a
    quote that is left begins or ends a string. One C-speed translate keeps only quotes and
    brackets; then the strings go, with any brackets inside them: first every pair of adjacent
    quotes (an empty string, or the end of one string and the start of the next, so no bracket
    outside a string goes with them), then, if a string with brackets is left, every other piece
    between quotes. Each further pass removes all the innermost empty pairs at once (a marker keeps
    `{[]}` from losing both levels in one pass). The cost is the size plus (depth x brackets),
    all in bytes methods, however the text is built, and a deep body never reaches a recursive
    parser.
    """
    raw = bytes(text) if isinstance(text, bytes | bytearray) else text.encode("utf-8", "surrogatepass")
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    structure = raw.translate(None, _NOT_STRUCTURE).replace(b'""', b"")
    if b'"' in structure:
        structure = b"".join(structure.split(b'"')[::2])
    depth = 0
    while structure and depth <= limit:
        fewer = structure.replace(b"[]", b"-").replace(b"{}", b"-").replace(b"-", b"")
        if fewer == structure:
            break  # unbalanced: the parser will say what is wrong
        structure, depth = fewer, depth + 1
    return depth


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing bodies nested deeper than MAX_DEPTH before they are parsed.

    Bodies are parsed by orjson (several times the stdlib's speed on /predict's batches); what
    orjson refuses (NaN, integers past 64 bits) goes to the stdlib parser, so the answers and
    error messages stay the stdlib's.
    """

    def loads(self, s, **kwargs):
        if json_depth(s) > MAX_DEPTH:
            raise ValidationError(f"the JSON body nests deeper than {MAX_DEPTH} levels", field="body")
        if not kwargs:
            try:
                return orjson.loads(s)
            except orjson.JSONDecodeError:
                pass
        return super().loads(s, **kwargs)


class KeyThrottle:
    """Failed key attempts per client address in a sliding window; bounded memory."""

    def __init__(self, failures: int = KEY_FAILURES, window_s: float = KEY_WINDOW_S, clock=time.monotonic):
        self.failures, self.window_s, self.clock = failures, window_s, clock
        self._seen: OrderedDict[str, deque] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque:
        times = self._seen.get(address) or deque()
        while times and now - times[0] >= self.window_s:
            times.popleft()
        return times

    def failed(self, address: str | None, field: str = "Authorization") -> None:
        """Count one wrong key or token from `address`; RateLimitError (429) once the address is
        over its limit (the caller answers 401 otherwise). Only failures are ever refused."""
        now = self.clock()
        with self._lock:
            key = address or "-"
            times = self._recent(key, now)
            over = len(times) >= self.failures
            if not over:
                times.append(now)  # a refused attempt does not extend the window
            self._seen[key] = times
            self._seen.move_to_end(key)
            while len(self._seen) > 10_000:
                self._seen.popitem(last=False)
        if over:
            wait = max(1, math.ceil(times[0] + self.window_s - now))
            raise RateLimitError(
                f"too many failed API key attempts from this address; try again in {wait} s",
                retry_after=wait,
                field=field,
            )


def key_throttle() -> KeyThrottle:
    return current_app.extensions["gems_key_throttle"]


def init_app(app: Flask) -> None:
    app.json = JSONProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = max(MAX_BODY, *BODY_LIMITS.values())
    app.extensions.setdefault("gems_key_throttle", KeyThrottle())

    @app.before_request
    def _body_limit():
        limit = BODY_LIMITS.get(request.endpoint or "", MAX_BODY)
        request.max_content_length = limit
        if request.content_length is not None and request.content_length > limit:
            from werkzeug.exceptions import RequestEntityTooLarge

            raise RequestEntityTooLarge(f"the request body is over {limit // 1024} KiB, this route's limit")
