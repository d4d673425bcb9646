"""A small HTTP client of the gems API (CLI, demo, benchmarks); urllib only, no extra packages."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from gems.errors import GemsError


class ApiError(GemsError):
    def __init__(self, status: int, body: dict):
        message = body.get("message") or body.get("error") or f"HTTP {status}"
        super().__init__(message, field=body.get("field"), details=body)
        self.status = status


class ApiClient:
    def __init__(self, api_url: str, key: str | None = None, timeout: float = 60):
        self.api_url = api_url.rstrip("/")
        self.key = key
        self.timeout = timeout

    def request(
        self, method: str, path: str, body=None, headers: dict | None = None, params: dict | None = None
    ):
        url = self.api_url + path
        if params:
            url += "?" + urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        data = json.dumps(body).encode() if body is not None else None
        hdrs = {"Accept": "application/json"}
        if data is not None:
            hdrs["Content-Type"] = "application/json"
        if self.key:
            hdrs["Authorization"] = f"Bearer {self.key}"
        hdrs.update(headers or {})
        req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - the configured API URL
                raw = resp.read()
                if resp.headers.get_content_type() in ("application/xml", "text/tab-separated-values"):
                    return resp.status, raw.decode()
                return resp.status, (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                payload = json.loads(raw)
            except ValueError:
                payload = {"message": raw.decode(errors="replace")[:200] or exc.reason}
            raise ApiError(exc.code, payload) from None
        except urllib.error.URLError as exc:
            raise GemsError(
                f"cannot reach the gems API at {self.api_url} ({exc.reason}); is `gems up` running?"
            ) from None

    def health(self) -> dict:
        return self.request("GET", "/health")[1]

    def submit(self, job: dict, idempotency_key: str | None = None) -> tuple[int, dict]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self.request("POST", "/job", job, headers=headers)

    def jobs(self, **filters) -> list[dict]:
        return self.request("GET", "/job", params=filters)[1]

    def job(self, session_key: str) -> dict:
        return self.request("GET", f"/job/{urllib.parse.quote(session_key)}")[1]

    def results(self, session_key: str) -> dict:
        return self.request("GET", f"/job/{urllib.parse.quote(session_key)}/results")[1]

    def hla_xml(self, session_key: str) -> str | None:
        """The job's HML document, or None while it has none (no HLA typing, or none finished)."""
        try:
            return self.request("GET", f"/job/{urllib.parse.quote(session_key)}/hla.xml")[1]
        except ApiError as exc:
            if exc.status in (404, 409):  # `gems results` asks after the job itself was found
                return None
            raise

    def run_table(self, session_key: str) -> dict:
        return self.request("GET", f"/job/{urllib.parse.quote(session_key)}/summary.json")[1]
