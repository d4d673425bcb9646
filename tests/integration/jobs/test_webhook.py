"""Sending one callback over a real socket: the receiver gets the exact bytes and headers, a
redirect is not followed, and an address a job may not reach is refused before connecting."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gems.callbacks.webhook import post


class _Hook(BaseHTTPRequestHandler):
    got: list = []
    status = 200

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).got.append((self.path, dict(self.headers), body))
        self.send_response(type(self).status)
        if type(self).status == 302:
            self.send_header("Location", "http://127.0.0.1:1/elsewhere")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def hook():
    _Hook.got, _Hook.status = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Hook
    server.shutdown()


def test_the_receiver_gets_the_exact_body_and_headers(hook):
    base, handler = hook
    sent = post(f"{base}/in/T0K?x=1", b'{"a":1}', {"X-Gems-Delivery": "d-1"}, embedded=True)
    assert sent.http_status == 200 and sent.error == ""
    ((path, headers, body),) = handler.got
    assert path == "/in/T0K?x=1" and body == b'{"a":1}'
    assert headers["X-Gems-Delivery"] == "d-1" and headers["Host"] == base.removeprefix("http://")


def test_a_redirect_is_a_failed_delivery_and_is_not_followed(hook):
    base, handler = hook
    handler.status = 302
    sent = post(f"{base}/in", b"{}", {}, embedded=True)
    assert (sent.http_status, sent.error) == (302, "HTTP 302")
    assert len(handler.got) == 1


def test_a_receiver_that_errs_or_is_gone_is_told_in_a_few_words(hook):
    base, handler = hook
    handler.status = 503
    assert post(f"{base}/in", b"{}", {}, embedded=True).error == "HTTP 503"
    gone = post("http://127.0.0.1:9/in/SECRET", b"{}", {}, embedded=True)
    assert gone.http_status is None and gone.error == "could not connect"
    assert "SECRET" not in gone.error
    nowhere = post("https://no-such-host.invalid/in", b"{}", {}, embedded=False)
    assert nowhere.error == "the receiver's name does not resolve"


def test_loopback_is_refused_outside_the_embedded_stack_without_connecting(hook):
    base, handler = hook
    sent = post(f"{base}/in", b"{}", {}, embedded=False)
    assert sent.http_status is None and sent.error.startswith("refused: the receiver resolves to a loopback")
    assert handler.got == []
    meta = post("http://169.254.169.254/latest/", b"{}", {}, embedded=True)
    assert meta.error == "refused: the receiver resolves to an instance metadata address"
