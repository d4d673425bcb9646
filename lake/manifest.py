"""Data versioning: each table's manifest lists its partitions with checksums.

`_manifests/<table>.json` is the current state: every partition's key, sha256, rows, bytes and
schema version, a `version` number that goes up by one with every change and a `digest` over the
partitions' checksums. A frozen copy of each version is kept at
`_manifests/<table>/v<version>.json`, so a model or a report can cite "variants v42, digest ..."
and anyone can later read exactly those partitions back (`gems lake manifest --table variants
--version 42`). Readers take the partition list from the manifest, never from a listing, so a
query sees one consistent set of partitions.
"""

from __future__ import annotations

import hashlib
import random
import time
from datetime import UTC, datetime

from gems.errors import ConflictError, NotFoundError

MANIFEST_PREFIX = "_manifests/"
ATTEMPTS = 20  # concurrent writers (one per sample) retry the compare-and-swap this many times


def manifest_key(table: str) -> str:
    return f"{MANIFEST_PREFIX}{table}.json"


def history_key(table: str, version: int) -> str:
    return f"{MANIFEST_PREFIX}{table}/v{version:08d}.json"


def partition_id(job: str, sample: str) -> str:
    return f"job={job}/sample={sample}"


def empty(table: str) -> dict:
    return {"table": table, "version": 0, "digest": digest({}), "updated_at": None, "partitions": {}}


def digest(partitions: dict) -> str:
    h = hashlib.sha256()
    for pid in sorted(partitions):
        h.update(f"{pid}\t{partitions[pid]['sha256']}\n".encode())
    return h.hexdigest()


def read(store, table: str, version: int | None = None) -> dict:
    if version is None:
        data, _ = store.read_json(manifest_key(table))
        return data or empty(table)
    data, _ = store.read_json(history_key(table, version))
    if data is None:
        raise NotFoundError(f"{table} manifest v{version} does not exist in {store.url(MANIFEST_PREFIX)}")
    return data


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def update(store, table: str, changes: dict[str, dict | None]) -> dict:
    """Apply partition changes (id -> entry, or None to remove) with optimistic concurrency.

    Returns the new manifest. Unchanged entries leave the version as it is, so a rerun that wrote
    byte-identical Parquet does not make a new version.
    """
    key = manifest_key(table)
    with store.locked(key):
        for attempt in range(ATTEMPTS):
            current, etag = store.read_json(key)
            current = current or empty(table)
            parts = dict(current["partitions"])
            for pid, entry in changes.items():
                if entry is None:
                    parts.pop(pid, None)
                else:
                    parts[pid] = entry
            if digest(parts) == current["digest"]:
                return current
            new = {
                "table": table,
                "version": current["version"] + 1,
                "digest": digest(parts),
                "updated_at": _now(),
                "partitions": parts,
            }
            try:
                store.swap_json(key, new, etag)
            except ConflictError:
                time.sleep(random.uniform(0.02, 0.1) * (attempt + 1))
                continue
            store.write_json(history_key(table, new["version"]), new)
            return new
    raise ConflictError(f"{table} manifest: gave up after {ATTEMPTS} concurrent updates")


def cite(manifest: dict) -> str:
    """One line that names exactly the data a result used."""
    return f"{manifest['table']} v{manifest['version']} ({len(manifest['partitions'])} partitions, digest {manifest['digest'][:16]})"
