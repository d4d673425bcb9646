"""The job's QC report: MultiQC over every finished sample, built by the worker that ends the job.

Each sample's results hold `samtools.stats.txt` and `bcftools.stats.txt` (workers.pipeline.qcstats)
and `report.json`. They are laid out as `samtools/<sample>.txt` and `bcftools/<sample>.txt`, so
MultiQC names each sample by its file, and gems' own figures (read pairs, Q30, mapping,
duplicates, insert size, depth, calls, HLA typing, wall time) go in as MultiQC custom content
(`gems_mqc.json`, a table). The report lands in the job's results as
`multiqc/multiqc_report.html` and `multiqc/multiqc_data.json`; the job page links it and `gems
results` saves it. Best effort: a job whose report could not be built still ends as it ran.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
from pathlib import Path

from gems.aws import s3 as S3
from gems.statekeys import MULTIQC_REPORT

log = logging.getLogger("gems.worker")
FILES = {"samtools.stats.txt": "samtools", "bcftools.stats.txt": "bcftools"}
TIMEOUT_S = 600


def gems_row(report: dict) -> dict:
    """A sample's figures for the custom-content table (what a run's QC review looks at first)."""
    qc, cov, calls = report.get("qc") or {}, report.get("coverage") or {}, report.get("variants") or {}
    aln = report.get("align") or report.get("gather") or {}
    calls_hla = (report.get("hla") or {}).get("calls") or []
    row = {
        "status": report.get("status"),
        "read pairs": qc.get("pairs_used"),
        "Q30 fraction": qc.get("q30_fraction"),
        "mapping rate": aln.get("mapping_rate"),
        "duplicate rate": aln.get("duplicate_rate"),
        "insert size (median)": aln.get("insert_size_median"),
        "mean depth": cov.get("mean_depth"),
        "variant calls": calls.get("total"),
        "Ts/Tv": calls.get("ts_tv"),
        "HLA genes ok": sum(c.get("flag") == "ok" for c in calls_hla) if calls_hla else None,
        "HLA genes flagged": sum(c.get("flag") not in (None, "ok") for c in calls_hla) if calls_hla else None,
        "shards": (report.get("split") or {}).get("shards", 1),
        "wall s": (report.get("timing") or {}).get("total_seconds"),
    }
    return {k: v for k, v in row.items() if v is not None}


def custom_content(rows: dict[str, dict]) -> dict:
    return {
        "id": "gems",
        "section_name": "gems",
        "description": "gems' own figures per sample (report.json of each sample)",
        "plot_type": "table",
        "pconfig": {"id": "gems_table", "title": "gems: per-sample figures"},
        "data": rows,
    }


def _name_stats(path: Path, sample: str) -> None:
    """bcftools stats names its input file on its ID line, and MultiQC names the sample after it:
    every sample's file is variants.vcf.gz, so the line gets the sample's name."""
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(f"ID\t0\t{sample}\n" if ln.startswith("ID\t0\t") else ln for ln in lines))


def collect(s3, bucket: str, results: str, folder: Path) -> list[str]:
    """Download every finished sample's QC files under `results` into `folder`; the samples."""
    samples: dict[str, dict] = {}
    folder.mkdir(parents=True, exist_ok=True)
    for obj in S3.list_keys(s3, bucket, results):
        sample, _, name = obj["Key"][len(results) :].partition("/")
        if name in FILES:
            path = S3.download(s3, bucket, obj["Key"], folder / FILES[name] / f"{sample}.txt")
            if name == "bcftools.stats.txt":
                _name_stats(path, sample)
        elif name == "report.json":
            samples[sample] = S3.get_json(s3, bucket, obj["Key"]) or {}
    if samples:
        rows = {s: gems_row(r) for s, r in sorted(samples.items())}
        (folder / "gems_mqc.json").write_text(json.dumps(custom_content(rows)))
    return sorted(samples)


def build(s3, bucket: str, results: str, workdir: Path) -> str | None:
    """MultiQC over the job's samples, uploaded under `results`; its key, or None when there was
    nothing to report or MultiQC failed (said in the log)."""
    inputs, out = workdir / "multiqc-in", workdir / "multiqc-out"
    samples = collect(s3, bucket, results, inputs)
    if not samples:
        return None
    cmd = [
        sys.executable, "-P", "-m", "multiqc", str(inputs), "-o", str(out), "-n", "multiqc_report.html", "-f",
        "--no-ansi", "--title", f"gems job {results.rstrip('/').rsplit('/', 1)[-1]}",
        "--cl-config", "no_version_check: true",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    html = out / "multiqc_report.html"
    data = next(iter(sorted(out.glob("*/multiqc_data.json"))), out / "multiqc_data.json")
    if done.returncode != 0 or not html.is_file():
        log.warning("MultiQC failed (exit %s): %s", done.returncode, done.stderr.strip().splitlines()[-1:])
        return None
    if data.is_file():
        S3.upload(s3, data, bucket, results + "multiqc/multiqc_data.json")
    S3.upload(s3, html, bucket, results + MULTIQC_REPORT)  # the page last: its presence means both are there
    log.info("MultiQC report of %d samples: s3://%s/%s%s", len(samples), bucket, results, MULTIQC_REPORT)
    return results + MULTIQC_REPORT


def build_quietly(s3, bucket: str, results: str) -> None:
    """`build` in a folder of its own, never raising: the report must not hold up the job's end."""
    try:
        with tempfile.TemporaryDirectory(prefix="gems-qc-") as workdir:
            build(s3, bucket, results, Path(workdir))
    except Exception as exc:  # noqa: BLE001 - best effort, said in the log
        log.warning("no MultiQC report for %s: %s: %s", results, type(exc).__name__, exc)
