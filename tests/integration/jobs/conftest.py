"""moto-backed services and a Flask test client for the job API."""

from __future__ import annotations

import pytest
from jobhelpers import KEYS, LAB
from moto import mock_aws
from motostack import make_services, seed_run
from testconfig import TestConfig


@pytest.fixture
def aws():
    with mock_aws():
        yield


@pytest.fixture
def config():
    return TestConfig()


@pytest.fixture
def services(aws, config):
    return make_services(KEYS, config)


@pytest.fixture
def lab(services):
    """A lab bucket with a run of three samples, Illumina names, and an unrelated file."""
    s3 = services.clients.s3
    seed_run(s3, LAB)
    s3.put_object(Bucket=LAB, Key="run1/SampleSheet.csv", Body=b"x")
    return s3


@pytest.fixture
def client(services, config, lab):
    from app import create_app

    return create_app(config, services=services).test_client()
