"""`gems model publish / versions / deploy-candidate / promote / rollback` against moto."""

from __future__ import annotations

import json
import shutil

import boto3
import pytest
from moto import mock_aws

from gems.errors import ConflictError, ValidationError
from ml import artifacts, cli, registry

BUCKET = "gems-lifecycle-test"


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("GEMS_STATE_BUCKET", BUCKET)
    monkeypatch.setenv("GEMS_HOME", str(tmp_path / "home"))
    for name in ("GEMS_SAGEMAKER_ENDPOINT", "GEMS_SERVE_IMAGE", "GEMS_SAGEMAKER_ROLE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield boto3.client("s3", region_name="us-east-1")


def _model(tmp_path, version: str):
    path = tmp_path / version
    shutil.copytree(artifacts.DEFAULT_MODEL_DIR, path)
    manifest = artifacts.read_manifest(path) | {"version": version}
    (path / artifacts.MANIFEST).write_text(json.dumps(manifest))
    return path


def test_embedded_lifecycle(env, tmp_path, capsys):
    for version in ("v1", "v2"):
        assert cli.main(["publish", "--model", str(_model(tmp_path, version))]) == 0
    assert cli.main(["deploy-candidate", "v2"]) == 0
    served = tmp_path / "home" / "models" / "v2"
    assert artifacts.read_manifest(served)["version"] == "v2"
    assert "python -m ml.serve --model" in capsys.readouterr().out

    assert cli.main(["promote", "v1"]) == 0
    assert cli.main(["promote", "v2"]) == 0
    production = tmp_path / "home" / "models" / "production"
    assert artifacts.read_manifest(production)["version"] == "v2"
    assert "rollback target: v1" in capsys.readouterr().out

    assert cli.main(["versions"]) == 0
    listing = capsys.readouterr().out
    assert "v1" in listing and "v2" in listing and "production" in listing

    assert cli.main(["rollback"]) == 0
    assert artifacts.read_manifest(production)["version"] == "v1"
    assert registry.state(env, BUCKET)["production"] == "v1"
    with pytest.raises(ConflictError):
        cli.main(["rollback"])


def test_half_configured_sagemaker_is_refused(env, tmp_path, monkeypatch):
    cli.main(["publish", "--model", str(_model(tmp_path, "v1"))])
    monkeypatch.setenv("GEMS_SERVE_IMAGE", "123.dkr.ecr.us-east-1.amazonaws.com/gems-serve:1")
    with pytest.raises(ValidationError, match="GEMS_SAGEMAKER_ROLE"):
        cli.main(["deploy-candidate", "v1"])


def test_sagemaker_candidate_through_the_cli(env, tmp_path, monkeypatch):
    cli.main(["publish", "--model", str(_model(tmp_path, "v1"))])
    monkeypatch.setenv("GEMS_SERVE_IMAGE", "123456789012.dkr.ecr.us-east-1.amazonaws.com/gems-serve:1")
    monkeypatch.setenv("GEMS_SAGEMAKER_ROLE", "arn:aws:iam::123456789012:role/gems-sagemaker")
    assert cli.main(["deploy-candidate", "v1"]) == 0
    sm = boto3.client("sagemaker", region_name="us-east-1")
    endpoint = sm.describe_endpoint(EndpointName="gems-site-candidate")
    assert endpoint["EndpointConfigName"] == "gems-site-v1"
    assert registry.state(env, BUCKET)["candidate"] == "v1"
