"""Load benchmark: 100 jobs x 10 workers on the embedded stack, GET /job from 20 clients for 60 s.

Reports throughput and p50/p99 latency under load (each client its own process), against the same
GET /job from one client and the bare moto DescribeTags loop (baselines, measured in the same run), and counts the AWS calls the API makes per GET /job
with a botocore event hook on the API's own clients: the tag read must be one DescribeTags page
loop per request (pages = tags / 1000), never one call per instance. The instance runner is off:
this measures the control plane, not 1,000 local worker processes.

    .venv/bin/python -m benchmarks.load [--jobs 100] [--workers 10] [--clients 20] [--seconds 60]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from benchmarks.jobs import BUCKET, pct, seed_runs
from embedded.stack import Stack, StackOptions
from gems.api_client import ApiClient
from gems.aws import ec2 as EC2
from gems.aws.clients import Clients


class CallCounter:
    """Counts API operations per service through botocore's before-call event."""

    def __init__(self):
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def attach(self, client, service: str) -> None:
        def count(model, **_):
            with self._lock:
                self.calls[f"{service}:{model.name}"] += 1

        client.meta.events.register(f"before-call.{client.meta.service_model.endpoint_prefix}", count)

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self.calls)


def poll(api_url: str, key: str, until: float) -> tuple[list[float], list[str]]:
    """One client, in its own process (so clients do not share the server's GIL), until `until`."""
    api = ApiClient(api_url, key, timeout=300)
    latencies: list[float] = []
    errors: list[str] = []
    while time.time() < until:
        t = time.perf_counter()
        try:
            api.jobs()
        except Exception as exc:  # noqa: BLE001 - counted and reported, the run goes on
            errors.append(f"{type(exc).__name__}: {exc}"[:200])
            continue
        latencies.append(time.perf_counter() - t)
    return latencies, errors


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=100)
    ap.add_argument("--workers", type=int, default=10)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--baseline-repeats", type=int, default=20)
    args = ap.parse_args(argv)
    os.environ["GEMS_MAX_WORKERS"] = str(max(50, args.workers))
    home = Path(tempfile.mkdtemp(prefix="gems-load-"))
    stack = Stack(
        StackOptions(home=home, port=0, moto_port=0, model_port=0, persist=False, runner=False, model=False)
    )
    stack.start()
    try:
        clients = Clients(stack.config)
        api = ApiClient(stack.api_url, stack.api_key, timeout=120)
        seed_runs(clients.s3, args.jobs, args.workers)
        t0 = time.perf_counter()
        for p in range(args.jobs):
            api.submit({"bucket": BUCKET, "prefix": f"run{p:03d}/", "hla_class": 1, "workers": args.workers})
        fill_s = time.perf_counter() - t0
        tags = EC2.read_gems_tags(clients.ec2)
        n_tags = sum(len(t) for t in tags.values())

        services = stack.services  # the API's own clients, as it serves requests
        counter = CallCounter()
        counter.attach(services.clients.ec2, "ec2")
        counter.attach(services.clients.s3, "s3")
        api.jobs()  # warm the manifest cache, as a long-running API has it
        before = counter.snapshot()
        single = []
        for _ in range(args.baseline_repeats):
            services.jobs.tags.invalidate()  # one client alone: each request does its own tag read
            t = time.perf_counter()
            api.jobs()
            single.append(time.perf_counter() - t)
        per_request = {k: v / args.baseline_repeats for k, v in (counter.snapshot() - before).items() if v}

        raw = []
        for _ in range(args.baseline_repeats):
            t = time.perf_counter()
            EC2.read_gems_tags(clients.ec2)
            raw.append(time.perf_counter() - t)

        before = counter.snapshot()
        until = time.time() + args.seconds
        started = time.perf_counter()
        with ProcessPoolExecutor(args.clients, mp_context=multiprocessing.get_context("spawn")) as pool:
            n = args.clients
            runs = list(pool.map(poll, [stack.api_url] * n, [stack.api_key] * n, [until] * n))
        elapsed = time.perf_counter() - started
        latencies = [v for lat, _ in runs for v in lat]
        errors = [e for _, err in runs for e in err]
        under_load = counter.snapshot() - before
        done = len(latencies)

        print(
            f"\n{args.jobs} jobs x {args.workers} workers submitted in {fill_s:.1f} s: "
            f"{len(tags)} tagged instances, {n_tags} gems tags\n"
        )
        print(
            f"{'GET /job (all jobs)':<36} {'requests':>9} {'req/s':>8} {'p50 ms':>9} {'p99 ms':>9} {'p50 ratio':>10}"
        )
        base = pct(single, 50)
        print(
            f"{'moto DescribeTags loop alone':<36} {len(raw):>9} {len(raw) / sum(raw):>8.1f} "
            f"{pct(raw, 50) * 1000:>9.1f} {pct(raw, 99) * 1000:>9.1f} {pct(raw, 50) / base:>9.2f}x"
        )
        print(
            f"{'1 client (baseline)':<36} {len(single):>9} {len(single) / sum(single):>8.1f} "
            f"{base * 1000:>9.1f} {pct(single, 99) * 1000:>9.1f} {1:>9.2f}x"
        )
        if done:
            print(
                f"{f'{args.clients} clients for {args.seconds:g} s':<36} {done:>9} {done / elapsed:>8.1f} "
                f"{pct(latencies, 50) * 1000:>9.1f} {pct(latencies, 99) * 1000:>9.1f} {pct(latencies, 50) / base:>9.2f}x"
            )
        print(f"errors under load: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
        print("\nAWS calls the API made per GET /job (one client):")
        for name, n in sorted(per_request.items()):
            print(f"  {name:<34} {n:>8.2f}")
        tags_calls = per_request.get("ec2:DescribeTags", 0)
        pages = -(-n_tags // 1000)
        print(
            f"DescribeTags calls per request: {tags_calls:.2f} = one page loop (moto answers it in one page; "
            f"AWS would take {pages} pages of 1000 for {n_tags} tags); DescribeInstances per request: "
            f"{per_request.get('ec2:DescribeInstances', 0):.2f}; a per-instance read would be {len(tags)} calls"
        )
        if done:
            per_load = {k: v / done for k, v in under_load.items() if k.startswith("ec2:")}
            print(f"under load, EC2 calls per request: {per_load}")
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
