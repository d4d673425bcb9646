"""HLA typing benchmark: 2-field concordance per sample and gene, time and peak memory per
sample (2 threads), and scaling with read count (one sample repeated 1x, 10x, 50x).

    .venv/bin/python -m benchmarks.hla [--samples a,b] [--scale-sample sim_na12878] [--no-scaling]
                                       [--random N] [--seed S] [--no-peer]

Each typing run is a fresh `gems type-hla` process, so its time includes loading the cached
index and its peak RSS is that process's own. Scaling repeats the same reads: identical pairs
are mapped once, so beyond reading and hashing the FASTQ the extra copies cost little.
The real samples end the run beside a peer typer on the same reads (benchmarks.hla_peer: T1K,
found through GEMS_T1K; skipped with a message without it).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

from benchmarks import hla_peer
from benchmarks.hla_run import run_typer
from gems.config import shared_dir
from workers.hla import evaluate


def repeat_fastq(src: Path, dst: Path, times: int) -> None:
    data = gzip.decompress(src.read_bytes())
    with gzip.open(dst, "wb", compresslevel=1) as fh:
        for _ in range(times):
            fh.write(data)


_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


def _revcomp(seq: str) -> str:
    return seq.translate(_COMPLEMENT)[::-1]


def simulate_random(mode: str, seed: int, n: int, work: Path) -> list[tuple[str, Path, Path, dict]]:
    """Random genotypes (15% homozygous per gene) with 6 random decoy alleles, read with a simple
    simulator (uniform fragments, 0.2% substitutions): DNA = 2x150 from genomic sequences at
    20x per haplotype; RNA = 2x101 from complete CDS sequences at 40x. Checks that the shared
    samples' results are not a property of those samples alone. DRB3/4/5 follow the DR haplotype
    of each DRB1 allele (workers.hla.drb), a random allele per haplotype that carries one; they
    are in the reads but not in the truth (its format has no copy number)."""
    from workers.hla import drb, names, reference

    ref = reference.load()
    rng = random.Random(seed)
    src = ref.gen if mode == "dna" else ref.nuc
    read_len, frag, fold = (150, (400, 60), 20) if mode == "dna" else (101, (250, 50), 40)
    pool = {
        g: [
            a
            for a in src[g]
            if not names.parse(a.name)[2] and (mode == "dna" or len(a.seq) >= 0.97 * len(src[g][0].seq))
        ]
        for g in names.CLASSICAL
        if src.get(g)
    }
    typed = [g for g in names.CLASSICAL if g not in names.DRB_PARTNERS and pool.get(g)]
    decoys = [a for g in ref.decoy_genes for a in src.get(g, [])]

    def reads(seq: str, depth: int):
        for _ in range(int(len(seq) * depth / (2 * read_len))):
            size = min(len(seq), max(read_len, int(rng.gauss(*frag))))
            start = rng.randint(0, len(seq) - size)
            f = seq[start : start + size]
            f = _revcomp(f) if rng.random() < 0.5 else f
            yield f[:read_len], _revcomp(f)[:read_len]

    def noisy(r: str) -> str:
        return "".join(rng.choice("ACGT".replace(b, "")) if rng.random() < 0.002 else b for b in r)

    samples = []
    for k in range(n):
        name = f"random_{mode}_{k}"
        truth, pairs = {}, []
        for g in typed:
            a = rng.choice(pool[g])
            b = a if rng.random() < 0.15 else rng.choice(pool[g])
            truth[g] = {"alleles": (a.name, b.name), "note": ""}
            for allele in (a, b):
                pairs += list(reads(allele.seq, fold))
                partner = (
                    drb.PARTNER.get(names.two_field(allele.name).split("*")[1].split(":")[0])
                    if g == "DRB1"
                    else None
                )
                if partner and pool.get(partner):
                    pairs += list(reads(rng.choice(pool[partner]).seq, fold))
        for d in rng.sample(decoys, min(6, len(decoys))):
            pairs += list(reads(d.seq, fold))
        rng.shuffle(pairs)
        r1, r2 = work / f"{name}_R1.fastq.gz", work / f"{name}_R2.fastq.gz"
        with gzip.open(r1, "wt", compresslevel=1) as f1, gzip.open(r2, "wt", compresslevel=1) as f2:
            for i, (a, b) in enumerate(pairs):
                f1.write(f"@{name}.{i}/1\n{noisy(a)}\n+\n{'I' * len(a)}\n")
                f2.write(f"@{name}.{i}/2\n{noisy(b)}\n+\n{'I' * len(b)}\n")
        samples.append((name, r1, r2, truth))
    return samples


def random_section(n: int, seed: int, work: Path) -> None:
    print(f"\n## Random simulated genotypes ({n} DNA + {n} RNA samples, seed {seed})\n")
    print("| reads | samples | alleles matched | per gene | misses |\n|---|---|---|---|---|")
    for mode in ("dna", "rna"):
        hit = total = 0
        per_gene: dict[str, list[int]] = {}
        misses = []
        for name, r1, r2, truth in simulate_random(mode, seed, n, work):
            run_typer(r1, r2, work / name)
            for sc in evaluate.score(truth, evaluate.read_calls(work / name / "hla.tsv")):
                hit += sc.matched
                total += 2
                g = per_gene.setdefault(sc.gene, [0, 0])
                g[0] += sc.matched
                g[1] += 2
                if sc.matched < 2:
                    misses.append(f"{name} {'/'.join(sc.truth)} called {'/'.join(sc.call or ('-',))}")
        genes = ", ".join(f"{g} {h}/{t}" for g, (h, t) in per_gene.items())
        print(
            f"| {mode.upper()} | {n} | {hit}/{total} ({100 * hit / max(total, 1):.1f}%) | {genes} | {'; '.join(misses) or '-'} |"
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.hla")
    p.add_argument("--samples", default=None, help="comma-separated sample names (default: all)")
    p.add_argument("--scale-sample", default="sim_na12878")
    p.add_argument("--no-scaling", action="store_true")
    p.add_argument("--random", type=int, default=8, help="random simulated samples per read type (0: none)")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--no-peer", action="store_true", help="leave out the peer typer (benchmarks.hla_peer)")
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
        if args.random:
            random_section(args.random, args.seed, work)
        real = [s["sample"] for s in samples if s["read_type"].startswith("real")]
        if real and not args.no_peer:
            # the real samples beside a peer typer on the same reads (skipped, saying so, without one)
            print("\n## Real samples beside a peer typer (benchmarks.hla_peer)\n", flush=True)
            hla_peer.main(["--samples", ",".join(real)])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
