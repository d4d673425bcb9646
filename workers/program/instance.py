"""Who am I: the instance ID from EC2's instance metadata service (IMDSv2).

The endpoint is botocore's own setting, AWS_EC2_METADATA_SERVICE_ENDPOINT (the link-local
address when unset), so the worker and boto3's credential chain always ask the same service:
EC2's on AWS, the runner's stand-in (embedded/imds.py) in the embedded stack."""

from __future__ import annotations

import urllib.request

from gems.config import Config

DEFAULT_ENDPOINT = "http://169.254.169.254/"


def endpoint() -> str:
    return Config.from_env().worker.metadata_endpoint


def metadata(path: str, timeout_s: float = 2.0) -> str:
    """GET latest/<path> with a fresh session token; raises OSError (HTTPError) when absent."""
    base = endpoint().rstrip("/")
    token_req = urllib.request.Request(
        f"{base}/latest/api/token", method="PUT", headers={"X-aws-ec2-metadata-token-ttl-seconds": "300"}
    )
    token = urllib.request.urlopen(token_req, timeout=timeout_s).read().decode()  # noqa: S310 - IMDS
    req = urllib.request.Request(f"{base}/latest/{path}", headers={"X-aws-ec2-metadata-token": token})
    return urllib.request.urlopen(req, timeout=timeout_s).read().decode()  # noqa: S310


def instance_id() -> str:
    return metadata("meta-data/instance-id")
