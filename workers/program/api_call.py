"""A worker's calls to the API (stop its fleet, ask for a relaunch, say its status changed),
tried again until they land or their time is up.

The API may be restarting, or answering 429 to its address because someone sent wrong keys from
behind the same NAT gateway (a right token is never refused, but a proxy in between may still
throttle). A worker's last call decides whether its job ends now or at the next sweep, so it is
tried again with capped backoff, honouring Retry-After, for as long as the caller allows. An
answer that no retry can change (400, 401, 403, 404) ends the tries at once.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable

log = logging.getLogger(__name__)
FINAL = {400, 401, 403, 404, 405, 413, 422}
MAX_WAIT_S = 30.0
TIMEOUT_S = 30.0


def _retry_after(exc: urllib.error.HTTPError) -> float | None:
    try:
        return float(exc.headers.get("Retry-After", ""))
    except (TypeError, ValueError):
        return None


def post_job_call(
    url: str,
    session_key: str,
    token: str,
    *,
    within_s: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    opener: Callable = urllib.request.urlopen,
) -> bool:
    """POST {"session_key"} with the job's token to `url`; True once the API took it."""
    req = urllib.request.Request(
        url,
        data=json.dumps({"session_key": session_key}).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    deadline = clock() + within_s
    attempt = 0
    while True:
        attempt += 1
        wait = min(MAX_WAIT_S, 2.0 ** (attempt - 1))
        try:
            opener(req, timeout=TIMEOUT_S).read()
            return True
        except urllib.error.HTTPError as exc:
            if exc.code in FINAL:
                log.warning("%s answered %d: not tried again", url.rsplit("/", 1)[-1], exc.code)
                return False
            wait = max(wait, min(_retry_after(exc) or 0.0, MAX_WAIT_S * 4))
            log.warning("%s answered %d, attempt %d", url.rsplit("/", 1)[-1], exc.code, attempt)
        except Exception as exc:  # noqa: BLE001 - the API restarting, a network blip: try again
            log.warning("%s failed (%s), attempt %d", url.rsplit("/", 1)[-1], exc, attempt)
        if clock() + wait > deadline:
            log.warning("%s: gave up after %d attempts; the sweep will settle the job", url, attempt)
            return False
        sleep(wait)
