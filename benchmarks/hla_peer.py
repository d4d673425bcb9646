"""gems beside a peer HLA typer (T1K) on the same real reads: G-group concordance per gene, wall
time, CPU time and peak memory, each tool a fresh process, the two taking turns.

    GEMS_T1K=/path/to/T1K .venv/bin/python -m benchmarks.hla_peer [--samples HG00118,NA19141] [--runs 2]

GEMS_T1K is a T1K source folder built with `make` (github.com/mourisl/T1K; fetched and built
beside the project, never committed). Without it the benchmark says so and exits 0. T1K gets
the IMGT/HLA release gems ships (genomic sequences, typed and decoy genes, reheadered as its
`t1k-build.pl -f` does), `--preset hla-wgs` on WGS and `--preset hla` otherwise. Alleles are compared at G-group level
(`workers.hla.groups`): the resolution a lab reports, and the one at which two tools whose
releases name alleles differently can still agree.
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

from benchmarks.hla_run import THREADS, run_typer
from gems.config import Config
from workers.hla import evaluate, groups, names
from workers.hla.reference import DEFAULT_REFERENCE

GENES = ("A", "B", "C", "DRB1", "DQA1", "DQB1", "DPA1", "DPB1")


def t1k_reference(out: Path) -> Path:
    fasta = out / "hla_gen_t1k.fa"
    with fasta.open("w") as fh:
        for path in sorted(DEFAULT_REFERENCE.glob("*gen*.fasta.gz")):
            with gzip.open(path, "rt") as src:
                for line in src:
                    fh.write(f">{line[1:].split()[1]}\n" if line.startswith(">") else line)
    return fasta


def run_t1k(t1k: Path, r1: Path, r2: Path, ref: Path, out: Path, preset: str) -> tuple[float, float, float]:
    cmd = [str(t1k / "run-t1k"), "-1", str(r1), "-2", str(r2), "-f", str(ref), "-t", str(THREADS)]
    cmd += ["-o", "t1k", "--od", str(out), "--preset", preset]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"run-t1k failed on {r1.name}")
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def t1k_calls(out: Path) -> dict[str, tuple[str, str] | None]:
    calls: dict[str, tuple[str, str] | None] = {}
    with (out / "t1k_genotype.tsv").open() as fh:
        for row in csv.reader(fh, delimiter="\t"):
            gene, a1, a2 = row[0], row[2], row[5]
            # "C*16:07:01,C*16:07:02": T1K's tie; its first allele stands for it
            alleles = [a.split(",")[0] for a in (a1, a2) if a != "."]
            calls[gene] = (alleles[0], alleles[-1]) if alleles else None  # one allele: homozygous
    return calls


class GKeys:
    """Any allele name (2 to 4 fields) -> its G group, through the first release allele it names;
    a name the release does not have (SpecHLA's calls use later releases: C*07:18:01:01) is cut a
    field at a time until it names one."""

    def __init__(self, g: groups.Groups):
        self.g = g
        self.full = sorted(g.g)

    def __call__(self, name: str | None) -> str | None:
        if not name:
            return None
        if name.endswith("G"):  # already a G group (gems reports them)
            return name
        gene, _, rest = name.partition("*")
        fields = rest.split(":")
        while fields:
            cut = f"{gene}*{':'.join(fields)}"
            if cut in self.g.g:
                return self.g.g[cut]
            for full in self.full:
                if full.startswith(cut + ":"):
                    return self.g.g[full]
            fields = fields[:-1]
        return names.two_field(name)


def gems_groups(tsv: Path) -> dict[str, tuple[str, str] | None]:
    """gems' own G groups per gene (its hla.tsv), falling back to the 2-field names."""
    out: dict[str, tuple[str, str] | None] = {}
    with tsv.open() as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            pair = [row.get(f"g_group{i}") or "-" for i in (1, 2)]
            if "-" in pair:
                pair = [row[f"allele{i}"] for i in (1, 2)]
            out[row["gene"]] = None if "-" in pair else (pair[0], pair[1])
    return out


def g_matched(truth: tuple[str, str], call: tuple[str, str] | None, key: GKeys) -> int:
    if call is None:
        return 0
    left = [key(t) for t in truth]
    n = 0
    for allele in call:
        k = key(allele)
        if k is not None and k in left:
            left.remove(k)
            n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.hla_peer")
    p.add_argument("--samples", default="HG00118,NA19141")
    p.add_argument("--runs", type=int, default=2, help="runs of each tool per sample, taking turns")
    args = p.parse_args(argv)
    config = Config.from_env()
    t1k = config.t1k_dir
    if t1k is None or not (t1k / "run-t1k").is_file():
        print("benchmarks.hla_peer: no peer to run (set GEMS_T1K to a T1K folder built with make); skipped")
        return 0
    data = config.shared_dir / "data" / "hla"
    with (data / "samples.tsv").open() as fh:
        samples = [s for s in csv.DictReader(fh, delimiter="\t") if s["sample"] in args.samples.split(",")]
    key = GKeys(groups.Groups.load(DEFAULT_REFERENCE))
    work = Path(tempfile.mkdtemp(prefix="hla-peer-"))
    try:
        ref = t1k_reference(work)
        run_typer(data / samples[0]["R1"], data / samples[0]["R2"], work / "warm")  # the index cache
        table, costs = [], []
        for s in samples:
            r1, r2 = data / s["R1"], data / s["R2"]
            preset = "hla-wgs" if "WGS" in s["read_type"] else "hla"  # T1K's presets: WGS, else exome/RNA
            gems_cost, t1k_cost = [], []
            for k in range(args.runs):
                gems_cost.append(run_typer(r1, r2, work / f"gems_{s['sample']}"))
                t1k_cost.append(run_t1k(t1k, r1, r2, ref, work / f"t1k_{s['sample']}_{k}", preset))
            costs.append((s["sample"], gems_cost, t1k_cost))
            truth = evaluate.read_truth(data / "truth.tsv", s["sample"])
            ours = gems_groups(work / f"gems_{s['sample']}" / "hla.tsv")
            theirs = t1k_calls(work / f"t1k_{s['sample']}_0")
            for gene in GENES:
                if gene not in truth:
                    continue
                t = truth[gene]["alleles"]
                table.append((s["sample"], gene, t, ours.get(gene), theirs.get(gene), key))
        print("| sample | gene | truth (SpecHLA) | gems | T1K | gems G match | T1K G match |")
        print("|---|---|---|---|---|---|---|")
        hits = {"gems": [0, 0], "T1K": [0, 0]}
        for sample, gene, t, ours, theirs, k in table:
            mg, mt = g_matched(t, ours, k), g_matched(t, theirs, k)
            hits["gems"][0] += mg
            hits["T1K"][0] += mt
            hits["gems"][1] += 2
            hits["T1K"][1] += 2
            show = lambda c: "/".join(c) if c else "-"  # noqa: E731
            print(f"| {sample} | {gene} | {'/'.join(t)} | {show(ours)} | {show(theirs)} | {mg}/2 | {mt}/2 |")
        for tool, (h, n) in hits.items():
            print(f"| **{tool}** | | | | | {h}/{n} ({100 * h / max(n, 1):.1f}%) | |")
        print(f"\n(load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)\n")
        print("| sample | tool | wall s (each run) | CPU s | peak RSS MiB | wall ratio T1K / gems |")
        print("|---|---|---|---|---|---|")
        for sample, g, t in costs:
            gw, tw = min(c[0] for c in g), min(c[0] for c in t)
            for tool, runs in (("gems", g), ("T1K", t)):
                walls = ", ".join(f"{c[0]:.1f}" for c in runs)
                ratio = f"{tw / gw:.1f}" if tool == "T1K" else ""
                print(
                    f"| {sample} | {tool} | {walls} | {min(c[1] for c in runs):.1f} | {max(c[2] for c in runs):.0f} | {ratio} |"
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
