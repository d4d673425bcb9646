"""A fake BaseSpace v1pre3 API on loopback: OAuth token exchange, an app session, sample files."""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeBaseSpace:
    def __init__(self, files: dict[str, bytes], *, code: str = "the-code", token: str = "bs-token"):
        self.files = files  # file name -> content; every file belongs to sample 'smp1'
        self.code, self.token = code, token
        self.requests: list[tuple[str, str, dict]] = []
        self.status_updates: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeBaseSpace:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def session(self) -> dict:
        return {
            "Id": "as42",
            "Name": "gems run 42",
            "UserCreatedBy": {"Id": "u7", "Name": "Lab User"},
            "Properties": {
                "Items": [
                    {
                        "Name": "Input.sample-id",
                        "Type": "sample[]",
                        "Items": [{"Id": "smp1", "SampleId": "S1"}],
                    },
                    {"Name": "Input.hla-class", "Type": "string", "Content": "2"},
                ]
            },
        }

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, payload, content_type="application/json"):
                body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _authorized(self) -> bool:
                if self.headers.get("x-access-token") != fake.token:
                    self._send(401, {"ResponseStatus": {"Message": "bad token"}})
                    return False
                return True

            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                path = urllib.parse.urlparse(self.path).path
                if path == "/v1pre3/oauthv2/token":
                    form = dict(urllib.parse.parse_qsl(raw))
                    fake.requests.append(("POST", path, form))
                    if form.get("code") != fake.code or form.get("client_secret") != "secret":
                        return self._send(401, {"error": "invalid_grant"})
                    return self._send(200, {"access_token": fake.token, "token_type": "bearer"})
                if path == "/v1pre3/appsessions/as42":
                    if self._authorized():
                        fake.status_updates.append(json.loads(raw))
                        self._send(200, {"Response": fake.session()})
                    return None
                return self._send(404, {"error": "no such route"})

            def do_GET(self):  # noqa: N802
                parsed = urllib.parse.urlparse(self.path)
                fake.requests.append(("GET", parsed.path, dict(urllib.parse.parse_qsl(parsed.query))))
                if not self._authorized():
                    return None
                if parsed.path == "/v1pre3/appsessions/as42":
                    return self._send(200, {"Response": fake.session()})
                if parsed.path == "/v1pre3/samples/smp1/files":
                    items = [
                        {"Id": f"f{i}", "Name": n, "Size": len(b)}
                        for i, (n, b) in enumerate(fake.files.items())
                    ]
                    return self._send(200, {"Response": {"Items": items}})
                if parsed.path.startswith("/v1pre3/files/f") and parsed.path.endswith("/content"):
                    index = int(parsed.path.split("/")[3][1:])
                    return self._send(200, list(fake.files.values())[index], "application/octet-stream")
                return self._send(404, {"error": "no such route"})

        return Handler
