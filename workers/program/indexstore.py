"""Built indexes shared between workers through the state bucket.

A fresh instance has an empty disk, so each one used to build the HLA typing index again (about
25 s of a small sample's minute). The first worker to build an index of a given reference
content publishes it as one archive (`cache/<kind>/<name>.tar.gz`, the name carrying the
reference checksum and the index version); every later worker downloads and unpacks it in a
second or two. A fetch that fails or finds a broken archive falls back to building; a publish
that fails is only logged: the cache saves time, it never decides a result.
"""

from __future__ import annotations

import logging
import re
import tarfile
import tempfile
from pathlib import Path

from gems import statekeys
from gems.aws import s3 as S3
from gems.errors import NotFoundError

log = logging.getLogger(__name__)
_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{0,127}$")
_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")  # an index's own files, flat


class S3IndexStore:
    def __init__(self, s3, bucket: str):
        self.s3, self.bucket = s3, bucket

    def _key(self, kind: str, name: str) -> str:
        if not (_NAME.match(kind) and _NAME.match(name)):
            raise ValueError(f"not an index name: {kind}/{name}")
        return statekeys.index_cache_key(kind, name)

    def fetch(self, kind: str, name: str, dest: Path) -> bool:
        """Unpack the shared index into `dest` (a new, empty folder); False when there is none."""
        key = self._key(kind, name)
        with tempfile.TemporaryDirectory() as tmp:
            archive = Path(tmp) / "index.tar.gz"
            try:
                S3.download(self.s3, self.bucket, key, archive)
            except NotFoundError:
                return False
            except Exception as exc:  # noqa: BLE001 - no cache today: build instead
                log.warning("could not fetch the shared %s index (%s); building it", kind, type(exc).__name__)
                return False
            try:
                with tarfile.open(archive, "r:gz") as tar:
                    members = tar.getmembers()
                    if not all(m.isfile() and _FILE.match(m.name) for m in members):
                        raise ValueError("unexpected entries")
                    tar.extractall(dest, filter="data")
            except (OSError, tarfile.TarError, ValueError) as exc:
                log.warning("the shared %s index is unreadable (%s); building it", kind, exc)
                return False
        return True

    def publish(self, kind: str, name: str, src: Path) -> None:
        """Share a freshly built index (its files, flat) for the next workers."""
        try:
            key = self._key(kind, name)
            with tempfile.TemporaryDirectory() as tmp:
                archive = Path(tmp) / "index.tar.gz"
                with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
                    for path in sorted(Path(src).iterdir()):
                        if path.is_file():
                            tar.add(path, arcname=path.name)
                S3.upload(self.s3, archive, self.bucket, key, attempts=2)
            log.info("shared the %s index as s3://%s/%s", kind, self.bucket, key)
        except Exception as exc:  # noqa: BLE001 - the next worker builds it; nothing is lost
            log.warning("could not share the %s index: %s", kind, exc)
