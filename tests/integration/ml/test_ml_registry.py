"""The model registry in S3 and the SageMaker deploy steps, against moto."""

from __future__ import annotations

import json
import shutil
import tarfile

import boto3
import pytest
from moto import mock_aws

from gems.errors import ConflictError, NotFoundError
from ml import artifacts, registry, sagemaker

BUCKET = "gems-test-state"


def _version(tmp_path, name: str):
    model_dir = tmp_path / name
    shutil.copytree(artifacts.DEFAULT_MODEL_DIR, model_dir)
    manifest = artifacts.read_manifest(model_dir) | {
        "version": name,
        "created": f"2026-01-0{name[-1]}T00:00:00+00:00",
    }
    (model_dir / artifacts.MANIFEST).write_text(json.dumps(manifest))
    return model_dir


@pytest.fixture
def s3():
    with mock_aws():
        yield boto3.client("s3", region_name="us-east-1")


def test_publish_promote_and_roll_back(s3, tmp_path):
    for name in ("v1", "v2", "v3"):
        assert registry.publish(s3, BUCKET, _version(tmp_path, name)) == name
    assert [m["version"] for m in registry.versions(s3, BUCKET)] == ["v1", "v2", "v3"]
    with pytest.raises(ConflictError):
        registry.publish(s3, BUCKET, _version(tmp_path / "again", "v1"))

    registry.promote(s3, BUCKET, "v1")
    registry.mark_candidate(s3, BUCKET, "v2")
    state = registry.promote(s3, BUCKET, "v2")
    assert (state["production"], state["previous"], state["candidate"]) == ("v2", ["v1"], None)
    state = registry.promote(s3, BUCKET, "v3")
    assert state["previous"] == ["v1", "v2"]

    state = registry.rollback(s3, BUCKET)
    assert (state["production"], state["previous"]) == ("v2", ["v1"])
    state = registry.rollback(s3, BUCKET)
    assert (state["production"], state["previous"]) == ("v1", [])
    with pytest.raises(ConflictError, match="nothing to roll back"):
        registry.rollback(s3, BUCKET)
    assert [h["action"] for h in registry.state(s3, BUCKET)["history"]] == [
        "promote",
        "candidate",
        "promote",
        "promote",
        "rollback",
        "rollback",
    ]
    with pytest.raises(NotFoundError):
        registry.promote(s3, BUCKET, "v9")


def test_fetch_unpacks_the_sagemaker_layout(s3, tmp_path):
    registry.publish(s3, BUCKET, _version(tmp_path, "v1"))
    target = registry.fetch(s3, BUCKET, "v1", tmp_path / "served")
    assert artifacts.read_manifest(target)["version"] == "v1"
    assert (target / artifacts.MODEL_FILE).read_bytes() == (
        artifacts.DEFAULT_MODEL_DIR / artifacts.MODEL_FILE
    ).read_bytes()
    s3.download_file(BUCKET, registry.tarball_key("v1"), str(tmp_path / "m.tar.gz"))
    with tarfile.open(tmp_path / "m.tar.gz") as tar:
        names = sorted(tar.getnames())
    # SageMaker unpacks model.tar.gz into /opt/ml/model: the files sit at the root, no folder.
    assert names == sorted(n for n in sagemaker.PACKAGED if (artifacts.DEFAULT_MODEL_DIR / n).exists())


ROLE = "arn:aws:iam::123456789012:role/gems-sagemaker"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/gems-serve:latest"


def test_deploy_creates_the_model_config_and_candidate_endpoint(s3, tmp_path):
    sm = boto3.client("sagemaker", region_name="us-east-1")
    registry.publish(s3, BUCKET, _version(tmp_path, "v1"))
    url = registry.tarball_url(BUCKET, "v1")
    first = sagemaker.deploy(
        sm,
        version="v1",
        model_data_url=url,
        image_uri=IMAGE,
        role_arn=ROLE,
        endpoint_name="gems-site-candidate",
    )
    assert first == {
        "model": "gems-site-v1",
        "endpoint_config": "gems-site-v1",
        "endpoint": "gems-site-candidate",
        "action": "created",
    }
    container = sm.describe_model(ModelName="gems-site-v1")["PrimaryContainer"]
    assert (
        container["ModelDataUrl"] == f"s3://{BUCKET}/models/v1/model.tar.gz" and container["Image"] == IMAGE
    )
    variant = sm.describe_endpoint_config(EndpointConfigName="gems-site-v1")["ProductionVariants"][0]
    assert variant["ModelName"] == "gems-site-v1" and variant["InstanceType"] == "ml.m5.large"
    assert sm.describe_endpoint(EndpointName="gems-site-candidate")["EndpointConfigName"] == "gems-site-v1"


def test_deploying_to_an_existing_endpoint_updates_it():
    """moto has no update_endpoint, so this path runs against botocore's Stubber."""
    from botocore.stub import ANY, Stubber

    sm = boto3.client("sagemaker", region_name="us-east-1")
    with Stubber(sm) as stub:
        stub.add_client_error(
            "create_model", "ValidationException", "Cannot create already existing model", 400
        )
        stub.add_response(
            "create_endpoint_config",
            {"EndpointConfigArn": "arn:aws:sagemaker:x:1:endpoint-config/gems-site-v2"},
            {"EndpointConfigName": "gems-site-v2", "ProductionVariants": ANY, "Tags": ANY},
        )
        stub.add_response(
            "describe_endpoint", _described("gems-site-v1"), {"EndpointName": "gems-site-candidate"}
        )
        stub.add_response(
            "update_endpoint",
            {"EndpointArn": "arn:aws:sagemaker:x:1:endpoint/gems-site-candidate"},
            {"EndpointName": "gems-site-candidate", "EndpointConfigName": "gems-site-v2"},
        )
        result = sagemaker.deploy(
            sm,
            version="v2",
            model_data_url="s3://b/models/v2/model.tar.gz",
            image_uri=IMAGE,
            role_arn=ROLE,
            endpoint_name="gems-site-candidate",
        )
        stub.assert_no_pending_responses()
    assert result["action"] == "updated"


def _described(config_name: str) -> dict:
    import datetime

    now = datetime.datetime(2026, 1, 1)
    return {
        "EndpointName": "gems-site-candidate",
        "EndpointArn": "arn:aws:sagemaker:x:1:endpoint/gems-site-candidate",
        "EndpointConfigName": config_name,
        "EndpointStatus": "InService",
        "CreationTime": now,
        "LastModifiedTime": now,
    }


def test_resource_names_are_sagemaker_safe():
    assert sagemaker.resource_name("20261125-213000-s0") == "gems-site-20261125-213000-s0"
    assert (
        sagemaker.resource_name("a_b.c" + "x" * 80).startswith("gems-site-a-b-c")
        and len(sagemaker.resource_name("x" * 80)) <= 63
    )
