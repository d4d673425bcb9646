"""EC2's request throttling, on the embedded stack's moto server, so the stack shows what AWS does.

moto answers every request. EC2 does not: it keeps a token bucket per API action for each account
and region and answers `RequestLimitExceeded` (HTTP 503) when one is empty. A fleet that tags
itself every few seconds runs fine on moto and is throttled on AWS; with this in front of moto it
is throttled here too, and the stack's clients back off as they would there.

The buckets are AWS's documented defaults for the actions gems calls in volume (an account may
have asked for more): non-mutating actions (Describe*) hold 100 tokens and refill 20 a second;
mutating ones (CreateTags, DeleteTags) hold 200 and refill 5 a second. Other actions (a launch,
a termination) are not throttled here, nor is the stack's instance runner, which stands in for
EC2 itself rather than for anything in the account.
"""

from __future__ import annotations

import io
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs

NON_MUTATING = (100.0, 20.0)  # (bucket, refill a second)
MUTATING = (200.0, 5.0)
THROTTLED_MUTATIONS = frozenset({"CreateTags", "DeleteTags"})
EC2_ITSELF = "gems-embedded-ec2"  # in the User-Agent of the instance runner's requests


def bucket_of(action: str) -> tuple[float, float] | None:
    if action.startswith("Describe"):
        return NON_MUTATING
    if action in THROTTLED_MUTATIONS:
        return MUTATING
    return None


@dataclass
class TokenBucket:
    size: float
    refill_per_s: float
    tokens: float
    at: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.size, self.tokens + (now - self.at) * self.refill_per_s)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Ec2Limits:
    """One token bucket per EC2 action, as AWS keeps for one account in one region."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()

    def admit(self, action: str) -> bool:
        shape = bucket_of(action)
        with self._lock:
            self.calls[action] += 1
            if shape is None:
                return True
            now = self.clock()
            bucket = self._buckets.get(action)
            if bucket is None:
                bucket = self._buckets[action] = TokenBucket(shape[0], shape[1], shape[0], now)
            if bucket.take(now):
                return True
            self.throttled[action] += 1
            return False


def _ec2_action(environ) -> str | None:
    """The action of an EC2 Query API request, or None for any other request. The body is read
    and put back for moto."""
    scope = environ.get("HTTP_AUTHORIZATION", "")
    if "/ec2/aws4_request" not in scope or EC2_ITSELF in environ.get("HTTP_USER_AGENT", ""):
        return None
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    found = parse_qs(body.decode("utf-8", "replace")).get("Action") or parse_qs(
        environ.get("QUERY_STRING", "")
    ).get("Action")
    return found[0] if found else None


def throttle_ec2(app, limits: Ec2Limits):
    """WSGI middleware: an EC2 request whose action's bucket is empty gets EC2's own answer."""

    def throttled(environ, start_response):
        action = _ec2_action(environ)
        if action is None or limits.admit(action):
            return app(environ, start_response)
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
            "<Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message>"
            f"</Error></Errors><RequestID>{uuid.uuid4()}</RequestID></Response>"
        ).encode()
        start_response(
            "503 Service Unavailable",
            [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))],
        )
        return [body]

    return throttled
