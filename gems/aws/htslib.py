"""S3 for htslib's own client (samtools and bcftools in a child process read S3 objects by range).

A shard worker's windows read only their stretch of every shard's BAM: htslib opens
`s3://bucket/key` and fetches the blocks the BAM's index points at, rather than boto3
downloading whole objects. htslib does not ask the instance's metadata service for credentials,
so the worker hands the child the ones boto3 holds (the instance role's temporary key, secret
and token) in the child's environment only: they never reach a URL, a log or an error message,
and a URL names only the bucket and key. An endpoint that is not AWS's (the embedded stack's
moto server on loopback) is named by host, with path-style addressing and its own scheme.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import boto3

from gems.config import Config


@dataclass(frozen=True)
class S3Access:
    scheme: str  # "s3", or "s3+http" / "s3+https" for an endpoint of our own
    env: dict[str, str] = field(repr=False)  # credentials: never printed

    def url(self, bucket: str, key: str) -> str:
        return f"{self.scheme}://{bucket}/{key}"


def access(config: Config) -> S3Access:
    """What a child needs to read the config's S3 (credentials as boto3 finds them now: an
    instance role's are refreshed before they expire, so ask again for each piece of work)."""
    found = boto3.Session().get_credentials()
    env = {"AWS_DEFAULT_REGION": config.region or "us-east-1"}
    if found is not None:
        creds = found.get_frozen_credentials()
        env |= {"AWS_ACCESS_KEY_ID": creds.access_key, "AWS_SECRET_ACCESS_KEY": creds.secret_key}
        if creds.token:
            env["AWS_SESSION_TOKEN"] = creds.token
    scheme = "s3"
    if config.endpoint_url:
        parts = urlsplit(config.endpoint_url)
        scheme = f"s3+{parts.scheme or 'https'}"
        env |= {"HTS_S3_HOST": parts.netloc, "HTS_S3_ADDRESS_STYLE": "path"}
    return S3Access(scheme, env)
