"""boto3 clients built from the Config (endpoint, region, retries)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import boto3
from botocore.config import Config as BotoConfig

from gems.config import Config

# Adaptive retries back off on throttling (RequestLimitExceeded) and capacity errors.
_RETRIES = BotoConfig(retries={"max_attempts": 8, "mode": "adaptive"}, max_pool_connections=50)


def client(config: Config, service: str):
    return boto3.client(service, region_name=config.region, endpoint_url=config.endpoint_url, config=_RETRIES)


@dataclass
class Clients:
    config: Config

    @cached_property
    def ec2(self):
        return client(self.config, "ec2")

    @cached_property
    def s3(self):
        return client(self.config, "s3")

    @cached_property
    def sagemaker_runtime(self):
        return client(self.config, "sagemaker-runtime")
