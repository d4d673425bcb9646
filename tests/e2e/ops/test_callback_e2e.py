"""Signed callbacks end to end on the embedded stack: a job over real reads, with its receiver on
loopback, is POSTed its JSON when it starts running (the worker's report reaches the API, which
signs and sends) and once when it ends, each verifiable with the secret POST /job answered."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from e2e_helpers import wait_finished

from embedded.seed import demo_job

pytestmark = pytest.mark.slow


class _Receiver(BaseHTTPRequestHandler):
    got: list = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).got.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_job_posts_its_signed_status_to_the_receiver(stack):
    _Receiver.got = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        hook = f"http://127.0.0.1:{server.server_address[1]}/lab/gems"
        status, job = stack.api.submit(dict(demo_job(), workers=1, callback_url=hook))
        assert status == 201, job
        key, secret = job["session_key"], job["callback_secret"]
        wait_finished(stack.api, key, timeout_s=600)
        deadline = time.monotonic() + 60
        while (
            not any(h["X-Gems-Event"] == "finished" for h, _ in _Receiver.got) and time.monotonic() < deadline
        ):
            time.sleep(0.5)
        seen = []
        for headers, body in _Receiver.got:
            mac = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            assert headers["X-Gems-Signature"] == f"sha256={mac}"
            sent = json.loads(body)
            assert sent["session_key"] == key
            seen.append((headers["X-Gems-Event"], sent["overall_status"]))
        assert seen == [("status", "RUNNING"), ("finished", "COMPLETE")]
        view = stack.api.job(key)["callback"]
        assert view["delivered"] == 2 and view["last_delivery"]["outcome"] == "delivered"
    finally:
        server.shutdown()
