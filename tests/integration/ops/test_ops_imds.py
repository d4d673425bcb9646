"""The embedded stack's instance metadata service answers as EC2's does (IMDSv2 only), and what
the worker and boto3 ask of it works: the worker learns its instance id there, and boto3's own
credential chain, with nothing in the environment, finds the role's credentials there."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import botocore.session
import pytest

from embedded.imds import InstanceMetadata, MetadataService
from workers.program import instance

PROFILE = "arn:aws:iam::123456789012:instance-profile/gems-worker"


@pytest.fixture
def imds():
    service = MetadataService("AKIDEXAMPLE", "secret-example").start()
    yield service
    service.stop()


def _endpoint(imds, profile=PROFILE, **extra) -> str:
    meta = InstanceMetadata(
        "i-0abc", "eu-west-1", instance_type="c6i.large", profile_arn=profile, tags={"gems:job": "k"}, **extra
    )
    return imds.register(meta)


def _get(url: str, token: str | None = None) -> tuple[int, str]:
    headers = {"X-aws-ec2-metadata-token": token} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _token(base: str, ttl: str = "60") -> tuple[int, str]:
    req = urllib.request.Request(
        base + "latest/api/token", method="PUT", headers={"X-aws-ec2-metadata-token-ttl-seconds": ttl}
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_only_imdsv2_is_answered(imds):
    base = _endpoint(imds)
    assert _get(base + "latest/meta-data/instance-id")[0] == 401  # no token: IMDSv1 is off
    assert _get(base + "latest/meta-data/instance-id", "made-up")[0] == 401
    assert _token(base, ttl="0")[0] == 400 and _token(base, ttl="99999")[0] == 400
    status, token = _token(base)
    assert status == 200
    assert _get(base + "latest/meta-data/instance-id", token) == (200, "i-0abc")
    assert _get(base + "latest/meta-data/placement/region", token) == (200, "eu-west-1")
    assert _get(base + "latest/meta-data/tags/instance/gems:job", token) == (200, "k")
    assert _get(base + "latest/meta-data/spot/instance-action", token)[0] == 404  # no notice yet
    status, listing = _get(base + "latest/meta-data/", token)
    assert status == 200 and {"instance-id", "iam", "placement"} <= set(listing.split("\n"))
    doc = json.loads(_get(base + "latest/dynamic/instance-identity/document", token)[1])
    assert doc["instanceId"] == "i-0abc" and doc["instanceType"] == "c6i.large"
    # Another instance's token is not this one's, and an unknown instance has no metadata.
    other = imds.register(InstanceMetadata("i-0def", "eu-west-1"))
    assert _get(other + "latest/meta-data/instance-id", token)[0] == 401
    assert _token(base.replace("i-0abc", "i-0nope"))[0] == 404


def test_the_worker_finds_its_instance_id(imds, monkeypatch):
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", _endpoint(imds))
    assert instance.instance_id() == "i-0abc"


def test_boto3_finds_the_role_credentials_there_and_nowhere_else(imds, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", _endpoint(imds))
    creds = botocore.session.get_session().get_credentials()
    assert creds is not None and creds.method == "iam-role"
    frozen = creds.get_frozen_credentials()
    assert frozen.access_key == "AKIDEXAMPLE" and frozen.token == "embedded-session-i-0abc"


def test_an_instance_without_a_profile_has_no_credentials(imds, monkeypatch, tmp_path):
    base = _endpoint(imds, profile=None)
    token = _token(base)[1]
    assert _get(base + "latest/meta-data/iam/security-credentials/", token)[0] == 404
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", base)
    assert botocore.session.get_session().get_credentials() is None


def test_a_spot_notice_appears_once_given(imds):
    base = _endpoint(imds)
    assert imds.interrupt("i-0abc") and not imds.interrupt("i-0nope")
    status, body = _get(base + "latest/meta-data/spot/instance-action", _token(base)[1])
    assert status == 200 and json.loads(body)["action"] == "terminate"
