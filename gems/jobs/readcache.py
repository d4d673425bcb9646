"""Caches of the read path: immutable S3 objects, workers' records by version, and one shared
all-jobs tag read."""

from __future__ import annotations

import threading
import time

import gems.records
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


class RecordCache:
    """Workers' records, read again only when they changed: one listing of a job's workers/ prefix
    gives every record's ETag, so a fleet's view costs that listing and the records written since
    the last request (never a record per worker)."""

    def __init__(self, limit: int = 50_000):
        self.limit = limit
        self._seen: dict[tuple[str, int], tuple[str, gems.records.WorkerRecord]] = {}
        self.reads = 0  # records read from S3 (benchmarks.status_scale)

    def clear(self) -> None:
        self._seen.clear()

    def records(self, s3, bucket: str, session_key: str, n: int) -> list[gems.records.WorkerRecord | None]:
        out: list[gems.records.WorkerRecord | None] = [None] * n
        versions = gems.records.worker_versions(s3, bucket, session_key)
        want = []
        for i in range(n):
            etag = versions.get(i)
            if etag is None:
                continue  # never written: the worker has not started
            if (seen := self._seen.get((session_key, i))) and seen[0] == etag:
                out[i] = seen[1]
            else:
                want.append(i)
        read = gems.records.read_workers_versioned(s3, bucket, session_key, want)
        self.reads += len(want)
        if len(self._seen) > self.limit:
            self._seen.clear()
        for i, (rec, etag) in zip(want, read, strict=True):
            out[i] = rec
            if rec is not None and etag:
                self._seen[(session_key, i)] = (etag, rec)
        return out


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
