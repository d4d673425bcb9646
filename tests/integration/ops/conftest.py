"""moto-backed job service and a Flask test client for the ops endpoints (metrics, request ids, faults)."""

from __future__ import annotations

import pytest
from motostack import moto_services
from opshelpers import OPS_KEYS, OPS_LAB


@pytest.fixture
def ops_services():
    with moto_services(OPS_KEYS, OPS_LAB) as svc:
        yield svc


@pytest.fixture
def ops_client(ops_services):
    from app import create_app

    return create_app(ops_services.config, services=ops_services).test_client()


@pytest.fixture
def auth_header():
    return {"Authorization": f"Bearer {OPS_KEYS['alice']}"}
