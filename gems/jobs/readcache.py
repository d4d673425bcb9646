"""Caches of the read path: immutable S3 objects, and one shared all-jobs tag read."""

from __future__ import annotations

import threading
import time

from gems.aws import ec2 as EC2
from gems.aws import s3 as S3


class ImmutableCache:
    """Finished summaries and manifests never change: keep them in memory between requests."""

    def __init__(self, limit: int = 5000):
        self.limit = limit
        self._data: dict[tuple[str, str], dict] = {}

    def get(self, s3, bucket: str, key: str) -> dict | None:
        hit = self._data.get((bucket, key))
        if hit is None:
            hit = S3.get_json(s3, bucket, key)
            if hit is not None:
                if len(self._data) >= self.limit:
                    self._data.clear()
                self._data[(bucket, key)] = hit
        return hit


class TagSnapshot:
    """The all-jobs tag read, shared: concurrent requests wait for one in-flight read, and its
    result serves for `ttl` seconds (writes made through this process invalidate it at once)."""

    def __init__(self, ec2, ttl: float = 1.0):
        self.ec2 = ec2
        self.ttl = ttl
        self._cv = threading.Condition()
        self._data: dict | None = None
        self._at = 0.0
        self._inflight = False

    def invalidate(self) -> None:
        with self._cv:
            self._data = None

    def read(self) -> dict[str, dict[str, str]]:
        with self._cv:
            while True:
                if self._data is not None and time.monotonic() - self._at < self.ttl:
                    return self._data
                if not self._inflight:
                    self._inflight = True
                    break
                self._cv.wait()
        data = None
        try:
            data = EC2.read_gems_tags(self.ec2)
            return data
        finally:
            with self._cv:
                self._inflight = False
                if data is not None:
                    self._data, self._at = data, time.monotonic()
                self._cv.notify_all()
