"""Who am I: the instance ID from the environment (embedded runner) or EC2's metadata service."""

from __future__ import annotations

import os
import urllib.request

IMDS = "http://169.254.169.254/latest"


def instance_id() -> str:
    if os.environ.get("GEMS_INSTANCE_ID"):
        return os.environ["GEMS_INSTANCE_ID"]
    token_req = urllib.request.Request(
        f"{IMDS}/api/token", method="PUT", headers={"X-aws-ec2-metadata-token-ttl-seconds": "300"}
    )
    token = urllib.request.urlopen(token_req, timeout=2).read().decode()  # noqa: S310 - fixed link-local URL
    req = urllib.request.Request(f"{IMDS}/meta-data/instance-id", headers={"X-aws-ec2-metadata-token": token})
    return urllib.request.urlopen(req, timeout=2).read().decode()  # noqa: S310
