"""`gems submit|status|logs|results|stop|predict`: the API from the command line, any deployment."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import urllib.request
from collections import Counter
from pathlib import Path

from gems.api_client import ApiClient
from gems.capacity import Capacity
from gems.config import Config
from gems.errors import GemsError, ValidationError
from gems.jobs.run_table import to_tsv
from gems.states import JobStatus, SampleStatus


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api", help="API URL (default: $GEMS_API or http://127.0.0.1:8000)")
    parser.add_argument("--key", help="API key (default: $GEMS_API_KEY or .gems/api_key)")


def _client(args) -> ApiClient:
    config = Config.from_env()
    key = args.key or config.api_key
    if not key and (config.home / "api_key").exists():
        key = (config.home / "api_key").read_text().strip()
    return ApiClient(args.api or config.api_url, key)


def submit(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="gems submit", description="Submit a job: every read pair under s3://BUCKET/PREFIX."
    )
    _common(p)
    p.add_argument("--bucket", required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--hla-class", type=int, required=True, choices=[1, 2])
    p.add_argument("--samples", help="comma-separated sample names (default: all pairs found)")
    p.add_argument("--workers", type=int)
    p.add_argument("--shards", type=int, help="workers aligning each sample in parallel (default: by size)")
    p.add_argument("--reference", help="s3:// URL or key of the reference FASTA")
    p.add_argument(
        "--option", action="append", default=[], metavar="KEY=VALUE", help="pipeline option, repeatable"
    )
    p.add_argument("--idempotency-key", help="retrying with the same key never launches a second fleet")
    p.add_argument(
        "--capacity",
        choices=[c.value for c in Capacity],
        help="spot or on-demand (default: the deployment's)",
    )
    p.add_argument(
        "--system-retries", type=int, help="relaunches of a worker's work the platform takes (default 2)"
    )
    p.add_argument("--wait", action="store_true", help="follow the job until it finishes")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    body: dict = {"bucket": args.bucket, "prefix": args.prefix, "hla_class": args.hla_class}
    if args.samples:
        body["samples"] = [s for s in args.samples.split(",") if s]
    if args.workers is not None:
        body["workers"] = args.workers
    if args.shards is not None:
        body["shards"] = args.shards
    if args.reference:
        body["reference"] = args.reference
    if args.option:
        body["options"] = dict(_option(o) for o in args.option)
    if args.capacity:
        body["capacity"] = args.capacity
    if args.system_retries is not None:
        body["system_retries"] = args.system_retries
    client = _client(args)
    status, job = client.submit(body, args.idempotency_key)
    if args.json and not args.wait:
        print(json.dumps(job, indent=1))
        return 0
    print(
        f"job {job['session_key']} {'submitted' if status == 201 else 'already exists'}: {len(job['workers'])} workers"
    )
    if not args.wait:
        return 0
    from gems.cli.progress import follow_with_bars

    job = follow_with_bars(client, job["session_key"])
    _print_results(client, job)
    return 0 if job["overall_status"] == JobStatus.COMPLETE else 1


def _option(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ValidationError(f"--option {text!r} must look like KEY=VALUE", field="option")
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


def _print_results(client: ApiClient, job: dict) -> None:
    res = client.results(job["session_key"])
    print(f"results: s3://{res['bucket']}/{res['prefix']}  (gems results {job['session_key']} --out DIR)")
    for w in client.job(job["session_key"])["workers"]:
        for sample, st in sorted((w.get("sample_status") or {}).items()):
            extra = f": {st.get('reason')}" if st.get("status") == SampleStatus.FAILED else ""
            print(f"  {sample}: {st.get('status')}{extra}")


def status(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="gems status", description="Show jobs (or one job) and their workers.")
    _common(p)
    p.add_argument("session_key", nargs="?")
    p.add_argument("--status", choices=[s.value for s in JobStatus])
    p.add_argument("--bucket")
    p.add_argument("--prefix")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    client = _client(args)
    if args.session_key:
        jobs = [client.job(args.session_key)]
    else:
        jobs = client.jobs(status=args.status, bucket=args.bucket, prefix=args.prefix)
    if args.json:
        print(json.dumps(jobs if not args.session_key else jobs[0], indent=1))
        return 0
    if not jobs:
        print("no jobs")
        return 0
    print(f"{'SESSION KEY':<32}  {'STATUS':<8}  {'CREATED':<20}  {'WORKERS':<7}  BUCKET/PREFIX")
    for j in jobs:
        print(
            f"{j['session_key']:<32}  {j['overall_status']:<8}  {j['created']:<20}  {len(j['workers']):<7}  s3://{j['bucket']}/{j['prefix']}"
        )
        if args.session_key:
            for w in j["workers"]:
                reason = f"  ({w['reason']})" if w.get("reason") else ""
                bought = w.get("capacity") or "-"
                if w.get("replaces") is not None:
                    bought += f", attempt {w['attempt']} for worker {w['replaces']}"
                print(
                    f"    worker {w['instance_index']} {w['instance_id']:<20} {w['status']:<11} {w.get('progress', ''):>5}"
                    f"  [{bought}]  {w.get('step', '')}{reason}"
                )
                for sample, st in sorted((w.get("sample_status") or {}).items()):
                    why = f" - {st['reason']}" if st.get("reason") else ""
                    print(f"      {sample:<24} {st['status']:<11} {st.get('step', '')}{why}")
            if cost := j.get("cost"):
                prices = cost["prices"]
                print(
                    f"    cost ${cost['usd']:.4f} ({cost['instance_seconds']:.0f} instance-seconds; "
                    f"list prices of {prices['as_of']}, {prices['region']})"
                )
    return 0


def logs(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="gems logs", description="Print a job's worker logs.")
    _common(p)
    p.add_argument("session_key")
    p.add_argument("--worker", type=int, help="only this worker index")
    args = p.parse_args(argv)
    body = _client(args).request("GET", f"/job/{args.session_key}/logs")[1]
    for index, text in sorted(body["workers"].items(), key=lambda kv: int(kv[0])):
        if args.worker is not None and int(index) != args.worker:
            continue
        print(f"===== worker {index} =====")
        print(text or "(no log uploaded yet)")
    return 0


def results(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="gems results",
        description="Download a job's result files, its one-row-per-sample summary.tsv (and .json) "
        "and, for HLA typing, its HML document (hla.xml).",
    )
    _common(p)
    p.add_argument("session_key")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--sample", help="only this sample's files")
    args = p.parse_args(argv)
    client = _client(args)
    res = client.results(args.session_key)
    _save_table(client.run_table(args.session_key), args.out)
    if (xml := client.hla_xml(args.session_key)) is not None:
        (args.out / "hla.xml").write_text(xml)
        print(f"HML: {args.out / 'hla.xml'}")
    n = 0
    for sample, files in sorted(res["samples"].items()):
        if args.sample and sample != args.sample:
            continue
        for f in files:
            dest = args.out / sample / f["name"]
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(dest.name + ".part")
            with urllib.request.urlopen(f["url"], timeout=300) as src, tmp.open("wb") as out:  # noqa: S310
                while chunk := src.read(1 << 20):
                    out.write(chunk)
            tmp.replace(dest)
            n += 1
    if n == 0:
        raise GemsError(
            "no result files (yet) for that job" + (f" and sample {args.sample}" if args.sample else "")
        )
    print(f"downloaded {n} files to {args.out}")
    return 0


def _save_table(t: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.tsv").write_text(to_tsv(t))
    (out / "summary.json").write_text(json.dumps(t, indent=1) + "\n")
    states = Counter(r["status"] for r in t["samples"])
    said = ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
    print(f"summary: {out / 'summary.tsv'} ({len(t['samples'])} samples: {said})")


def stop(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="gems stop", description="Stop a job's instances.")
    _common(p)
    p.add_argument("session_key")
    args = p.parse_args(argv)
    job = _client(args).request("POST", f"/job/{args.session_key}/stop")[1]
    print(f"job {job['session_key']} {job['overall_status']}")
    return 0


def predict(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="gems predict", description="Predict primary sites for a CSV of patients."
    )
    _common(p)
    p.add_argument(
        "csv",
        type=Path,
        help="columns: patient_id, mutated_genes (space- or ;-separated), age_at_diagnosis, sex, race, prior_malignancy",
    )
    p.add_argument("--out", type=Path, help="predictions CSV (default: stdout)")
    args = p.parse_args(argv)
    from gems.cli.predict_csv import read_patients, write_predictions

    patients = read_patients(args.csv)
    client = _client(args)
    answer: dict = {"predictions": [], "model_version": ""}
    for start in range(0, len(patients), 500):  # the API takes batches of up to 500 patients
        body = client.request("POST", "/predict", {"patients": patients[start : start + 500]})[1]
        answer["predictions"] += body["predictions"]
        answer["model_version"] = body["model_version"]
    out = args.out.open("w", newline="") if args.out else sys.stdout
    write_predictions(csv.writer(out), patients, answer)
    if args.out:
        out.close()
        print(f"wrote {len(patients)} predictions to {args.out}")
    return 0
