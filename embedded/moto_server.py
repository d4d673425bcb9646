"""moto on loopback, with S3 kept across restarts by replaying a log of S3 writes.

S3 is the durable store of gems (job records, manifests, results, the model registry), so it
is what must survive `gems up` being stopped. moto's request recorder can log requests and
replay them into a fresh server; we log only S3 writes (PUT/POST/DELETE), because replaying
EC2 needs every request, reads included, to regenerate the same random IDs, and such a log
grows with every poll. EC2 instances are processes of this machine: they end with the stack,
and their jobs are read back from their S3 records. KMS key material does not survive either:
the stack re-creates its local secrets at start-up.

moto's control API (`/moto-api/...`: reset, seed, the recorder, a dashboard of every resource)
needs no credentials, so anything that can send it one request (a job's callback, a page in a
browser on this machine) could wipe or truncate the stack's state. Here it answers only requests
carrying this server's control token, which never leaves this process.
"""

from __future__ import annotations

import logging
import secrets
import threading
import urllib.request
from pathlib import Path

from embedded.ec2_limits import Ec2Limits, throttle_ec2

log = logging.getLogger(__name__)
SEED = 20261125
CONTROL_PREFIX = "/moto-api"
CONTROL_HEADER = "X-Gems-Control"


def guard_control_api(app, token: str):
    """WSGI middleware: moto's control API answers 403 without the control token; AWS's own
    APIs pass untouched."""
    want = f"HTTP_{CONTROL_HEADER.upper().replace('-', '_')}"

    def guarded(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.rstrip("/") == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            given = environ.get(want, "")
            if not secrets.compare_digest(given.encode(), token.encode()):
                body = b'{"error": "the local AWS control API is closed", "field": "path"}'
                start_response(
                    "403 FORBIDDEN",
                    [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
                )
                return [body]
        return app(environ, start_response)

    return guarded


def _is_s3_write(request) -> bool:
    if request.method not in ("PUT", "POST", "DELETE"):
        return False
    auth = request.headers.get("Authorization", "") + request.full_path
    return "/s3/aws4_request" in auth or "%2Fs3%2Faws4_request" in auth


class MotoServer:
    def __init__(self, port: int, state_dir: Path | None):
        self.port = port
        self.state_dir = state_dir
        self.url = f"http://127.0.0.1:{port}"
        self._server = None
        self.control_token = secrets.token_urlsafe(24)
        self.limits = Ec2Limits()  # EC2's throttling, as AWS applies it (embedded.ec2_limits)

    @property
    def recording(self) -> Path | None:
        return self.state_dir / "moto-writes.jsonl" if self.state_dir else None

    def start(self) -> None:
        from moto.moto_api import recorder

        self._server = guarded_server(self.control_token, self.port, self.limits)
        self._server.start()
        # The seed must be the first request so replayed IDs come out the same.
        urllib.request.urlopen(
            urllib.request.Request(
                f"{self.url}{CONTROL_PREFIX}/seed?a={SEED}",
                method="POST",
                headers={CONTROL_HEADER: self.control_token},
            ),
            timeout=10,
        )
        if self.recording is None:
            return
        self.recording.parent.mkdir(parents=True, exist_ok=True)
        recorder._location = str(self.recording)
        if self.recording.exists() and self.recording.stat().st_size:
            n = sum(1 for _ in self.recording.open())
            log.info("restoring the local AWS state (%d writes from %s)", n, self.recording)
            recorder.replay_recording(target_host=self.url)
        original = type(recorder)._record_request
        lock = threading.Lock()

        def record_writes(rec, request, body=None):
            if _is_s3_write(request):
                # One line per write, whole: the server answers requests on many threads, and
                # two large bodies (a shared index, a BAM) appended at once interleaved into a
                # line that could not be replayed, losing the stack's state at the next start.
                with lock:
                    original(rec, request, body)

        recorder._record_request = record_writes.__get__(recorder)
        recorder._user_enabled = True

    def stop(self) -> None:
        if self._server:
            self._server.stop()
            self._server = None


def guarded_server(token: str, port: int, limits: Ec2Limits | None = None):
    """moto's threaded server on loopback, its control API behind `token`, EC2 throttled by
    `limits` (moto loads only here: it is heavy, and the rest of this module is imported by the
    stack's CLI)."""
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    class GuardedMotoServer(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = guard_control_api(DomainDispatcherApplication(create_backend_app), token)
            if limits is not None:
                app = throttle_ec2(app, limits)
            self._server = make_server(
                self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
            )
            self._server_ready_event.set()
            self._server.serve_forever()

    return GuardedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
