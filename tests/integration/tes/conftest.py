"""moto-backed job service and a Flask test client for the TES facade and the ops endpoints."""

from __future__ import annotations

import pytest
from motostack import moto_services
from teshelpers import TES_KEYS, TES_LAB


@pytest.fixture
def tes_services():
    with moto_services(TES_KEYS, TES_LAB) as svc:
        yield svc


@pytest.fixture
def tes_client(tes_services):
    from app import create_app

    return create_app(tes_services.config, services=tes_services).test_client()


@pytest.fixture
def auth_header():
    return {"Authorization": f"Bearer {TES_KEYS['alice']}"}
