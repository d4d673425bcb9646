"""EC2's instance metadata service (IMDSv2) for the embedded stack's instances.

On EC2 an instance learns who it is and gets its role's credentials from 169.254.169.254, and
nowhere else: its user-data holds neither. The runner gives each instance the same, from one
loopback server: an instance's endpoint is `http://127.0.0.1:PORT/<instance-id>/`, handed to it
as `AWS_EC2_METADATA_SERVICE_ENDPOINT`, the setting botocore (and so boto3's credential chain)
and the worker read in place of the link-local address, which a laptop cannot bind.

Only IMDSv2 is answered (launches ask for `HttpTokens=required`): a PUT to `latest/api/token`
with a TTL gives a token, and every GET without a valid one is 401, as on EC2. An instance
launched without an instance profile has no credentials here, as on EC2 (404).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CREDENTIALS_TTL = timedelta(hours=6)  # what EC2 gives a role session, about


@dataclass
class InstanceMetadata:
    instance_id: str
    region: str
    instance_type: str = "t3.small"
    ami_id: str = ""
    availability_zone: str = ""
    profile_arn: str | None = None  # its instance profile; None: no role, no credentials
    lifecycle: str = "on-demand"  # "spot" for a spot instance, as EC2's instance-life-cycle says
    user_data: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    # A spot interruption notice ({"action": "terminate", "time": ...}), once one is given.
    interruption: dict | None = None
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (monotonic)

    @property
    def role(self) -> str | None:
        # EC2 names the role the profile holds; the embedded stack's profile and role share a name.
        return self.profile_arn.rsplit("/", 1)[-1] if self.profile_arn else None

    def describe(self, access_key: str, secret_key: str) -> dict[str, object]:
        """Path under latest/ -> what EC2 answers there (str: text, dict: JSON)."""
        now = datetime.now(UTC).replace(microsecond=0)
        meta = {
            "meta-data/instance-id": self.instance_id,
            "meta-data/instance-type": self.instance_type,
            "meta-data/instance-life-cycle": self.lifecycle,
            "meta-data/ami-id": self.ami_id,
            "meta-data/placement/region": self.region,
            "meta-data/placement/availability-zone": self.availability_zone,
            "dynamic/instance-identity/document": {
                "instanceId": self.instance_id,
                "instanceType": self.instance_type,
                "imageId": self.ami_id,
                "region": self.region,
                "availabilityZone": self.availability_zone,
                "pendingTime": now.isoformat().replace("+00:00", "Z"),
            },
        }
        meta.update({f"meta-data/tags/instance/{k}": v for k, v in self.tags.items()})
        if self.user_data:
            meta["user-data"] = self.user_data
        if self.interruption:
            meta["meta-data/spot/instance-action"] = self.interruption
        if self.role:
            stamp = now.isoformat().replace("+00:00", "Z")
            meta["meta-data/iam/info"] = {
                "Code": "Success",
                "LastUpdated": stamp,
                "InstanceProfileArn": self.profile_arn,
            }
            meta[f"meta-data/iam/security-credentials/{self.role}"] = {
                "Code": "Success",
                "LastUpdated": stamp,
                "Type": "AWS-HMAC",
                "AccessKeyId": access_key,
                "SecretAccessKey": secret_key,
                "Token": f"embedded-session-{self.instance_id}",
                "Expiration": (now + CREDENTIALS_TTL).isoformat().replace("+00:00", "Z"),
            }
        return meta


class MetadataService:
    """One loopback server answering every booted instance's metadata, keyed by path."""

    def __init__(self, access_key: str, secret_key: str, host: str = "127.0.0.1", port: int = 0):
        self._keys = (access_key, secret_key)
        self._instances: dict[str, InstanceMetadata] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> MetadataService:
        self._thread = threading.Thread(target=self._server.serve_forever, name="imds", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() waits for a serve_forever that never began
            self._server.shutdown()
            self._thread = None
        self._server.server_close()

    def register(self, meta: InstanceMetadata) -> str:
        """Serve this instance's metadata; the endpoint it is to use."""
        with self._lock:
            self._instances[meta.instance_id] = meta
        return f"{self.url}/{meta.instance_id}/"

    def forget(self, instance_id: str) -> None:
        with self._lock:
            self._instances.pop(instance_id, None)

    def lifecycle(self, instance_id: str) -> str | None:
        with self._lock:
            meta = self._instances.get(instance_id)
            return meta.lifecycle if meta else None

    def interrupt(self, instance_id: str, action: str = "terminate", in_s: int = 120) -> bool:
        """Post a spot interruption notice, as EC2 does two minutes ahead; False if unknown."""
        when = (datetime.now(UTC) + timedelta(seconds=in_s)).replace(microsecond=0)
        with self._lock:
            meta = self._instances.get(instance_id)
            if meta is None:
                return False
            meta.interruption = {"action": action, "time": when.isoformat().replace("+00:00", "Z")}
            return True

    # --- request handling (the handler calls these) ---

    def new_token(self, instance_id: str, ttl_s: int) -> str | None:
        with self._lock:
            meta = self._instances.get(instance_id)
            if meta is None:
                return None
            token = secrets.token_urlsafe(32)
            meta.tokens[token] = time.monotonic() + ttl_s
            return token

    def answer(self, instance_id: str, token: str, path: str) -> tuple[int, str, str]:
        """(status, content type, body) for a GET of latest/<path>."""
        with self._lock:
            meta = self._instances.get(instance_id)
            if meta is None:
                return 404, "text/plain", "Not Found"
            if meta.tokens.get(token, 0) < time.monotonic():
                return 401, "text/plain", "Unauthorized"
            listing = meta.describe(*self._keys)
        value = listing.get(path)
        if value is None:
            # A folder lists what is under it, one name per line, as EC2's does.
            prefix = path.rstrip("/") + "/" if path else ""
            under = sorted(
                {p[len(prefix) :].split("/")[0] for p in listing if p.startswith(prefix) and p != prefix}
            )
            if not under:
                return 404, "text/plain", "Not Found"
            value = "\n".join(under)
        if isinstance(value, dict):
            return 200, "application/json", json.dumps(value, indent=2)
        return 200, "text/plain", value


def _handler(service: MetadataService):
    class Handler(BaseHTTPRequestHandler):
        def _split(self) -> tuple[str, str]:
            parts = self.path.split("?", 1)[0].lstrip("/").split("/", 2)
            if len(parts) < 2 or parts[1] != "latest":
                return "", ""
            return parts[0], parts[2] if len(parts) > 2 else ""

        def _send(self, status: int, ctype: str, body: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_PUT(self):  # noqa: N802 - http.server's naming
            iid, path = self._split()
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
            if path != "api/token" or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                return self._send(400, "text/plain", "Bad Request")
            token = service.new_token(iid, int(ttl))
            if token is None:
                return self._send(404, "text/plain", "Not Found")
            return self._send(200, "text/plain", token)

        def do_GET(self):  # noqa: N802
            iid, path = self._split()
            if not iid:
                return self._send(404, "text/plain", "Not Found")
            self._send(*service.answer(iid, self.headers.get("X-aws-ec2-metadata-token", ""), path))

        def log_message(self, *args):  # the stack's log is for the API; tokens stay out of it
            pass

    return Handler
