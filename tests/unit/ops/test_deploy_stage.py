"""The Zappa stage built from a stack's outputs, and the launch-time worker wheel URL (no I/O)."""

from __future__ import annotations

import json

from testconfig import TestConfig

from gems.deploy import settings, stack
from gems.deploy.stage import api_url_of, stage_settings, zappa_commands
from gems.deploy.wheel import worker_code

OUTPUTS = {
    "StateBucket": "gems-lab-state-1",
    "LakeBucket": "gems-lab-lake-1",
    "DeploymentBucket": "gems-lab-zappa-1",
    "CredstashTable": "gems-lab-credentials",
    "CredstashKeyAlias": "alias/gems-lab-credstash",
    "ApiRoleName": "gems-lab-api",
    "ApiRoleArn": "arn:aws:iam::1:role/gems-lab-api",
    "WorkerInstanceProfile": "gems-lab-worker",
    "WorkerSecurityGroup": "sg-0123",
    "WorkerAmi": "ami-0123456789abcdef0",
    "SubnetId": "subnet-0123",
    "ModelRoleArn": "arn:aws:iam::1:role/gems-lab-model",
}
SETTINGS = settings.DeploySettings(
    stage="lab", region="eu-west-1", data_buckets=("lab-a",), reference_buckets=("refs",)
)


def test_stage_settings_come_from_the_outputs_and_keep_the_shared_ones():
    stage = stage_settings(
        SETTINGS, OUTPUTS, "gems-0.1.0-py3-none-any.whl", api_url="https://x.example/lab/"
    )["lab"]
    env = stage["environment_variables"]
    assert env["GEMS_API"] == "https://x.example/lab"
    assert env["GEMS_WORKER_SOURCE"] == "s3://gems-lab-state-1/dist/gems-0.1.0-py3-none-any.whl"
    assert env["GEMS_KMS_ALIAS"] == "alias/gems-lab-credstash"
    assert stage["aws_region"] == "eu-west-1" and stage["manage_roles"] is False
    assert stage["app_function"] == "app.wsgi.app" and stage["log_level"] == "INFO"
    assert any(e["function"] == "app.events.sweep" for e in stage["events"])
    # Before API Gateway has named the URL, no loopback GEMS_API is handed to workers.
    assert "GEMS_API" not in stage_settings(SETTINGS, OUTPUTS, "w.whl")["lab"]["environment_variables"]


def test_zappa_deploys_first_then_updates():
    assert zappa_commands("lab", "/s.json", deployed=False)[0][1:3] == ["deploy", "lab"]
    assert zappa_commands("lab", "/s.json", deployed=True)[0][1:3] == ["update", "lab"]


def test_api_url_from_zappa_status():
    url = "https://abc123.execute-api.eu-west-1.amazonaws.com/lab"
    assert api_url_of(json.dumps({"API Gateway URL": url})) == url
    assert api_url_of(f"\tAPI Gateway URL: {url}\n") == url
    assert api_url_of("nothing here") == ""


def test_parameters_read_data_and_reference_buckets():
    p = stack.parameters(SETTINGS.with_(vpc_id="vpc-1", subnet_id="subnet-1"))
    assert p["DataBuckets"] == "lab-a" and p["ReadBuckets"] == "lab-a,refs" and p["Stage"] == "lab"


class _S3:
    def generate_presigned_url(self, op, Params, ExpiresIn):  # noqa: N803 - boto3's names
        return f"https://s3.example/{Params['Bucket']}/{Params['Key']}?sig&t={ExpiresIn}"


def test_an_s3_worker_source_is_signed_at_each_launch():
    config = TestConfig(worker_source="s3://gems-lab-state-1/dist/gems-0.1.0-py3-none-any.whl")
    signed = worker_code(config, _S3()).worker_source
    assert signed.startswith("https://s3.example/gems-lab-state-1/dist/gems-0.1.0-py3-none-any.whl?")
    assert worker_code(TestConfig(worker_source="local"), _S3()).worker_source == "local"
