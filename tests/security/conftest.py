"""The security tier: each attack of the review (issue 18) as a test, on moto-backed services.

Three users: alice and bob hold ordinary keys, carol an admin key. The lab bucket holds a run of
three samples under run1/ (tests/motostack.py).
"""

from __future__ import annotations

import pytest
from moto import mock_aws
from motostack import make_services, seed_run
from security_helpers import KEYS, LAB
from testconfig import TestConfig


@pytest.fixture
def config():
    return TestConfig()


@pytest.fixture
def services(config):
    with mock_aws():
        svc = make_services(KEYS, config, admins=("carol",))
        seed_run(svc.clients.s3, LAB)
        yield svc


@pytest.fixture
def app(services, config):
    from app import create_app

    return create_app(config, services=services)


@pytest.fixture
def client(app):
    return app.test_client()
