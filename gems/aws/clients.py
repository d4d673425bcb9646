"""boto3 clients built from the Config (endpoint, region, retries)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import boto3
from botocore.config import Config as BotoConfig

from gems.config import Config

# Adaptive retries back off on throttling (RequestLimitExceeded) and capacity errors. A worker
# can wait; an API request cannot (API Gateway gives up at 29 s, and an unreachable endpoint
# should be a quick 503), so the API's clients try 3 times with a short connect timeout.
WORKER_ATTEMPTS = 8
API_ATTEMPTS = 3
PRICING_REGION = "us-east-1"


def _boto_config(attempts: int, user_agent_extra: str | None = None) -> BotoConfig:
    return BotoConfig(
        retries={"max_attempts": attempts, "mode": "adaptive"},
        max_pool_connections=50,
        connect_timeout=3,
        user_agent_extra=user_agent_extra,
    )


def client(
    config: Config, service: str, attempts: int = WORKER_ATTEMPTS, user_agent_extra: str | None = None
):
    """`user_agent_extra` names a caller in requests (the embedded stack's own stand-in for EC2)."""
    return boto3.client(
        service,
        region_name=config.region,
        endpoint_url=config.endpoint_url,
        config=_boto_config(attempts, user_agent_extra),
    )


def local_s3(endpoint_url: str):
    """An S3 client for a local stand-in (a moto server the benchmarks start), which takes any
    credentials: placeholders, so a developer's real ones are never sent to it."""
    return boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=_boto_config(WORKER_ATTEMPTS),
    )


def credential_source() -> str:
    """How boto3 found its credentials ("iam-role": the instance's metadata service, "env": the
    environment), for the log; never the credentials themselves."""
    found = boto3.Session().get_credentials()
    return found.method if found else "none"


@dataclass
class Clients:
    config: Config
    attempts: int = WORKER_ATTEMPTS

    @cached_property
    def ec2(self):
        return client(self.config, "ec2", self.attempts)

    @cached_property
    def s3(self):
        return client(self.config, "s3", self.attempts)

    @cached_property
    def sagemaker_runtime(self):
        return client(self.config, "sagemaker-runtime", self.attempts)

    @cached_property
    def pricing(self):
        """The Price List API: its endpoint is in us-east-1 whatever region the stage runs in."""
        return boto3.client(
            "pricing",
            region_name=PRICING_REGION,
            endpoint_url=self.config.endpoint_url,
            config=_boto_config(min(self.attempts, 2)),
        )
