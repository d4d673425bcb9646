"""What the HLA flag means: every call of thinned and simulated samples, by depth and flag.

    .venv/bin/python -m benchmarks.hla_flags [--random 4] [--seeds 2] [--seed 2026] [--rows FILE]

Each shared sample (DNA and RNA) is typed at full depth and thinned to about 40x, 20x, 10x and
4x per gene (`--seeds` random thinnings per depth; DNA samples are simulated at 40x, an RNA
sample's depth is estimated from its informative pairs over the coding sequence); `--random` random genotypes per read type (benchmarks.hla's simulator) the same way.
Prints, per depth, how many called genes carry each flag and how many of those have a wrong
allele (2 fields), then the mean posterior against the share right per posterior bin. The goal:
no wrong allele flagged `ok` at any depth, and every right call `ok` at full depth unless the
reads cannot tell the genotypes apart (`ambiguous`, tied genotypes listed). `--rows` keeps every
call as JSON lines. Typing runs in this process (the index loads once).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmarks.hla import simulate_random
from gems.config import shared_dir
from workers.hla import evaluate, names, typer
from workers.hla.flags import Flag

DEPTHS = (40, 20, 10, 4)
CDS_LEN = {"A": 1098, "B": 1089, "C": 1101, "DRB1": 801, "DQA1": 768, "DQB1": 786, "DPB1": 777}
THREADS = 2


def thin(r1: Path, r2: Path, fraction: float, seed: int, out: Path) -> tuple[Path, Path]:
    """Keep each read pair with probability `fraction` (the same pairs from both files)."""
    rng = random.Random(seed)
    o1, o2 = out.with_name(out.name + "_R1.fastq.gz"), out.with_name(out.name + "_R2.fastq.gz")
    with (
        gzip.open(r1, "rt") as f1,
        gzip.open(r2, "rt") as f2,
        gzip.open(o1, "wt", compresslevel=1) as w1,
        gzip.open(o2, "wt", compresslevel=1) as w2,
    ):
        while True:
            a = [f1.readline() for _ in range(4)]
            b = [f2.readline() for _ in range(4)]
            if not a[0]:
                break
            if rng.random() < fraction:
                w1.writelines(a)
                w2.writelines(b)
    return o1, o2


def depth_of(result: typer.TypingResult, read_len: int) -> float:
    """Median depth per typed gene over its coding sequence, from informative pairs."""
    depths = sorted(
        result.stats.informative[g] * 2 * read_len / CDS_LEN[g] for g in result.genes if g in CDS_LEN
    )
    return depths[len(depths) // 2] if depths else 0.0


def read_length(r1: Path) -> int:
    with gzip.open(r1, "rt") as fh:
        fh.readline()
        return len(fh.readline().strip())


def rows_of(sample: str, kind: str, depth: str, result: typer.TypingResult, truth: dict) -> list[dict]:
    rows = []
    for call in result.calls:
        if call.gene not in truth:
            continue
        t = truth[call.gene]
        pair = (call.allele1, call.allele2) if call.called else None
        matched = evaluate.match_count(t["alleles"], pair)
        rows.append(
            dict(
                sample=sample, kind=kind, depth=depth, gene=call.gene, truth="/".join(t["alleles"]),
                call="/".join(pair) if pair else "-", matched=matched, called=call.called,
                flag=call.flag, posterior=call.confidence, margin=call.margin, pairs=call.pairs,
                fit=call.mismatches_per_pair, ambiguous=call.ambiguous, low_truth="LOW CONFIDENCE" in t["note"],
                deltas=[a["delta"] for a in call.alternatives],
            )
        )  # fmt: skip
    return rows


def run_sample(name: str, kind: str, r1: Path, r2: Path, truth: dict, seeds: int, work: Path) -> list[dict]:
    full = typer.type_sample(r1, r2, names.CLASSICAL, threads=THREADS)
    # Simulated DNA samples are made at 40x per gene (20x per haplotype, genomic sequences); the
    # depth of real DNA (WGS, exome) and RNA is estimated over the coding sequence
    depth = 40.0 if kind in ("DNA", "random DNA") else depth_of(full, read_length(r1))
    print(f"{name}: about {depth:.0f}x per gene", file=sys.stderr)
    rows = rows_of(name, kind, "full", full, truth)
    for target in DEPTHS:
        fraction = target / depth if depth else 1.0
        if fraction >= 0.9:
            continue  # the full run stands for it
        for s in range(seeds):
            t1, t2 = thin(r1, r2, fraction, 1000 * target + s, work / f"{name}_{target}x_{s}")
            rows += rows_of(
                name, kind, f"{target}x", typer.type_sample(t1, t2, names.CLASSICAL, threads=THREADS), truth
            )
            t1.unlink()
            t2.unlink()
    return rows


def samples(random_n: int, seed: int, work: Path):
    data = shared_dir() / "data" / "hla"
    with (data / "samples.tsv").open() as fh:
        for s in csv.DictReader(fh, delimiter="\t"):
            read_type = s["read_type"]
            kind = (
                "DNA"
                if read_type.startswith("simulated DNA")
                else "real DNA"
                if read_type.startswith("real")
                else "RNA"
            )
            truth = evaluate.read_truth(data / "truth.tsv", s["sample"])
            yield s["sample"], kind, data / s["R1"], data / s["R2"], truth
    for mode in ("dna", "rna"):
        for name, r1, r2, truth in simulate_random(mode, seed, random_n, work):
            yield name, f"random {mode.upper()}", r1, r2, truth


def print_tables(rows: list[dict]) -> None:
    order = ["full", *(f"{d}x" for d in DEPTHS)]
    print("| depth | called genes | ok (wrong) | low_confidence (wrong) | ambiguous (wrong) | insufficient |")
    print("|---|---|---|---|---|---|")
    for depth in order:
        sub = [r for r in rows if r["depth"] == depth]
        if not sub:
            continue
        n, wrong = (
            Counter(r["flag"] for r in sub),
            Counter(r["flag"] for r in sub if r["called"] and r["matched"] < 2),
        )
        cells = [f"{n[f.value]} ({wrong[f.value]})" for f in (Flag.OK, Flag.LOW_CONFIDENCE, Flag.AMBIGUOUS)]
        print(
            f"| {depth} | {sum(r['called'] for r in sub)} | {' | '.join(cells)} | {n[Flag.INSUFFICIENT.value]} |"
        )
    wrong_ok = [r for r in rows if r["flag"] == Flag.OK.value and r["matched"] < 2]
    full = [r for r in rows if r["depth"] == "full" and r["matched"] == 2]
    full_ok = sum(r["flag"] == Flag.OK.value for r in full)
    print(f"\nwrong alleles flagged ok: {len(wrong_ok)}")
    for r in wrong_ok:
        print(
            f"  {r['sample']} {r['depth']} {r['gene']}: truth {r['truth']} call {r['call']} posterior {r['posterior']}"
        )
    print(f"right calls at full depth flagged ok: {full_ok}/{len(full)}")
    for r in full:
        if r["flag"] != Flag.OK.value:
            tied = f", tied with {', '.join(r['ambiguous'])}" if r["ambiguous"] else ""
            print(f"  {r['sample']} {r['gene']}: {r['flag']} ({r['margin']} nats ahead{tied})")
    print("\n| posterior | calls | mean posterior | right |\n|---|---|---|---|")
    for lo, hi in ((0, 0.5), (0.5, 0.9), (0.9, 0.99), (0.99, 0.999), (0.999, 1.01)):
        sub = [r for r in rows if r["called"] and lo <= r["posterior"] < hi]
        if sub:
            right = sum(r["matched"] == 2 for r in sub) / len(sub)
            mean = sum(r["posterior"] for r in sub) / len(sub)
            print(f"| {lo}-{min(hi, 1)} | {len(sub)} | {mean:.3f} | {right:.3f} |")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.hla_flags")
    p.add_argument("--random", type=int, default=4, help="random genotypes per read type")
    p.add_argument("--seeds", type=int, default=2, help="thinnings per depth")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--rows", type=Path, default=None, help="write every call here as JSON lines")
    args = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="hla-flags-"))
    rows: list[dict] = []
    start = time.perf_counter()
    try:
        for name, kind, r1, r2, truth in samples(args.random, args.seed, work):
            rows += run_sample(name, kind, r1, r2, truth, args.seeds, work)
            print(
                f"typed {name} ({kind}) at all depths, {time.perf_counter() - start:.0f} s", file=sys.stderr
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.rows:
        args.rows.write_text("".join(json.dumps(r) + "\n" for r in rows))
    print_tables(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
