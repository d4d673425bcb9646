"""On the embedded stack's moto server EC2 throttles as AWS does: boto3 reads EC2's own error, and
gems's state writes wait it out where a heartbeat gives up until the next beat."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from embedded.moto_server import MotoServer
from embedded.stack import free_port
from gems.aws import ec2 as EC2
from gems.config import MOTO_AMI
from gems.status import heartbeat


@pytest.fixture
def server():
    s = MotoServer(free_port(), None)
    s.start()
    yield s
    s.stop()


def _ec2(url: str, attempts: int):
    return boto3.client(
        "ec2", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x",
        config=BotoConfig(retries={"total_max_attempts": attempts, "mode": "standard"}),
    )  # fmt: skip


def test_a_fleet_tagging_faster_than_ec2_refills_is_throttled(server):
    ec2 = _ec2(server.url, 1)
    iid = ec2.run_instances(ImageId=MOTO_AMI, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    codes = []
    # EC2's clock stands still through the burst and the beat after it, as if they took no time:
    # on a slow machine a fifth of a second's refill would otherwise let the beat through.
    still = time.monotonic()
    server.limits.clock = lambda: still

    def beat(i: int) -> None:
        try:
            ec2.create_tags(Resources=[iid], Tags=[{"Key": "gems:heartbeat", "Value": str(i)}])
        except ClientError as exc:
            codes.append(exc.response["Error"]["Code"])

    with ThreadPoolExecutor(16) as pool:  # a fleet's beats arrive together
        list(pool.map(beat, range(320)))
    assert codes and set(codes) == {"RequestLimitExceeded"}
    assert server.limits.throttled["CreateTags"] == len(codes)  # one attempt each: no retries
    with pytest.raises(ClientError, match="RequestLimitExceeded"):
        heartbeat(ec2, iid)  # one attempt: the next beat supersedes it
    server.limits.clock = time.monotonic  # time moves on: the bucket refills
    EC2.create_tags(ec2, [iid], {"gems:status": "COMPLETE"})  # a state change waits for a token
    tags = {t["Key"]: t["Value"] for t in ec2.describe_tags()["Tags"]}
    assert tags["gems:status"] == "COMPLETE"
