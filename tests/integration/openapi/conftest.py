"""The app with every blueprint, on moto: what the OpenAPI tests read routes and docs from."""

from __future__ import annotations

import pytest
from moto import mock_aws
from testconfig import TestConfig


@pytest.fixture
def app():
    with mock_aws():
        from app import create_app
        from app.services import Services

        config = TestConfig()
        services = Services.from_config(config)
        services.clients.s3.create_bucket(Bucket=config.state_bucket)
        yield create_app(config, services=services)
