"""A small client of BaseSpace Sequence Hub's v1pre3 API: the OAuth code exchange, the app session,
a sample's FASTQ files and their content. urllib only (the Lambda package stays small).

The API base URL is configurable (GEMS_BASESPACE_API) so tests run against a fake BaseSpace on
loopback; nothing here knows which one it talks to.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request

from gems.config import BaseSpaceSettings
from gems.errors import AuthError, UnavailableError, ValidationError

TIMEOUT_S = 20
_SESSION_URI = re.compile(r"^(?:v\w+/)?(?:appsessions/)?([A-Za-z0-9-]{1,64})/?$")


def session_id(appsessionuri: str) -> str:
    """'v1pre3/appsessions/abc123' (or a bare id) -> 'abc123'; anything else is a 400."""
    match = _SESSION_URI.match((appsessionuri or "").strip())
    if not match:
        raise ValidationError("appsessionuri must name a BaseSpace app session", field="appsessionuri")
    return match[1]


class BaseSpace:
    def __init__(self, settings: BaseSpaceSettings, token: str = ""):
        self.settings = settings
        self.token = token

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        query = urllib.parse.urlencode(
            {
                "client_id": self.settings.client_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": "read global",
                "state": state,
            }
        )
        return f"{self.settings.oauth_url}/oauth/authorize?{query}"

    def _call(self, method: str, path: str, *, form: dict | None = None, body: dict | None = None):
        url = f"{self.settings.api_url}/{path.lstrip('/')}"
        headers = {"Accept": "application/json"}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["x-access-token"] = self.token
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            return urllib.request.urlopen(request, timeout=TIMEOUT_S)  # noqa: S310 - configured URL
        except urllib.error.HTTPError as exc:
            text = exc.read()[:300].decode("utf-8", "replace")
            if exc.code in (401, 403):
                raise AuthError(f"BaseSpace refused the request ({exc.code}): {text}", field="code") from None
            raise UnavailableError(f"BaseSpace answered {exc.code} to {method} {path}: {text}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise UnavailableError(f"BaseSpace at {self.settings.api_url} unreachable: {exc}") from None

    def _json(self, method: str, path: str, **kwargs) -> dict:
        with self._call(method, path, **kwargs) as response:
            try:
                return json.loads(response.read())
            except ValueError:
                raise UnavailableError(
                    f"BaseSpace answered {method} {path} with something not JSON"
                ) from None

    def exchange_code(self, code: str, redirect_uri: str) -> str:
        """The OAuth2 authorization code -> an access token (POST v1pre3/oauthv2/token)."""
        answer = self._json(
            "POST",
            "v1pre3/oauthv2/token",
            form={
                "code": code,
                "redirect_uri": redirect_uri,
                "grant_type": "authorization_code",
                "client_id": self.settings.client_id,
                "client_secret": self.settings.client_secret,
            },
        )
        token = answer.get("access_token")
        if not token:
            raise AuthError("BaseSpace gave no access token for this code", field="code")
        self.token = token
        return token

    def app_session(self, sid: str) -> dict:
        return self._json("GET", f"v1pre3/appsessions/{urllib.parse.quote(sid)}").get("Response") or {}

    def sample_files(self, sample_id: str) -> list[dict]:
        path = f"v1pre3/samples/{urllib.parse.quote(sample_id)}/files?Extensions=.fastq.gz&Limit=1024"
        return (self._json("GET", path).get("Response") or {}).get("Items") or []

    def open_file(self, file_id: str):
        """A readable response of the file's bytes (BaseSpace redirects to its own S3)."""
        return self._call("GET", f"v1pre3/files/{urllib.parse.quote(file_id)}/content")

    def set_status(self, sid: str, status: str, summary: str) -> None:
        self._json(
            "POST",
            f"v1pre3/appsessions/{urllib.parse.quote(sid)}",
            body={"status": status, "statusSummary": summary},
        )


def launch_inputs(session: dict) -> dict:
    """What the app session asks to run: its samples and the HLA class from the app's input form."""
    samples: list[dict] = []
    hla_class = 1
    for prop in (session.get("Properties") or {}).get("Items") or []:
        name = prop.get("Name", "")
        if prop.get("Type") == "sample[]" or name.startswith("Input.sample"):
            items = prop.get("Items") or ([prop["Content"]] if isinstance(prop.get("Content"), dict) else [])
            samples += [
                {"id": str(s["Id"]), "name": s.get("SampleId") or s.get("Name") or str(s["Id"])}
                for s in items
            ]
        elif name == "Input.hla-class" and str(prop.get("Content")) in ("1", "2"):
            hla_class = int(prop["Content"])
    if not samples:
        raise ValidationError("the app session names no samples (Input.sample-id)", field="appsessionuri")
    return {"samples": samples, "hla_class": hla_class, "name": session.get("Name") or ""}
