"""Job service benchmark on the embedded stack (moto over HTTP, the real API server).

- GET /job latency (p50/p99) with 100 jobs x 10 workers (1,000 tagged instances), against one
  raw DescribeTags page loop measured in the same run (goal: GET /job <= 1.5x that loop);
- POST /job submission time for 1, 10 and 50 workers.
The instance runner is off: we measure the control plane, not 1,000 local worker processes.

    .venv/bin/python -m benchmarks.jobs [--jobs 100] [--workers 10] [--repeats 30]
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import tempfile
import time
from pathlib import Path

from embedded.stack import Stack, StackOptions
from gems.api_client import ApiClient
from gems.aws import ec2 as EC2
from gems.aws.clients import Clients

BUCKET = "bench-runs"


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def seed_runs(s3, n_prefixes: int, samples: int) -> None:
    s3.create_bucket(Bucket=BUCKET)
    body = gzip.compress(b"@r\nACGT\n+\nIIII\n")
    for p in range(n_prefixes):
        for s in range(samples):
            for mate in (1, 2):
                s3.put_object(
                    Bucket=BUCKET, Key=f"run{p:03d}/S{s:02d}_S{s + 1}_L001_R{mate}_001.fastq.gz", Body=body
                )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=100)
    ap.add_argument("--workers", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=30)
    args = ap.parse_args(argv)
    os.environ["GEMS_MAX_WORKERS"] = "50"
    home = Path(tempfile.mkdtemp(prefix="gems-bench-"))
    stack = Stack(
        StackOptions(home=home, port=0, moto_port=0, model_port=0, persist=False, runner=False, model=False)
    )
    stack.start()
    try:
        clients = Clients(stack.config)
        api = ApiClient(stack.api_url, stack.api_key)
        seed_runs(clients.s3, args.jobs + 4, max(args.workers, 50))
        api.submit(
            {"bucket": BUCKET, "prefix": f"run{args.jobs + 3:03d}/", "hla_class": 2, "workers": 1}
        )  # warm-up
        rows = []
        for n in (1, 10, 50):
            body = {
                "bucket": BUCKET,
                "prefix": f"run{args.jobs + [1, 10, 50].index(n):03d}/",
                "hla_class": 1,
                "workers": n,
            }
            t = time.perf_counter()
            status, job = api.submit(body)
            rows.append(
                (f"POST /job, {n} workers", (time.perf_counter() - t) * 1000, None, len(job["workers"]))
            )
        t0 = time.perf_counter()
        for p in range(args.jobs):
            api.submit({"bucket": BUCKET, "prefix": f"run{p:03d}/", "hla_class": 1, "workers": args.workers})
        fill_s = time.perf_counter() - t0
        n_inst = len(EC2.read_gems_tags(clients.ec2))
        api.jobs()  # warm caches (manifests) as a long-running API would have them
        raw = timed(lambda: EC2.read_gems_tags(clients.ec2), args.repeats)
        snapshot = stack.services.jobs.tags

        def fresh_get():
            snapshot.invalidate()  # force this request to do its own tag read
            return api.jobs()

        get = timed(fresh_get, args.repeats)
        shared = timed(api.jobs, args.repeats)
        one_key = api.jobs()[0]["session_key"]
        get_one = timed(lambda: api.job(one_key), args.repeats)
        print(
            f"\n{args.jobs} jobs x {args.workers} workers submitted in {fill_s:.1f} s; {n_inst} tagged instances\n"
        )
        print(f"{'measure':<36} {'p50 ms':>9} {'p99 ms':>9} {'ratio p50':>10}")
        base = statistics.median(raw)
        for name, values in (
            ("DescribeTags page loop (raw)", raw),
            ("GET /job, its own tag read", get),
            ("GET /job, shared read (< 1 s old)", shared),
            ("GET /job/<key> (one job)", get_one),
        ):
            print(
                f"{name:<36} {pct(values, 50) * 1000:>9.1f} {pct(values, 99) * 1000:>9.1f} {statistics.median(values) / base:>9.2f}x"
            )
        print()
        for name, ms, _, workers in rows:
            print(f"{name:<36} {ms:>9.1f} ms  ({workers} instances launched)")
        ratio = statistics.median(get) / base
        print(f"\nGET /job (own tag read) / DescribeTags loop = {ratio:.2f}x (goal <= 1.5x)")
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
