"""Job status at fleet size: `GET /job/<key>` for one job of 64 samples x 16 shards (1,088 workers).

The embedded stack with the real API server over HTTP and moto, EC2 throttled as AWS throttles an
account (embedded.ec2_limits); the instance runner is off, and every worker's record and tags
are written as a running worker writes them (gems.status), so the view has 1,088 live records to
show. The fleet starts together (every worker tags itself RUNNING at once, 64 at a time), then
keeps moving while it is measured: a few workers a second change step (the record only; one
in ten changes a sample's state, the record and its tags), and the fleet's beacons write
progress or a heartbeat at the job's CreateTags budget (gems.tagrate), as workers do.
Reported: how long the fleet's start took and how often EC2 throttled it; `GET /job/<key>`
p50/p99 as a ratio to one raw `DescribeTags` page loop over the job's instances measured in the
same run (goal: within 1.5x); and the S3 record reads per request.

    .venv/bin/python -m benchmarks.status_scale [--samples 64] [--shards 16] [--repeats 30]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from benchmarks.controlplane import control_plane
from benchmarks.jobs import pct, timed
from gems import records, sharding, tagrate
from gems.aws import ec2 as EC2
from gems.aws.clients import Clients
from gems.states import SampleStatus, WorkerStatus
from gems.status import heartbeat, new_worker_record, record_progress, record_status

BUCKET = "bench-shards"


def seed(s3, samples: int, shards: int) -> None:
    s3.create_bucket(Bucket=BUCKET)
    body = os.urandom(shards * 2 * 10_000)  # sizes only matter: enough for one 10 kb batch per shard
    for s in range(samples):
        for mate in (1, 2):
            s3.put_object(Bucket=BUCKET, Key=f"run/S{s:02d}_S{s + 1}_L001_R{mate}_001.fastq.gz", Body=body)
    for name in ("ref.fa", "ref.fa.fai", "ref.fa.sr.mmi"):
        s3.put_object(Bucket=BUCKET, Key=f"refs/{name}", Body=b">c\nACGT\n")


class Fleet:
    """Every worker's record written as a running worker writes it, then kept moving."""

    def __init__(self, clients: Clients, state_bucket: str, job: records.JobRecord):
        self.clients, self.bucket, self.job = clients, state_bucket, job
        self.records = {}
        self.versions = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.transitions = self.beacon_writes = self.beacon_missed = 0

    def _start(self, i: int) -> None:
        plan = self.job.workers[i]
        rec = new_worker_record(self.job.session_key, i, plan.instance_id, plan.samples)
        self.records[i] = rec
        self.versions[i] = record_status(
            self.clients.ec2, self.clients.s3, state_bucket=self.bucket, record=rec, version="",
            status=WorkerStatus.RUNNING, step="preparing references",
        )  # fmt: skip

    def start_all(self) -> None:
        with ThreadPoolExecutor(64) as pool:  # a fleet boots together
            list(pool.map(self._start, range(len(self.job.workers))))

    def _transition(self, rng: random.Random, i: int) -> None:
        rec = self.records[i]
        unit = rec.samples and next(iter(rec.samples))
        step = rng.choice(["align_shard", "upload", "split", "gather", "variants"])
        if rng.random() < 0.1:  # a sample's state changes: the record and the tags at once
            change = {"sample": unit, "sample_status": SampleStatus.RUNNING, "sample_fields": {"step": step}}
        else:  # a step alone: the record; the tags by the beacon (workers.program.beacon)
            change = {"sample": unit, "sample_fields": {"step": step}, "tags": False}
        self.versions[i] = record_status(
            self.clients.ec2, self.clients.s3, state_bucket=self.bucket, record=rec, version=self.versions[i],
            step=f"{unit}: {step}", **change,
        )  # fmt: skip

    def churn(self, transitions_per_s: float, beacon_writes_per_s: float) -> None:
        rng = random.Random(1)
        n = len(self.records)
        next_t = next_b = time.monotonic()
        while not self.stop.is_set():
            now = time.monotonic()
            if now >= next_b:  # the fleet's beacons, each at its worker's pace: a progress or a beat
                rec = self.records[self.beacon_writes % n]
                try:
                    if rng.random() < 0.5:
                        record_progress(
                            self.clients.ec2, rec.instance_id, f"{rec.step} {rng.randrange(100)}%"
                        )
                    else:
                        heartbeat(self.clients.ec2, rec.instance_id)
                except Exception:  # noqa: BLE001 - throttled: the beacon tries on its next tick
                    self.beacon_missed += 1
                self.beacon_writes += 1
                next_b += 1 / beacon_writes_per_s
            if now >= next_t:
                self._transition(rng, rng.randrange(n))
                self.transitions += 1
                next_t += 1 / transitions_per_s
            time.sleep(max(0.0, min(next_t, next_b) - time.monotonic()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=64)
    ap.add_argument("--shards", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--transitions-per-s", type=float, default=4.0)  # 1,088 units, ~10 steps in ~45 min
    args = ap.parse_args(argv)
    n_workers = args.samples * (args.shards + 1)
    load = os.getloadavg()[0]
    with control_plane("gems-bench-", n_workers) as (stack, clients, api, _home):
        seed(clients.s3, args.samples, args.shards)
        t0 = time.perf_counter()
        status, view = api.submit({
            "bucket": BUCKET, "prefix": "run/", "hla_class": 1, "reference": f"s3://{BUCKET}/refs/ref.fa",
            "shards": args.shards, "options": {"batch_bases": 10_000},
        })  # fmt: skip
        submit_s = time.perf_counter() - t0
        key = view["session_key"]
        job = records.read_job(clients.s3, stack.config.state_bucket, key)
        assert job is not None and len(job.workers) == n_workers, len(job.workers) if job else None
        assert sum(sharding.is_shard(u) for w in job.workers for u in w.samples) == args.samples * args.shards
        fleet = Fleet(clients, stack.config.state_bucket, job)
        t0 = time.perf_counter()
        fleet.start_all()
        start_s = time.perf_counter() - t0
        api.job(key)  # a long-running API has read the records once
        throttled_at_start = stack.moto.limits.throttled["CreateTags"]
        budget = stack.config.tag_writes_per_s
        churn = threading.Thread(target=fleet.churn, args=(args.transitions_per_s, budget), daemon=True)
        churn.start()
        raw = timed(lambda: EC2.read_gems_tags(clients.ec2, key), args.repeats)
        service = stack.services.jobs
        reads_before = service.records.reads
        get = timed(lambda: api.job(key), args.repeats)
        reads = (service.records.reads - reads_before) / args.repeats

        def every_record():  # with no cache: each worker's record read on each request
            service.records.clear()
            api.job(key)

        uncached = timed(every_record, max(3, args.repeats // 5))
        fleet.stop.set()
        churn.join()
        detail = api.job(key)
        assert len(detail["workers"]) == n_workers and len(detail["shards"]) == args.samples
        throttled_total = stack.moto.limits.throttled["CreateTags"]
        describes_throttled = stack.moto.limits.throttled["DescribeTags"]
    base = statistics.median(raw)
    print(
        f"# benchmarks.status_scale: {args.samples} samples x {args.shards} shards = {n_workers} workers; "
        f"load {load:.1f} at the start\n"
    )
    every = tagrate.heartbeat_every_s(n_workers, budget)
    print(f"POST /job: {submit_s:.1f} s")
    print(
        f"the fleet's start ({n_workers:,} RUNNING records and tags, 64 at a time): {start_s:.1f} s, "
        f"{throttled_at_start} CreateTags throttled by EC2's limits"
    )
    print(
        f"during the reads: {fleet.transitions} step changes, {fleet.beacon_writes} beacon writes "
        f"({budget:g} a second for the job: each worker's every {every:.0f} s), {fleet.beacon_missed} throttled; "
        f"EC2 throttled {throttled_total} CreateTags and {describes_throttled} DescribeTags in all\n"
    )
    print("| measure | p50 ms | p99 ms | ratio p50 |\n|---|---|---|---|")
    for name, values in (
        ("DescribeTags page loop over the job's instances (raw)", raw),
        ("GET /job/<key>", get),
        ("GET /job/<key> reading every worker's record (no cache)", uncached),
    ):
        print(
            f"| {name} | {pct(values, 50) * 1000:.0f} | {pct(values, 99) * 1000:.0f} | "
            f"{statistics.median(values) / base:.2f}x |"
        )
    print(f"\nS3 record reads per GET /job/<key>: {reads:.1f} of {n_workers} workers (goal: ratio <= 1.5x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
