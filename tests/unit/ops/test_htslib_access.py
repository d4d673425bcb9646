"""What a samtools child gets to read S3 itself (gems.aws.htslib): the credentials boto3 holds, in
its environment only; URLs that name a bucket and key and nothing secret."""

from __future__ import annotations

import dataclasses

from gems.aws import htslib
from gems.config import Config


def test_aws_itself_is_plain_s3_with_the_role_credentials(monkeypatch):
    monkeypatch.delenv("AWS_SECURITY_TOKEN", raising=False)  # the tests' moto settings set one
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "very-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token-of-the-role")
    access = htslib.access(dataclasses.replace(Config(), region="eu-west-2", endpoint_url=None))
    assert (
        access.url("gems-state", "jobs/k/shards/S/shard-000.bam")
        == "s3://gems-state/jobs/k/shards/S/shard-000.bam"
    )
    assert access.env == {
        "AWS_DEFAULT_REGION": "eu-west-2",
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "very-secret",
        "AWS_SESSION_TOKEN": "token-of-the-role",
    }
    assert "very-secret" not in repr(access) and "token-of-the-role" not in repr(access)


def test_an_endpoint_of_our_own_is_named_by_host_with_path_style_and_its_scheme(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    for name in ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    config = dataclasses.replace(Config(), endpoint_url="http://127.0.0.1:18601")
    access = htslib.access(config)
    assert access.url("b", "k.bam") == "s3+http://b/k.bam"
    assert access.env["HTS_S3_HOST"] == "127.0.0.1:18601" and access.env["HTS_S3_ADDRESS_STYLE"] == "path"
    assert "AWS_SESSION_TOKEN" not in access.env
