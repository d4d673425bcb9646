"""A fresh worker's HLA typing index: built on its empty disk, or fetched from the index another
worker shared through the state bucket (workers.program.indexstore), against moto's S3 over HTTP.

    .venv/bin/python -m benchmarks.hla_index
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from moto.server import ThreadedMotoServer

from gems.aws.clients import local_s3
from workers.hla import index, reference
from workers.program.indexstore import S3IndexStore

BUCKET = "gems-bench-state"


def _timed(ref, store) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    index.load_index(ref, Path(tempfile.mkdtemp(prefix="gems-fresh-")), store)  # an empty disk each time
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> int:
    server = ThreadedMotoServer(port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    s3 = local_s3(f"http://{host}:{port}")
    s3.create_bucket(Bucket=BUCKET)
    store = S3IndexStore(s3, BUCKET)
    ref = reference.scan(None)  # the IMGT/HLA reference shipped with gems
    load = os.getloadavg()[0]
    try:
        built = _timed(ref, None)
        first = _timed(ref, store)
        fetched = [_timed(ref, store) for _ in range(3)]
    finally:
        server.stop()
    best = min(fetched)
    print(f"\nHLA index of IMGT {ref.release}; load {load:.1f} on {os.cpu_count()} cores\n")
    print(f"{'a fresh worker':<40} {'wall s':>8} {'cpu s':>8} {'ratio':>7}")
    for name, (wall, cpu) in (
        ("builds it (no shared index)", built),
        ("builds and shares it (the first)", first),
        ("fetches the shared one (best of 3)", best),
    ):
        print(f"{name:<40} {wall:>8.1f} {cpu:>8.1f} {wall / built[0]:>6.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
