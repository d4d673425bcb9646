"""Fixtures shared by every tier: fake AWS credentials, the shared data, moto-backed services."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Never let a test reach a real AWS account, whatever the machine's environment says.
for _k, _v in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}.items():
    os.environ[_k] = _v
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def shared() -> Path:
    from gems.config import shared_dir

    path = shared_dir()
    assert (path / "data").is_dir(), f"the shared data set is missing at {path} (set GEMS_SHARED)"
    return path


@pytest.fixture
def test_data() -> Path:
    return REPO / "tests" / "data"


@pytest.fixture(scope="session")
def model_server() -> str:
    """The inference server on the committed default model, in-process on 127.0.0.1: its URL."""
    from ml import artifacts, serve

    server, url = serve.start_in_thread(artifacts.DEFAULT_MODEL_DIR)
    yield url
    server.shutdown()
    server.server_close()
