"""moto-backed services and a Flask test client for the job API."""

from __future__ import annotations

import pytest
from jobhelpers import KEYS, LAB, fastq
from moto import mock_aws

from gems import auth
from gems.aws.secrets import CredstashSecrets, create_store
from gems.config import TestConfig


@pytest.fixture
def aws():
    with mock_aws():
        yield


@pytest.fixture
def config():
    return TestConfig()


@pytest.fixture
def services(aws, config):
    from app.services import Services

    svc = Services.from_config(config, secrets=None)
    svc.clients.s3.create_bucket(Bucket=config.state_bucket)
    create_store(config)
    store = CredstashSecrets(config)
    auth.seed(store, KEYS)
    svc.keys.secrets = store
    return svc


@pytest.fixture
def lab(services):
    """A lab bucket with a run of three samples, Illumina names, and an unrelated file."""
    s3 = services.clients.s3
    s3.create_bucket(Bucket=LAB)
    for sample, n in (("S1", 1), ("S2", 2), ("S3", 3)):
        for mate in (1, 2):
            s3.put_object(Bucket=LAB, Key=f"run1/{sample}_S{n}_L001_R{mate}_001.fastq.gz", Body=fastq())
    s3.put_object(Bucket=LAB, Key="run1/SampleSheet.csv", Body=b"x")
    return s3


@pytest.fixture
def client(services, config, lab):
    from app import create_app

    return create_app(config, services=services).test_client()
