"""The moto-backed job service the integration tiers share (imported by name: tests/ is on sys.path)."""

from __future__ import annotations

import contextlib
import gzip

from moto import mock_aws
from testconfig import TestConfig

from gems import auth
from gems.aws.secrets import CredstashSecrets, create_store


def fastq(n: int = 4, tag: str = "r") -> bytes:
    recs = [f"@{tag}{i}\nACGTACGTAC\n+\nIIIIIIIIII\n" for i in range(n)]
    return gzip.compress("".join(recs).encode())


def make_services(keys: dict[str, str], config=None, admins: tuple[str, ...] = ()):
    """Services on the active moto mock: state bucket, credstash with these API keys."""
    from app.services import Services

    config = config or TestConfig()
    svc = Services.from_config(config, secrets=None)
    svc.clients.s3.create_bucket(Bucket=config.state_bucket)
    create_store(config)
    store = CredstashSecrets(config)
    auth.seed(store, keys, admins=admins)
    svc.keys.secrets = store
    return svc


def seed_run(s3, bucket: str, prefix: str = "run1/") -> None:
    """A lab bucket holding one Illumina run of three samples."""
    s3.create_bucket(Bucket=bucket)
    for sample, n in (("S1", 1), ("S2", 2), ("S3", 3)):
        for mate in (1, 2):
            s3.put_object(Bucket=bucket, Key=f"{prefix}{sample}_S{n}_L001_R{mate}_001.fastq.gz", Body=fastq())


@contextlib.contextmanager
def moto_services(keys: dict[str, str], lab: str):
    with mock_aws():
        svc = make_services(keys)
        seed_run(svc.clients.s3, lab)
        yield svc


def use_pipeline(monkeypatch, run_sample) -> None:
    """Stand `run_sample` in for the analysis pipeline (workers.pipeline.sample) for one test, so the
    worker's own statuses, uploads and hand-over run against moto without pysam or reads."""
    import sys
    import types

    module = types.ModuleType("workers.pipeline.sample")
    module.run_sample = run_sample  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "workers.pipeline.sample", module)
