"""Fleet at scale on the embedded stack: a 200-sample job on 67 workers (3 samples each) with a
stand-in pipeline, 10% of the workers interrupted by a spot notice mid-run.

The control plane is the real one over HTTP: the API server, moto, the relaunch path
(`POST /relaunch_instances`), the sweep. The workers are the real `workers.program.worker.Worker`
(records, tags, uploads, heartbeats, hand-over) run as threads of one separate process, with a
stand-in for the analysis (it sleeps `--sample-s` and writes a small report): 67 worker
processes importing the analysis stack would measure this machine's two cores, not the fleet.
Reported: samples completed (must be all), relaunches, time to recover (notice -> the
replacement launched, RUNNING, finished), `GET /job/<key>` p50/p99 during the run as a ratio to
one raw `DescribeTags` page loop measured in the same run, and the job's cost against a hand
calculation from its workers' launch and end times and the price table.

    .venv/bin/python -m benchmarks.fleet [--samples 200] [--workers 67] [--interrupt 0.1] [--sample-s 8]
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.jobs import pct
from embedded.stack import Stack, StackOptions
from gems.api_client import ApiClient
from gems.aws import ec2 as EC2
from gems.aws.clients import Clients
from gems.jobs.jobview import is_settled

BUCKET = "bench-fleet"


def seed(s3, samples: int) -> None:
    s3.create_bucket(Bucket=BUCKET)
    body = gzip.compress(b"@r\nACGT\n+\nIIII\n")
    for s in range(samples):
        for mate in (1, 2):
            s3.put_object(Bucket=BUCKET, Key=f"run/B{s:03d}_S{s + 1}_L001_R{mate}_001.fastq.gz", Body=body)


# ---- the fleet's process: a thread per instance, as the instance runner boots a process ---------
def _stand_in(sample_s: float):
    def run_sample(sample, r1, r2, out, options, on_progress=None):
        on_progress("align", 0.0)
        time.sleep(sample_s)
        out.mkdir(parents=True, exist_ok=True)
        report = {"sample": sample, "summary": {"read_pairs": 1}}
        (out / "report.json").write_text(json.dumps(report))
        return report

    return run_sample


def fleet(key: str, firsts: int, sample_s: float, interrupt: float, events_path: str, stop_path: str) -> None:
    """Boot a Worker thread for each new instance of the job; after the first samples finish,
    give every 1/interrupt-th first-attempt worker a spot notice, and EC2 then takes its instance."""
    import sys
    import types

    import gems.tags
    from gems.auth import KeyStore
    from gems.aws.secrets import CredstashSecrets
    from gems.config import Config
    from gems.states import WorkerStatus
    from workers.program.worker import Superseded, Worker

    module = types.ModuleType("workers.pipeline.sample")
    module.run_sample = _stand_in(sample_s)  # type: ignore[attr-defined]
    sys.modules["workers.pipeline.sample"] = module
    config = Config.from_env()
    clients = Clients(config)
    token = KeyStore(CredstashSecrets(config)).worker_token(key)
    workdir = Path(tempfile.mkdtemp(prefix="gems-fleet-"))
    workers: dict[str, Worker | None] = {}
    events: list[dict] = []

    halted: set[str] = set()

    def boot(iid: str, index: int, replaces: int | None) -> None:
        events.append({"booted": time.time(), "index": index, "replaces": replaces})
        w = Worker(config, clients, key, index, token, iid)
        w.halt = lambda: halted.add(iid)  # a thread, not a process: its next write raises Superseded
        workers[iid] = w
        try:
            w.run(workdir / iid)
        except Superseded:
            pass
        except Exception as exc:  # noqa: BLE001 - the job boundary, as workers.program.worker.main
            if w.record:
                with contextlib.suppress(Superseded):
                    w.status(status=WorkerStatus.FAILED, reason=f"{type(exc).__name__}: {exc}"[:300])
        if iid not in halted:  # an interrupted worker's process ends at once (os._exit)
            w.hand_over()

    interrupted = False
    while not Path(stop_path).exists():
        for iid, tags in EC2.read_gems_tags(clients.ec2, key).items():
            tagged = gems.tags.WorkerTags.parse(iid, tags)
            if iid not in workers and tagged is not None and tagged.status is WorkerStatus.PENDING:
                workers[iid] = None  # booting
                threading.Thread(target=boot, args=(iid, tagged.index, tagged.replaces), daemon=True).start()
        live = [w for w in workers.values() if w is not None and w.record is not None]
        done = [w for w in live if any(s.status.done for s in w.record.samples.values())]  # type: ignore[union-attr]
        if not interrupted and len(done) >= firsts // 2:
            interrupted = True
            first = sorted((w for w in live if w.index < firsts), key=lambda w: w.index)
            chosen = first[:: max(1, round(1 / interrupt))] if interrupt > 0 else []
            for w in chosen:
                events.append({"notice": time.time(), "index": w.index, "instance_id": w.instance_id})
                threading.Thread(
                    target=w.interrupt, args=({"action": "terminate", "time": "in 2 minutes"},), daemon=True
                ).start()
            time.sleep(2)  # EC2 takes them some time after the notice
            EC2.terminate(clients.ec2, [w.instance_id for w in chosen])
        Path(events_path).write_text(json.dumps(events))
        time.sleep(0.5)


# ---- the measuring side --------------------------------------------------------------------------
def _stamp(s: str) -> float:
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def hand_cost(workers: list[dict], prices: dict) -> float:
    """The bill by hand: each worker from launch to its last record, by the second, 60 s minimum."""
    total = 0.0
    for w in workers:
        seconds = max(60.0, _stamp(w["updated"]) - _stamp(w["launched"]))
        total += seconds * prices["usd_per_hour"][w["capacity"]][w["instance_type"]] / 3600
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--workers", type=int, default=67)
    ap.add_argument("--interrupt", type=float, default=0.1, help="fraction of the workers interrupted")
    ap.add_argument("--sample-s", type=float, default=8.0, help="seconds the stand-in takes per sample")
    args = ap.parse_args(argv)
    os.environ["GEMS_MAX_WORKERS"] = str(max(100, args.workers * 2))
    os.environ["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = (
        "http://127.0.0.1:9"  # no metadata here: not spot-polled
    )
    home = Path(tempfile.mkdtemp(prefix="gems-fleet-"))
    stack = Stack(
        StackOptions(home=home, port=0, moto_port=0, model_port=0, persist=False, runner=False, model=False)
    )
    stack.start()
    load0 = os.getloadavg()[0]
    try:
        clients = Clients(stack.config)
        api = ApiClient(stack.api_url, stack.api_key, timeout=300)
        seed(clients.s3, args.samples)
        t0 = time.time()
        status, job = api.submit(
            {"bucket": BUCKET, "prefix": "run/", "hla_class": 1, "workers": args.workers, "capacity": "spot"}
        )
        assert status == 201, job
        key = job["session_key"]
        submit_s = time.time() - t0
        events_path, stop_path = str(home / "events.json"), str(home / "stop")
        ctx = multiprocessing.get_context("spawn")
        proc = ctx.Process(
            target=fleet, args=(key, args.workers, args.sample_s, args.interrupt, events_path, stop_path)
        )
        proc.start()
        get, raw, last_sweep = [], [], time.time()
        while True:
            t = time.perf_counter()
            view = api.job(key)
            get.append(time.perf_counter() - t)
            t = time.perf_counter()
            EC2.read_gems_tags(clients.ec2)
            raw.append(time.perf_counter() - t)
            if time.time() - last_sweep > 30:  # the embedded runner's sweep (Zappa's on AWS)
                from app.events import sweep_jobs

                sweep_jobs(stack.services.jobs, clients.ec2)
                last_sweep = time.time()
            if is_settled(view):
                break
            if time.time() - t0 > 3600:
                raise SystemExit("the job did not finish in an hour")
            time.sleep(0.2)
        wall = time.time() - t0
        Path(stop_path).write_text("")
        proc.join(30)
        load1 = os.getloadavg()[0]
        table = api.run_table(key)
        events = json.loads(Path(events_path).read_text()) if Path(events_path).exists() else []
        final = api.job(key)
        by_index = {w["instance_index"]: w for w in final["workers"]}
        recover = []
        for e in (e for e in events if "notice" in e):
            booted = next((b["booted"] for b in events if b.get("replaces") == e["index"]), None)
            new = next((w for w in final["workers"] if w.get("replaces") == e["index"]), None)
            if booted and new:  # its record's last write, to the second, is when it finished
                recover.append((booted - e["notice"], _stamp(new["updated"]) - e["notice"]))
        n_interrupted = sum(1 for e in events if "notice" in e)
        complete = sum(1 for r in table["samples"] if r["status"] == "COMPLETE")
        from gems.billing.cost import price_table

        by_hand = hand_cost(final["workers"], price_table())
        print(
            f"\n{args.samples} samples on {args.workers} spot workers, stand-in {args.sample_s:.0f} s/sample; "
            f"load {load0:.1f} -> {load1:.1f} on {os.cpu_count()} cores\n"
        )
        print(f"{'measure':<44} {'value':>14}")
        rows = [
            (f"POST /job ({args.workers} launches)", f"{submit_s:.1f} s"),
            ("job wall time, submit to settled", f"{wall:.1f} s"),
            ("samples COMPLETE", f"{complete} / {len(table['samples'])}"),
            (
                "workers interrupted / relaunched",
                f"{n_interrupted} / {sum(1 for w in final['workers'] if w.get('attempt', 1) > 1)}",
            ),
        ]
        if recover:
            rows += [
                (
                    "notice -> replacement launched, median",
                    f"{statistics.median(r[0] for r in recover):.1f} s",
                ),
                (
                    "notice -> replacement finished, median / max",
                    f"{statistics.median(r[1] for r in recover):.0f} / {max(r[1] for r in recover):.0f} s",
                ),
            ]
        base = statistics.median(raw)
        rows += [
            (
                "DescribeTags page loop (raw), p50 / p99",
                f"{pct(raw, 50) * 1000:.0f} / {pct(raw, 99) * 1000:.0f} ms",
            ),
            (
                "GET /job/<key> during the run, p50 / p99",
                f"{pct(get, 50) * 1000:.0f} / {pct(get, 99) * 1000:.0f} ms",
            ),
            ("GET /job/<key> p50 / DescribeTags p50", f"{statistics.median(get) / base:.2f}x"),
            ("cost (the job view)", f"${final['cost']['usd']:.4f}"),
            ("cost (by hand: launch to last record, 60 s min)", f"${by_hand:.4f}"),
        ]
        for name, value in rows:
            print(f"{name:<44} {value:>14}")
        assert by_index and complete == args.samples, "not every sample completed"
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
