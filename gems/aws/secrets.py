"""credstash (DynamoDB + KMS) secrets, read through a short in-process cache."""

from __future__ import annotations

import threading
import time

import boto3
import credstash

from gems.config import Config
from gems.errors import MissingSecretError


class CredstashSecrets:
    """Reads and writes secrets; values are cached for `ttl` seconds so a request costs no KMS call."""

    def __init__(self, config: Config, ttl: float = 60.0):
        self.config = config
        self.ttl = ttl
        self._cache: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def _resources(self):
        kw = dict(region_name=self.config.region, endpoint_url=self.config.endpoint_url)
        return boto3.resource("dynamodb", **kw), boto3.client("kms", **kw)

    def get(self, name: str, max_age: float | None = None) -> str:
        """The secret, from the cache when it was read less than `max_age` (default: the ttl)
        seconds ago."""
        fresh = self.ttl if max_age is None else min(self.ttl, max_age)
        with self._lock:
            hit = self._cache.get(name)
            if hit and time.monotonic() - hit[0] < fresh:
                return hit[1]
        dynamodb, kms = self._resources()
        try:
            value = credstash.getSecret(name, table=self.config.credstash_table, dynamodb=dynamodb, kms=kms)
        except credstash.ItemNotFound as exc:
            raise MissingSecretError(
                f"secret {name!r} is not in credstash table {self.config.credstash_table!r}"
            ) from exc
        with self._lock:
            self._cache[name] = (time.monotonic(), value)
        return value

    def put(self, name: str, value: str) -> None:
        """Store a new version of a secret (credstash keeps the old ones)."""
        dynamodb, kms = self._resources()
        from boto3.dynamodb.conditions import Key

        found = dynamodb.Table(self.config.credstash_table).query(
            Limit=1, ScanIndexForward=False, ConsistentRead=True, KeyConditionExpression=Key("name").eq(name)
        )
        version = found["Items"][0]["version"] if found["Count"] else 0
        credstash.putSecret(
            name,
            value,
            version=credstash.paddedInt(int(version) + 1),
            kms_key=self.config.kms_alias,
            table=self.config.credstash_table,
            dynamodb=dynamodb,
            kms=kms,
        )
        with self._lock:
            self._cache.pop(name, None)


def create_store(config: Config) -> None:
    """Create the credstash table and KMS key alias if missing (embedded stack, first deploy)."""
    kw = dict(region_name=config.region, endpoint_url=config.endpoint_url)
    ddb = boto3.client("dynamodb", **kw)
    if config.credstash_table not in ddb.list_tables().get("TableNames", []):
        ddb.create_table(
            TableName=config.credstash_table,
            KeySchema=[
                {"AttributeName": "name", "KeyType": "HASH"},
                {"AttributeName": "version", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "name", "AttributeType": "S"},
                {"AttributeName": "version", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
    kms = boto3.client("kms", **kw)
    aliases = {a["AliasName"] for a in kms.list_aliases().get("Aliases", [])}
    if config.kms_alias not in aliases:
        key_id = kms.create_key(Description="credstash key for gems")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=config.kms_alias, TargetKeyId=key_id)
