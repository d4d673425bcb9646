"""moto-backed job service and a Flask test client for the TES facade and the ops endpoints."""

from __future__ import annotations

import gzip

import pytest
from moto import mock_aws
from teshelpers import TES_KEYS, TES_LAB

from gems import auth
from gems.aws.secrets import CredstashSecrets, create_store
from gems.config import TestConfig


def _fastq() -> bytes:
    return gzip.compress(b"@r0\nACGTACGTAC\n+\nIIIIIIIIII\n")


@pytest.fixture
def tes_services():
    from app.services import Services

    with mock_aws():
        config = TestConfig()
        svc = Services.from_config(config, secrets=None)
        svc.clients.s3.create_bucket(Bucket=config.state_bucket)
        create_store(config)
        store = CredstashSecrets(config)
        auth.seed(store, TES_KEYS)
        svc.keys.secrets = store
        s3 = svc.clients.s3
        s3.create_bucket(Bucket=TES_LAB)
        for sample, n in (("S1", 1), ("S2", 2), ("S3", 3)):
            for mate in (1, 2):
                s3.put_object(
                    Bucket=TES_LAB, Key=f"run1/{sample}_S{n}_L001_R{mate}_001.fastq.gz", Body=_fastq()
                )
        yield svc


@pytest.fixture
def tes_client(tes_services):
    from app import create_app

    return create_app(tes_services.config, services=tes_services).test_client()


@pytest.fixture
def auth_header():
    return {"Authorization": f"Bearer {TES_KEYS['alice']}"}
