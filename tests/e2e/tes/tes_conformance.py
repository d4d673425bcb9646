"""Run the GA4GH TES conformance suite (openapi-test-runner) against a running `gems up`.

Not part of the pytest run (the suite pins old libraries and takes minutes). Two passes:
- stock: the suite as published (no API key, hello-world tasks without inputs);
- adapted: the same tests with what gems needs added to each created task: an API key header,
  one tiny read pair under its own S3 folder (so the one-job-per-folder lock never refuses it)
  and HLA_CLASS in the executors' env. Everything else (views, paging, filters, schemas) is the suite's own.

    python3 -m venv /tmp/tes-conformance
    /tmp/tes-conformance/bin/pip install <openapi-test-runner checkout>
    gems up --port 18700 --moto-port 18701 --no-model &
    .venv/bin/python tests/e2e/tes/tes_conformance.py --suite <checkout> --api http://127.0.0.1:18700 \
        --moto http://127.0.0.1:18701 --key "$(cat .gems/api_key)"
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import boto3
import yaml

BUCKET = "gems-conformance"


def seed(moto_url: str, n: int) -> None:
    s3 = boto3.client(
        "s3", endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    s3.create_bucket(Bucket=BUCKET)
    body = gzip.compress(b"@r1\nACGTACGTACGTACGTACGT\n+\nIIIIIIIIIIIIIIIIIIII\n")
    for i in range(n):
        for mate in (1, 2):
            s3.put_object(Bucket=BUCKET, Key=f"conf{i:03d}/S1_R{mate}.fastq.gz", Body=body)


def adapt(suite: Path, out: Path, key: str) -> int:
    """Copy the suite, adding gems' needs to every POST /tasks body; returns the folders used."""
    shutil.copytree(suite, out)
    constants = out / "compliance_suite" / "constants" / "constants.py"
    text = constants.read_text().replace(
        "'Content-Type': 'application/json'",
        f"'Content-Type': 'application/json', 'Authorization': 'Bearer {key}'",
    )
    constants.write_text(text)
    n = 0
    for path in sorted((out / "tests").glob("*.yml")):
        doc = yaml.safe_load(path.read_text())
        if isinstance(doc, dict) and doc.get("jobs"):
            # Inline shared templates so each test file creates its task in its own folder.
            inlined = []
            for job in doc["jobs"]:
                ref = job.get("$ref") if isinstance(job, dict) else None
                inlined += yaml.safe_load((suite / ref).read_text()) if ref else [job]
            doc["jobs"] = inlined
        jobs = doc if isinstance(doc, list) else doc.get("jobs", [])
        changed = False
        for job in jobs:
            if isinstance(job, dict) and job.get("operation") == "POST" and job.get("endpoint") == "/tasks":
                body = json.loads(job["request_body"])
                reads = [
                    {"url": f"s3://{BUCKET}/conf{n:03d}/S1_R{m}.fastq.gz", "path": f"/in/R{m}.fq.gz"}
                    for m in (1, 2)
                ]
                body["inputs"] = reads
                for executor in body["executors"]:  # in env, so the suite's own tag checks are untouched
                    executor["env"] = dict(executor.get("env") or {}, HLA_CLASS="1")
                job["request_body"] = json.dumps(body, indent=1)
                n += 1
                changed = True
        if changed:
            path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return n


def run(runner: Path, suite: Path, api: str, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    # `python -c` puts the working directory first on sys.path, so the adapted copy's code is used.
    cmd = [str(runner), "-c", "from compliance_suite.cli import main; main()", "report"]
    cmd += ["--server", f"{api}/ga4gh/tes/", "--version", "1.1.0", "--output_path", str(out)]
    subprocess.run(cmd, cwd=suite, capture_output=True, check=False, timeout=1800)  # noqa: S603
    return json.loads((out / "report.json").read_text())


def summarize(name: str, report: dict) -> None:
    phases = report["phases"]
    passed = [p["phase_name"] for p in phases if p["status"] == "PASS"]
    print(f"{name}: {len(passed)}/{len(phases)} test files pass; cases {report['summary']}")
    for p in sorted(phases, key=lambda p: p["phase_name"]):
        why = ""
        for t in p["tests"]:
            bad = [c for c in t.get("cases", []) if c["status"] == "FAIL"]
            if bad:
                why = f"{t['test_name']}: {bad[0].get('message', '')}"
                break
        print(f"  {p['status']:<5} {Path(p['phase_name']).name:<46} {why[:90]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", required=True, type=Path, help="an openapi-test-runner checkout")
    ap.add_argument(
        "--runner", type=Path, default=Path("/tmp/tes-conformance/bin/python"), help="its venv's python"
    )
    ap.add_argument("--api", required=True)
    ap.add_argument("--moto", required=True)
    ap.add_argument("--key", required=True)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tes-conformance-"))
    summarize("stock", run(args.runner, args.suite, args.api, work / "stock"))
    adapted = work / "suite"
    seed(args.moto, adapt(args.suite, adapted, args.key))
    summarize("adapted", run(args.runner, adapted, args.api, work / "adapted"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
