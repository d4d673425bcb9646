"""Job status at fleet size: `GET /job/<key>` for one job of 64 samples x 16 shards (1,088 workers).

The embedded stack with the real API server over HTTP and moto; the instance runner is off, and
every worker's record and tags are written as a running worker writes them (gems.status), so
the view has 1,088 live records to show. While it is measured, the fleet keeps moving: a few
workers a second change step (the record and its tags, as a worker does when a step or a
sample's state changes), many more report progress (tags only, as a worker does between steps),
and every worker sends its heartbeat every 30 s. Reported: `GET /job/<key>` p50/p99 as a ratio to one raw `DescribeTags` page loop over
the job's instances measured in the same run (goal: within 1.5x), and the S3 record reads per
request.

    .venv/bin/python -m benchmarks.status_scale [--samples 64] [--shards 16] [--repeats 30]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import threading
import time

from benchmarks.controlplane import control_plane
from benchmarks.jobs import pct, timed
from gems import records, sharding
from gems.aws import ec2 as EC2
from gems.aws.clients import Clients
from gems.states import SampleStatus, WorkerStatus
from gems.status import heartbeat, new_worker_record, record_progress, record_status

BUCKET = "bench-shards"
HEARTBEAT_EVERY_S = 30  # as workers.program.worker sends them


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
        self.transitions = self.progress = self.beats = 0

    def start_all(self) -> None:
        for i, plan in enumerate(self.job.workers):
            rec = new_worker_record(self.job.session_key, i, plan.instance_id, plan.samples)
            self.records[i] = rec
            self.versions[i] = record_status(
                self.clients.ec2, self.clients.s3, state_bucket=self.bucket, record=rec, version="",
                status=WorkerStatus.RUNNING, step="preparing references",
            )  # fmt: skip

    def _transition(self, i: int) -> None:
        rec = self.records[i]
        unit = rec.samples and next(iter(rec.samples))
        step = random.choice(["align_shard", "upload", "split", "gather", "variants"])
        self.versions[i] = record_status(
            self.clients.ec2, self.clients.s3, state_bucket=self.bucket, record=rec, version=self.versions[i],
            step=f"{unit}: {step}", sample=unit, sample_status=SampleStatus.RUNNING, sample_fields={"step": step},
        )  # fmt: skip

    def churn(self, transitions_per_s: float, progress_per_s: float) -> None:
        rng = random.Random(1)
        n = len(self.records)
        next_t = next_p = next_b = time.monotonic()
        order = list(self.records)
        while not self.stop.is_set():
            now = time.monotonic()
            if now >= next_b:  # every worker's heartbeat, every 30 s as a worker sends it (tags only)
                heartbeat(self.clients.ec2, self.records[order[self.beats % n]].instance_id)
                self.beats += 1
                next_b += HEARTBEAT_EVERY_S / n
            if now >= next_t:
                self._transition(rng.randrange(n))
                self.transitions += 1
                next_t += 1 / transitions_per_s
            if now >= next_p:
                i = rng.randrange(n)
                record_progress(
                    self.clients.ec2, self.records[i].instance_id, f"align_shard {rng.randrange(100)}%"
                )
                self.progress += 1
                next_p += 1 / progress_per_s
            time.sleep(max(0.0, min(next_t, next_p, next_b) - time.monotonic()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=64)
    ap.add_argument("--shards", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--transitions-per-s", type=float, default=4.0)
    ap.add_argument("--progress-per-s", type=float, default=40.0)
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
        churn = threading.Thread(
            target=fleet.churn, args=(args.transitions_per_s, args.progress_per_s), daemon=True
        )
        churn.start()
        raw = timed(lambda: EC2.read_gems_tags(clients.ec2, key), args.repeats)
        service = stack.services.jobs
        reads_before = service.record_reads
        get = timed(lambda: api.job(key), args.repeats)
        reads = (service.record_reads - reads_before) / args.repeats

        def every_record():  # as before gems:rev: each running worker's record read on each request
            service._seen.clear()
            api.job(key)

        uncached = timed(every_record, max(3, args.repeats // 5))
        fleet.stop.set()
        churn.join()
        detail = api.job(key)
        assert len(detail["workers"]) == n_workers and len(detail["shards"]) == args.samples
    base = statistics.median(raw)
    print(
        f"# benchmarks.status_scale: {args.samples} samples x {args.shards} shards = {n_workers} workers; "
        f"load {load:.1f} at the start\n"
    )
    print(f"POST /job: {submit_s:.1f} s; the fleet's first records and tags: {start_s:.1f} s")
    print(
        f"during the reads: {fleet.transitions} step changes (record + tags), {fleet.progress} progress tags, {fleet.beats} heartbeats\n"
    )
    print("| measure | p50 ms | p99 ms | ratio p50 |\n|---|---|---|---|")
    for name, values in (
        ("DescribeTags page loop over the job's instances (raw)", raw),
        ("GET /job/<key>", get),
        ("GET /job/<key> reading every running worker's record (before gems:rev)", uncached),
    ):
        print(
            f"| {name} | {pct(values, 50) * 1000:.0f} | {pct(values, 99) * 1000:.0f} | "
            f"{statistics.median(values) / base:.2f}x |"
        )
    print(f"\nS3 record reads per GET /job/<key>: {reads:.1f} of {n_workers} workers (goal: ratio <= 1.5x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
