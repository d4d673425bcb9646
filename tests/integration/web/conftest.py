"""A moto-backed app with a lab bucket of read pairs, an API key and a small model vocabulary."""

from __future__ import annotations

import json

import pytest
from moto import mock_aws
from testconfig import TestConfig
from web_helpers import KEY, LAB, fastq

from gems import auth
from gems.aws.secrets import CredstashSecrets, create_store


@pytest.fixture
def vocabulary_dir(tmp_path, monkeypatch):
    """The model vocabulary /predict/genes and the variants mapping read (a config.json)."""
    from app.predict import vocabulary

    config = {
        "spec": {"genes": ["TP53", "KRAS", "APC"], "hotspots": []},
        "known_genes": ["TP53", "KRAS", "KRT1", "APC", "BRCA2"],
        "known_values": {"age_at_diagnosis": [10, 90]},
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    monkeypatch.setenv("GEMS_MODEL_DIR", str(tmp_path))
    vocabulary.load.cache_clear()
    yield tmp_path
    vocabulary.load.cache_clear()


@pytest.fixture
def services():
    with mock_aws():
        from app.services import Services

        config = TestConfig()
        svc = Services.from_config(config)
        svc.clients.s3.create_bucket(Bucket=config.state_bucket)
        create_store(config)
        store = CredstashSecrets(config)
        auth.seed(store, {"lab": KEY})
        svc.keys.secrets = store
        s3 = svc.clients.s3
        s3.create_bucket(Bucket=LAB)
        for sample, n in (("S1", 1), ("S2", 2)):
            for mate in (1, 2):
                s3.put_object(Bucket=LAB, Key=f"run1/{sample}_S{n}_L001_R{mate}_001.fastq.gz", Body=fastq())
        s3.put_object(Bucket=LAB, Key="run1/SampleSheet.csv", Body=b"x")
        s3.put_object(Bucket=LAB, Key="odd/X_S1_L001_R1_001.fastq.gz", Body=fastq())
        yield svc


@pytest.fixture
def app(services):
    from app import create_app

    return create_app(services.config, services=services)


@pytest.fixture
def client(app):
    return app.test_client()
