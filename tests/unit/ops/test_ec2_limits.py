"""The embedded stack throttles EC2 as AWS does: a token bucket per action, EC2's own error when
it is empty, and nothing else touched (embedded.ec2_limits)."""

from __future__ import annotations

import io

from embedded.ec2_limits import EC2_ITSELF, Ec2Limits, throttle_ec2


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_create_tags_has_a_bucket_of_200_refilled_5_a_second():
    clock = Clock()
    limits = Ec2Limits(clock)
    assert all(limits.admit("CreateTags") for _ in range(200))
    assert not limits.admit("CreateTags")
    clock.t += 1
    assert sum(limits.admit("CreateTags") for _ in range(10)) == 5
    assert limits.throttled["CreateTags"] == 6


def test_each_action_has_its_own_bucket_and_describes_refill_faster():
    clock = Clock()
    limits = Ec2Limits(clock)
    assert all(limits.admit("DescribeTags") for _ in range(100)) and not limits.admit("DescribeTags")
    assert limits.admit("DescribeInstances")  # another action's bucket is full
    clock.t += 1
    assert sum(limits.admit("DescribeTags") for _ in range(30)) == 20
    assert all(limits.admit("RunInstances") for _ in range(1_000))  # not modelled here


def _request(action: str, *, agent: str = "Boto3/1", service: str = "ec2"):
    body = f"Action={action}&Version=2016-11-15&ResourceId.1=i-1".encode()
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential=x/20261207/us-east-1/{service}/aws4_request",
        "HTTP_USER_AGENT": agent,
    }


def test_an_empty_bucket_gets_ec2s_own_answer_and_moto_never_sees_it():
    limits, seen = Ec2Limits(Clock()), []

    def moto(environ, start_response):
        seen.append(environ["wsgi.input"].read())
        start_response("200 OK", [])
        return [b"ok"]

    app = throttle_ec2(moto, limits)
    statuses = []
    for _ in range(201):
        out = b"".join(app(_request("CreateTags"), lambda status, headers: statuses.append(status)))
    assert statuses[:200] == ["200 OK"] * 200 and statuses[200].startswith("503")
    assert b"<Code>RequestLimitExceeded</Code>" in out
    assert len(seen) == 200 and seen[0].startswith(b"Action=CreateTags")  # the body reached moto whole
    # S3, and the stack's own stand-in for EC2, are never throttled
    for environ in (
        _request("CreateTags", service="s3"),
        _request("CreateTags", agent=f"Boto3 {EC2_ITSELF}"),
    ):
        app(environ, lambda status, headers: statuses.append(status))
    assert statuses[-2:] == ["200 OK", "200 OK"]
