"""HLA typing benchmark: 2-field concordance per sample and gene, time and peak memory per
sample (2 threads), and scaling with read count (one sample repeated 1x, 10x, 50x).

    .venv/bin/python -m benchmarks.hla [--samples a,b] [--scale-sample sim_na12878] [--no-scaling]

Each typing run is a fresh `gems type-hla` process, so its time includes loading the cached
index and its peak RSS is that process's own. Scaling repeats the same reads: identical pairs
are mapped once, so beyond reading and hashing the FASTQ the extra copies cost little.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gems.config import shared_dir
from workers.hla import evaluate

THREADS = 2


def run_typer(r1: Path, r2: Path, out: Path, hla_class: str = "both") -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS MiB) of one `gems type-hla` process. CPU time is
    reported beside wall time because a shared machine's load inflates wall time."""
    cmd = [sys.executable, "-m", "gems.cli.main", "type-hla", "--r1", str(r1), "--r2", str(r2)]
    cmd += ["--out", str(out), "--hla-class", hla_class, "--threads", str(THREADS)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"type-hla failed on {r1.name}: {proc.stderr.read().decode()[-500:]}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def repeat_fastq(src: Path, dst: Path, times: int) -> None:
    data = gzip.decompress(src.read_bytes())
    with gzip.open(dst, "wb", compresslevel=1) as fh:
        for _ in range(times):
            fh.write(data)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.hla")
    p.add_argument("--samples", default=None, help="comma-separated sample names (default: all)")
    p.add_argument("--scale-sample", default="sim_na12878")
    p.add_argument("--no-scaling", action="store_true")
    args = p.parse_args(argv)
    data = shared_dir() / "data" / "hla"
    with (data / "samples.tsv").open() as fh:
        samples = list(csv.DictReader(fh, delimiter="\t"))
    if args.samples:
        wanted = set(args.samples.split(","))
        samples = [s for s in samples if s["sample"] in wanted]
    work = Path(tempfile.mkdtemp(prefix="hla-bench-"))
    try:
        # warm the index cache so that no sample pays for building it
        first = samples[0]
        run_typer(data / first["R1"], data / first["R2"], work / "warm")
        print("## Concordance (2-field) and cost per sample, 2 threads\n")
        print("| sample | truth kind | gene | truth | call | matched | confidence | note |")
        print("|---|---|---|---|---|---|---|---|")
        timing_rows, totals = [], {"all": [0, 0], "confident": [0, 0]}
        per_gene: dict[str, list[int]] = {}
        for s in samples:
            out = work / s["sample"]
            seconds, cpu, rss = run_typer(data / s["R1"], data / s["R2"], out)
            timing_rows.append((s["sample"], s["read_pairs"], seconds, cpu, rss))
            truth = evaluate.read_truth(data / "truth.tsv", s["sample"])
            calls = evaluate.read_calls(out / "hla.tsv")
            with (out / "hla.tsv").open() as fh:
                rows = {r["gene"]: r for r in csv.DictReader(fh, delimiter="\t")}
            for sc in evaluate.score(truth, calls):
                call = "/".join(sc.call) if sc.call else "-"
                low = " (LOW CONFIDENCE truth)" if evaluate.low_confidence(sc) else ""
                row = rows.get(sc.gene, {})
                print(
                    f"| {s['sample']} | {s['truth_kind']}{low} | {sc.gene} | {'/'.join(sc.truth)} | {call} "
                    f"| {sc.matched}/2 | {row.get('confidence', '-')} | {row.get('note', '-')} |"
                )
                g = per_gene.setdefault(sc.gene, [0, 0])
                g[0] += sc.matched
                g[1] += 2
            for label, (hit, total) in evaluate.summary(evaluate.score(truth, calls)).items():
                totals[label][0] += hit
                totals[label][1] += total
        print("\n| gene | alleles matched |\n|---|---|")
        for gene, (hit, total) in per_gene.items():
            print(f"| {gene} | {hit}/{total} ({100 * hit / total:.1f}%) |")
        for label, (hit, total) in totals.items():
            print(f"| **{label}** | {hit}/{total} ({100 * hit / max(total, 1):.1f}%) |")
        print(f"\n(load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)\n")
        print("| sample | read pairs | wall s | CPU s | peak RSS MiB |\n|---|---|---|---|---|")
        for name, pairs, seconds, cpu, rss in timing_rows:
            print(f"| {name} | {pairs} | {seconds:.1f} | {cpu:.1f} | {rss:.0f} |")
        if not args.no_scaling:
            src = (
                next(s for s in samples if s["sample"] == args.scale_sample) if args.samples is None else None
            )
            src = src or {
                "sample": args.scale_sample,
                "R1": f"samples/{args.scale_sample}_R1.fastq.gz",
                "R2": f"samples/{args.scale_sample}_R2.fastq.gz",
            }
            print(f"\n## Scaling: {args.scale_sample} repeated (ratio = time / time at 1x)\n")
            print(
                "| copies | read pairs | wall s | CPU s | CPU ratio | peak RSS MiB |\n|---|---|---|---|---|---|"
            )
            base = None
            for times in (1, 10, 50):
                r1, r2 = work / f"x{times}_R1.fastq.gz", work / f"x{times}_R2.fastq.gz"
                repeat_fastq(data / src["R1"], r1, times)
                repeat_fastq(data / src["R2"], r2, times)
                seconds, cpu, rss = run_typer(r1, r2, work / f"x{times}")
                base = base or cpu
                with gzip.open(r1, "rt") as fh:
                    pairs = sum(1 for _ in fh) // 4
                print(f"| {times}x | {pairs} | {seconds:.1f} | {cpu:.1f} | {cpu / base:.2f} | {rss:.0f} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
