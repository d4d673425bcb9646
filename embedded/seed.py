"""Seeding the embedded stack: buckets, credstash secrets, the local API key and the demo data."""

from __future__ import annotations

import logging
from pathlib import Path

from gems import auth
from gems.aws import s3 as S3
from gems.aws.secrets import CredstashSecrets, create_store
from gems.config import DEMO_BUCKET, DEMO_PREFIX, Config

log = logging.getLogger(__name__)
DEMO_DIR = Path(__file__).resolve().parent / "demo"
LOCAL_USER = "local"


def api_key(home: Path) -> tuple[str, Path | None]:
    """GEMS_API_KEY when set, else the key kept in .gems/api_key (generated once)."""
    if key := Config.from_env().api_key:
        return key, None
    path = home / "api_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(auth.new_key() + "\n")
        path.chmod(0o600)
    return path.read_text().strip(), path


def secrets(config: Config, key: str) -> CredstashSecrets:
    """KMS keys do not survive a restart of moto, so the secrets are written anew each start: the
    local key (an admin: this laptop's operator) and the keys made with `gems keys`."""
    create_store(config)
    store = CredstashSecrets(config)
    auth.seed(store, {LOCAL_USER: key}, admins=(LOCAL_USER,), stored=auth.saved_keys(config.home))
    return store


def buckets(s3, config: Config) -> None:
    S3.ensure_bucket(s3, config.state_bucket, config.region)
    S3.ensure_bucket(s3, DEMO_BUCKET, config.region)
    S3.ensure_bucket(s3, config.lake_bucket, config.region)


WORKER_ROLE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def instance_profile(iam, name: str) -> None:
    """The workers' instance profile (a role of the same name in it), as `gems deploy` makes one:
    instances launch with it and get their credentials from their metadata service through it."""
    import json

    from botocore.exceptions import ClientError

    def exists_ok(call, **kwargs):
        try:
            call(**kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("EntityAlreadyExists", "LimitExceeded"):
                raise

    exists_ok(iam.create_role, RoleName=name, AssumeRolePolicyDocument=json.dumps(WORKER_ROLE_POLICY))
    exists_ok(iam.create_instance_profile, InstanceProfileName=name)
    roles = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]["Roles"]
    if not roles:
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)


def demo_data(s3) -> None:
    """Upload the demo reads and references unless they are already there."""
    have = {o["Key"] for o in S3.list_keys(s3, DEMO_BUCKET, "")}
    for path in sorted((DEMO_DIR / "reads").glob("*.fastq.gz")):
        key = DEMO_PREFIX + path.name
        if key not in have:
            s3.upload_file(str(path), DEMO_BUCKET, key)
    for path in sorted((DEMO_DIR / "references").iterdir()):
        key = "references/" + path.name
        if key not in have:
            s3.upload_file(str(path), DEMO_BUCKET, key)


def one_sample_job() -> dict:
    """The smallest real job: one demo sample (class I HLA typing) on one worker."""
    return {
        "bucket": DEMO_BUCKET,
        "prefix": DEMO_PREFIX,
        "hla_class": 1,
        "samples": ["HLA-sim-NA12878"],
        "workers": 1,
        "reference": f"s3://{DEMO_BUCKET}/references/demo.fa",
    }


def demo_job() -> dict:
    """The demo job: every demo sample, two workers, class I HLA typing, the full pipeline."""
    return {
        "bucket": DEMO_BUCKET,
        "prefix": DEMO_PREFIX,
        "hla_class": 1,
        "workers": 2,
        "reference": f"s3://{DEMO_BUCKET}/references/demo.fa",
        "options": {
            "annotation": f"s3://{DEMO_BUCKET}/references/demo.gff3",
            "targets": f"s3://{DEMO_BUCKET}/references/demo-targets.bed",
            "threads": 1,
        },
    }
