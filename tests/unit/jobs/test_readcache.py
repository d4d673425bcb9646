"""The shared tag read: concurrent GET /job requests cost one DescribeTags loop, not one each."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from gems.jobs import readcache


def test_concurrent_readers_share_one_read_and_writes_invalidate(monkeypatch):
    calls = []
    gate = threading.Event()

    def slow_read(ec2):
        calls.append(1)
        gate.wait(2)
        return {"i-1": {"gems:session": str(len(calls))}}

    monkeypatch.setattr(readcache.EC2, "read_gems_tags", slow_read)
    snap = readcache.TagSnapshot(ec2=None, ttl=60)
    with ThreadPoolExecutor(20) as pool:
        futures = [pool.submit(snap.read) for _ in range(20)]
        time.sleep(0.2)
        gate.set()
        results = [f.result() for f in futures]
    assert len(calls) == 1 and all(r == results[0] for r in results)
    assert snap.read() is results[0]  # within the TTL
    snap.invalidate()
    assert snap.read()["i-1"]["gems:session"] == "2"


def test_a_failed_read_is_not_cached(monkeypatch):
    outcomes = [RuntimeError("throttled"), {"i-1": {}}]

    def flaky(ec2):
        out = outcomes.pop(0)
        if isinstance(out, Exception):
            raise out
        return out

    monkeypatch.setattr(readcache.EC2, "read_gems_tags", flaky)
    snap = readcache.TagSnapshot(ec2=None)
    with pytest.raises(RuntimeError):
        snap.read()
    assert snap.read() == {"i-1": {}}
