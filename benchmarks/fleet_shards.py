"""The projected genome fleet, run: one sample in N shards through the real API, moto and workers, with
stand-in work sized from benchmarks.genome's projection, and spot interruptions.

The control plane and the sharded line's coordination are the real ones: `POST /job` with
`shards`, the lead's store uploading each shard's description as the split would and waiting for
the windows' summaries in the state bucket, each shard worker waiting for its shard, then for
every shard's BAM before its windows, the relaunch of an interrupted shard (straight to its
windows when its BAM is in S3), the sweep, the job view. The work is a stand-in: the split,
each shard's alignment (with its QC and HLA mapping), its windows (marked, kept, stats, called),
the lead's collection of the parts and what it does after (coverage and CRAM) sleep for their
projected minutes times `--scale` seconds (the boot too), so the run's wall time, divided by
the scale, is comparable with the projection's. The workers are threads of one process (as in
benchmarks.fleet). Reported: the wall time against the projection, shards relaunched, the job's
cost in instance time, and `GET /job/<key>` against the raw tag loop.

    .venv/bin/python -m benchmarks.fleet_shards [--shards 16] [--interrupt 0.125] [--scale 0.5]
        [--boot-min 1.5 --split-min 5.9 --align-min 3.9 --windows-min 1.0 --collect-min 6.6 --after-min 5.4]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import multiprocessing
import os
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.controlplane import control_plane
from benchmarks.jobs import pct
from gems.aws import ec2 as EC2
from gems.aws.clients import Clients
from gems.jobs.jobview import is_settled

BUCKET = "bench-genome"


def seed(s3, shards: int) -> None:
    s3.create_bucket(Bucket=BUCKET)
    body = os.urandom(shards * 20_000)  # only its size is read: one 10 kb batch per shard and more
    for mate in (1, 2):
        s3.put_object(Bucket=BUCKET, Key=f"run/GENOME_S1_L001_R{mate}_001.fastq.gz", Body=body)
    for name in ("genome.fa", "genome.fa.fai", "genome.fa.sr.mmi"):
        s3.put_object(Bucket=BUCKET, Key=f"refs/{name}", Body=b">c\nACGT\n")


def fleet(key: str, phases: dict, interrupt: float, events_path: str, stop_path: str) -> None:
    """A Worker thread per new instance; the lead and the shards do stand-in work through the real
    store; once the split is over, every 1/interrupt-th first-attempt shard worker gets a spot notice."""
    import sys
    import threading
    import types

    import gems.tags
    import workers.program.worker as worker_module
    from gems import sharding, statekeys
    from gems.auth import KeyStore
    from gems.aws import s3 as S3
    from gems.aws.secrets import CredstashSecrets
    from gems.config import Config
    from gems.states import WorkerStatus
    from workers.genomics.shards import Shard
    from workers.genomics.windows import Window
    from workers.program import joboptions
    from workers.program.shardstore import await_keys, wait_for_shard, window_name

    def run_sample(sample, r1, r2, out, options, on_progress=None):  # the lead: split, wait, collect
        store, n, folder = options.shard_store, options.shards, Path(out) / "split"
        folder.mkdir(parents=True, exist_ok=True)
        on_progress("split", 0.0)
        cut = []
        for i in range(n):
            time.sleep(phases["split"] / n)
            shard = Shard(i, f"shard-{i:03d}_R1.fastq.gz", f"shard-{i:03d}_R2.fastq.gz", 1, 300, 1, i)
            for name in (shard.r1, shard.r2):
                (folder / name).write_bytes(b"@r\nACGT\n+\nIIII\n")
            store.put(shard, folder)
            cut.append(shard)
        planned = [Window(i, (("c", i, i + 1),)) for i in range(n)]  # one window a shard worker
        store.finish_split(cut, planned)
        events.append({"split_done": time.time()})
        on_progress("gather", 0.0)
        owners = {i: sharding.unit_name(sample, i) for i in range(n)}
        wanted = {i: store.key(window_name(i, ".json")) for i in range(n)}
        await_keys(clients.s3, store.bucket, store.session_key, wanted, owners, phases["poll"])
        time.sleep(phases["collect"] + phases["after"])
        report = {"sample": sample, "status": "COMPLETE", "summary": {"read_pairs": n}}
        Path(out, "report.json").write_text(json.dumps(report))
        return report

    def align_shard(worker, unit, options, workdir):  # a shard: align it, hand it back, then its window
        shard = wait_for_shard(clients.s3, worker.bucket, worker.session_key, unit, poll_s=phases["poll"])
        named = functools.partial(statekeys.shard_key, worker.session_key, unit.sample)
        if S3.get_json(clients.s3, worker.bucket, named(f"shard-{unit.shard:03d}.bam")) is None:
            worker._progress(unit.name)("align_shard", 0.0)
            time.sleep(phases["align"])  # a relaunch whose BAM is in S3 goes straight to its window
            worker.status(step=f"{unit.name}: upload", sample=unit.name, sample_fields={"step": "upload"})
            S3.put_json(clients.s3, worker.bucket, named(f"shard-{unit.shard:03d}.bam"), {"stand_in": True})
        lead = {0: unit.sample}  # the split's end, as the real unit waits for it
        await_keys(
            clients.s3, worker.bucket, worker.session_key, {0: named("split.json")}, lead, phases["poll"]
        )
        n = len(S3.get_json(clients.s3, worker.bucket, named("split.json"))["shards"])
        owners = {i: sharding.unit_name(unit.sample, i) for i in range(n)}
        bams = {i: named(f"shard-{i:03d}.bam") for i in range(n)}
        await_keys(clients.s3, worker.bucket, worker.session_key, bams, owners, phases["poll"])
        worker._progress(unit.name)("windows", 0.0)
        time.sleep(phases["windows"])
        S3.put_json(clients.s3, worker.bucket, named(window_name(unit.shard, ".json")), {"stand_in": True})
        return {"pairs": shard.pairs}

    module = types.ModuleType("workers.pipeline.sample")
    module.run_sample = run_sample  # type: ignore[attr-defined]
    sys.modules["workers.pipeline.sample"] = module
    worker_module.align_shard = align_shard
    # the lead looks for shard BAMs every 5 s on EC2 (nothing beside minutes of work); scaled here
    worker_module.S3ShardStore = functools.partial(worker_module.S3ShardStore, poll_s=phases["poll"])
    joboptions.share_reference_index = lambda *a, **k: []  # the stand-in reference is not indexed
    config = Config.from_env()
    clients = Clients(config)
    token = KeyStore(CredstashSecrets(config)).worker_token(key)
    workdir = Path(tempfile.mkdtemp(prefix="gems-genome-"))
    started: dict[str, object] = {}
    events: list[dict] = []
    halted: set[str] = set()

    def boot(iid: str, index: int, replaces: int | None) -> None:
        time.sleep(phases["boot"])
        events.append({"booted": time.time(), "index": index, "replaces": replaces})
        w = worker_module.Worker(config, clients, key, index, token, iid)
        w.halt = lambda: halted.add(iid)
        started[iid] = w
        with contextlib.suppress(worker_module.Superseded):  # interrupted: its writes stop
            w.run(workdir / iid)
        if iid not in halted:
            w.hand_over()

    interrupted = False
    while not Path(stop_path).exists():
        for iid, tags in EC2.read_gems_tags(clients.ec2, key).items():
            tagged = gems.tags.WorkerTags.parse(iid, tags)
            if iid not in started and tagged is not None and tagged.status is WorkerStatus.PENDING:
                started[iid] = None
                threading.Thread(target=boot, args=(iid, tagged.index, tagged.replaces), daemon=True).start()
        if not interrupted and any("split_done" in e for e in events) and interrupt > 0:
            interrupted = True
            shards = sorted(  # shard workers still at work
                (
                    w for w in started.values()
                    if w is not None and w.index > 0 and w.record is not None and not w.record.status.finished
                ),
                key=lambda w: w.index,
            )  # fmt: skip
            for w in shards[:: max(1, round(1 / interrupt))]:
                events.append({"notice": time.time(), "index": w.index})
                threading.Thread(
                    target=w.interrupt, args=({"action": "terminate", "time": "now"},), daemon=True
                ).start()
        Path(events_path).write_text(json.dumps(events))
        time.sleep(0.2)


PHASES = ("boot", "split", "align", "windows", "collect", "after")


def projected_min(m: dict) -> float:
    """The model's wall time (benchmarks.genome_projection), without interruptions or S3 transfers."""
    return sum(m[p] for p in PHASES)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shards", type=int, default=16)
    ap.add_argument(
        "--interrupt", type=float, default=0.125, help="fraction of the shard workers interrupted"
    )
    ap.add_argument("--scale", type=float, default=0.5, help="seconds of stand-in per projected minute")
    # today's projection (benchmarks.genome, 32 c6i.4xlarge workers)
    defaults = {"boot": 1.5, "split": 5.9, "align": 3.9, "windows": 1.0, "collect": 6.6, "after": 5.4}
    for phase, default in defaults.items():
        ap.add_argument(
            f"--{phase}-min", type=float, default=default, help=f"projected minutes (default {default})"
        )
    args = ap.parse_args(argv)
    minutes = {p: getattr(args, f"{p}_min") for p in PHASES}
    phases = {p: m * args.scale for p, m in minutes.items()} | {"poll": 5 / 60 * args.scale}
    os.environ["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:9"  # no metadata: not spot-polled
    load0 = os.getloadavg()[0]
    with control_plane("gems-genome-", args.shards * 2 + 2) as (stack, clients, api, home):
        seed(clients.s3, args.shards)
        t0 = time.time()
        status, job = api.submit({
            "bucket": BUCKET, "prefix": "run/", "hla_class": 1, "reference": f"s3://{BUCKET}/refs/genome.fa",
            "shards": args.shards, "capacity": "spot", "options": {"batch_bases": 10_000},
        })  # fmt: skip
        assert status == 201, job
        key = job["session_key"]
        events_path, stop_path = str(home / "events.json"), str(home / "stop")
        proc = multiprocessing.get_context("spawn").Process(
            target=fleet, args=(key, phases, args.interrupt, events_path, stop_path)
        )
        proc.start()
        get, raw = [], []
        while True:
            t = time.perf_counter()
            view = api.job(key)
            get.append(time.perf_counter() - t)
            t = time.perf_counter()
            EC2.read_gems_tags(clients.ec2, key)
            raw.append(time.perf_counter() - t)
            if is_settled(view):
                break
            if time.time() - t0 > 3600:
                raise SystemExit("the job did not finish in an hour")
            time.sleep(0.5)
        wall = time.time() - t0
        Path(stop_path).write_text("")
        proc.join(30)
        final = api.job(key)
        events = json.loads(Path(events_path).read_text())
    relaunched = [w for w in final["workers"] if w.get("attempt", 1) > 1]
    model = projected_min(minutes)
    print(
        f"# benchmarks.fleet_shards: 1 sample x {args.shards} shards on spot workers, {args.scale} s per projected "
        f"minute; load {load0:.1f} at the start, {os.cpu_count()} cores\n"
    )
    print("| measure | value |\n|---|---|")
    rows = [
        ("job", f"{final['overall_status']}; shards complete {final['shards']['GENOME']['complete']} / {args.shards}"),
        ("shard workers interrupted / relaunched", f"{sum('notice' in e for e in events)} / {len(relaunched)}"),
        ("wall, submit to settled", f"{wall:.1f} s = {wall / args.scale:.0f} projected minutes"),
        ("the projection's wall (boot + split + last shard + windows + collect + after it)", f"{model:.0f} minutes"),
        ("workers billed (attempts)", f"{len(final['cost']['by_worker'])}"),
        ("GET /job/<key> p50 / raw tag loop p50", f"{statistics.median(get) / statistics.median(raw):.2f}x "
                                                  f"({pct(get, 50) * 1000:.0f} / {pct(raw, 50) * 1000:.0f} ms)"),
    ]  # fmt: skip
    for name, value in rows:
        print(f"| {name} | {value} |")
    assert final["overall_status"] == "COMPLETE", final["overall_status"]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
