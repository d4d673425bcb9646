"""Allele dropout, made from the shared DNA samples: is a heterozygote whose second allele the
reads never saw ever called homozygous and flagged `ok`? And what does the depth check
(`workers.hla.dropout`) cost true homozygotes?

    .venv/bin/python -m benchmarks.hla_dropout [--depths 20,10] [--seed 2026]

For each heterozygous gene of each shared DNA sample, one allele's reads are removed, in turn
each allele, and the sample is typed again, at full depth and thinned to each of `--depths`
(per gene). Which reads are an allele's:
  * simulated samples: the simulator's read origins (`*_read_origin.tsv.gz`);
  * real samples (HG00118 WGS, NA19141 exome): each pair is aligned (minimap2, mappy) to the
    genomic sequences of the two alleles gems calls at full depth and removed when it fits the
    dropped one within OWN_EDITS edits over both mates and better than the other; a pair that
    fits both equally is removed with probability 1/2, as half of such reads came from each copy.
The true homozygotes of the same samples, typed at the same depths, show what the check costs.
Prints per depth: dropouts called homozygous and how they are flagged (`ok` must be 0), the
depth share the check saw, and the true homozygotes flagged by it.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import random
import shutil
import statistics
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from benchmarks.hla_flags import depth_of, read_length, thin
from gems.config import shared_dir
from workers.hla import dropout, evaluate, names, reference, typer
from workers.hla.flags import Flag

THREADS = 2
SIM_DEPTH = 40.0  # the shared simulations: 20x per haplotype
# edits over both mates under which a pair is the lost allele's own: the other class I (or
# class II) genes' reads align to an allele's sequence too, with many more
OWN_EDITS = 3
_BEFORE: dict[str, str] = {}  # each gene's flag before the depth check, of the last typing
_resolve = dropout.resolve


def _spy(found) -> None:
    _BEFORE.clear()
    _BEFORE.update({c.gene: c.flag for c in found})
    _resolve(found)


def pairs(r1: Path, r2: Path) -> Iterator[tuple[list[str], list[str]]]:
    with gzip.open(r1, "rt") as f1, gzip.open(r2, "rt") as f2:
        while True:
            a = [f1.readline() for _ in range(4)]
            b = [f2.readline() for _ in range(4)]
            if not a[0]:
                return
            yield a, b


def write_without(r1: Path, r2: Path, drop, out: Path) -> tuple[Path, Path]:
    o1, o2 = out.with_name(out.name + "_R1.fastq.gz"), out.with_name(out.name + "_R2.fastq.gz")
    with gzip.open(o1, "wt", compresslevel=1) as w1, gzip.open(o2, "wt", compresslevel=1) as w2:
        for a, b in pairs(r1, r2):
            if not drop(a[0][1:].split()[0].rsplit("/", 1)[0], a[1].strip(), b[1].strip()):
                w1.writelines(a)
                w2.writelines(b)
    return o1, o2


def by_origin(sample_dir: Path, sample: str, gene: str, allele: str):
    """A dropper from the simulator's read origins: the reads of `allele` (2 fields) of `gene`."""
    origin = {}
    with gzip.open(sample_dir / f"{sample}_read_origin.tsv.gz", "rt") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            origin[row["read"]] = row["source_allele"]
    want = names.two_field_key(allele)

    def drop(read: str, s1: str, s2: str) -> bool:
        src = origin.get(read)
        return src is not None and src.startswith(gene + "*") and names.two_field_key(src) == want

    return drop


def by_alignment(ref: reference.HlaReference, keep: str, lose: str, seed: int, work: Path):
    """A dropper from alignment to the two called alleles: pairs that fit `lose` better."""
    import mappy

    gene = keep.split("*")[0]

    def seq(name: str) -> str:
        for pool in (ref.gen.get(gene, []), ref.nuc.get(gene, [])):
            for a in pool:
                if a.name == name:
                    return a.seq
        raise KeyError(name)

    fasta = work / f"{gene}_pair.fa"
    fasta.write_text(f">keep\n{seq(keep)}\n>lose\n{seq(lose)}\n")
    aligner = mappy.Aligner(str(fasta), preset="sr", best_n=4)
    rng = random.Random(seed)

    def edits(read: str) -> dict[str, int]:
        best: dict[str, int] = {}
        for h in aligner.map(read):
            ed = h.NM + (len(read) - (h.q_en - h.q_st))  # clipped bases count against the fit
            best[h.ctg] = min(best.get(h.ctg, ed), ed)
        return best

    def drop(read: str, s1: str, s2: str) -> bool:
        e1, e2 = edits(s1), edits(s2)
        if not (e1 or e2):
            return False  # another gene's read
        big = 10**6
        k = e1.get("keep", big) + e2.get("keep", big)
        lo = e1.get("lose", big) + e2.get("lose", big)
        if lo > OWN_EDITS:
            return False  # not the lost allele's read: another gene's that aligns here too
        return lo < k or (lo == k and rng.random() < 0.5)

    return drop


def samples() -> Iterator[tuple[str, str, Path, Path, dict]]:
    data = shared_dir() / "data" / "hla"
    with (data / "samples.tsv").open() as fh:
        for s in csv.DictReader(fh, delimiter="\t"):
            kind = s["read_type"]
            if kind.startswith("simulated DNA") or kind.startswith("real"):
                truth = evaluate.read_truth(data / "truth.tsv", s["sample"])
                yield (
                    s["sample"],
                    "simulated" if kind.startswith("sim") else "real",
                    data / s["R1"],
                    data / s["R2"],
                    truth,
                )


def typed_at(r1: Path, r2: Path, depth: float, depths: list[int], work: Path, seed: int):
    """(depth label, TypingResult) at full depth and thinned to each target."""
    yield "full", typer.type_sample(r1, r2, names.CLASSICAL, threads=THREADS)
    for target in depths:
        if target / depth >= 0.9:
            continue
        t1, t2 = thin(r1, r2, target / depth, seed + target, work / f"thin_{target}")
        yield f"{target}x", typer.type_sample(t1, t2, names.CLASSICAL, threads=THREADS)
        t1.unlink()
        t2.unlink()


def share_seen(result: typer.TypingResult, gene: str) -> float | None:
    """The depth share the check computes, read back from the note (None: not flagged by it)."""
    call = next(c for c in result.calls if c.gene == gene)
    for part in call.note.split("; "):
        if part.startswith("homozygous at "):
            return float(part.split()[2])
    return None


def row(sample, kind, depth, result, gene, truth, case) -> dict:
    call = next(c for c in result.calls if c.gene == gene)
    pair = (call.allele1, call.allele2) if call.called else None
    return dict(
        sample=sample, kind=kind, depth=depth, gene=gene, case=case, flag=call.flag,
        homozygous=dropout.homozygous(call), matched=evaluate.match_count(truth["alleles"], pair),
        share=share_seen(result, gene), call="/".join(pair) if pair else "-", before=_BEFORE.get(gene),
    )  # fmt: skip


def run(depths: list[int], seed: int, work: Path) -> list[dict]:
    ref = reference.load()
    rows: list[dict] = []
    for sample, kind, r1, r2, truth in samples():
        full = typer.type_sample(r1, r2, names.CLASSICAL, threads=THREADS)
        depth = SIM_DEPTH if kind == "simulated" else depth_of(full, read_length(r1))
        homs = [g for g, t in truth.items() if len({names.two_field_key(a) for a in t["alleles"]}) == 1]
        for label, result in typed_at(r1, r2, depth, depths, work, seed):
            rows += [row(sample, kind, label, result, g, truth[g], "true homozygote") for g in homs]
        calls = {c.gene: c for c in full.calls}
        for gene, t in truth.items():
            call = calls.get(gene)
            if gene in homs or call is None or not call.called:
                continue
            for k in (0, 1):
                lose = t["alleles"][k]
                if kind == "simulated":
                    drop = by_origin(r1.parent, sample, gene, lose)
                else:  # the called alleles stand for the truth's: their reads are what is there
                    full_names = [call.full1, call.full2]
                    ranked = sorted(
                        range(2),
                        key=lambda j: names.two_field_key(full_names[j]) != names.two_field_key(lose),
                    )
                    drop = by_alignment(ref, full_names[ranked[1]], full_names[ranked[0]], seed, work)
                d1, d2 = write_without(r1, r2, drop, work / f"{sample}_{gene}_{k}")
                for label, result in typed_at(d1, d2, depth, depths, work, seed):
                    rows.append(row(sample, kind, label, result, gene, t, "dropout"))
                d1.unlink()
                d2.unlink()
            print(f"{sample} {gene}: both dropouts typed", file=sys.stderr)
    return rows


def print_tables(rows: list[dict], depths: list[int]) -> None:
    print(f"Dropout check: homozygous under {dropout.DROPOUT_SHARE} of the other genes' median depth\n")
    print(
        "| depth | dropouts | called homozygous | `ok` | `low_confidence` | `ambiguous` | flagged by the check"
        " | true homozygotes | flagged by the check | of them otherwise `ok` |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for depth in ["full", *(f"{d}x" for d in depths)]:
        drops = [r for r in rows if r["depth"] == depth and r["case"] == "dropout"]
        homs = [r for r in rows if r["depth"] == depth and r["case"] == "true homozygote"]
        if not drops and not homs:
            continue
        hom_calls = [r for r in drops if r["homozygous"]]
        n = Counter(r["flag"] for r in hom_calls)
        hit = sum(r["share"] is not None for r in hom_calls)
        cost = [r for r in homs if r["share"] is not None]
        print(
            f"| {depth} | {len(drops)} | {len(hom_calls)} | {n[Flag.OK.value]} | {n[Flag.LOW_CONFIDENCE.value]}"
            f" | {n[Flag.AMBIGUOUS.value]} | {hit} | {len(homs)} | {len(cost)} | "
            f"{sum(r['before'] == Flag.OK.value for r in cost)} |"
        )
    wrong_ok = [r for r in rows if r["case"] == "dropout" and r["flag"] == Flag.OK.value and r["matched"] < 2]
    print(f"\ndropouts with a wrong allele flagged ok: {len(wrong_ok)}")
    for r in wrong_ok:
        print(f"  {r['sample']} {r['depth']} {r['gene']}: {r['call']}")
    seen = [r["share"] for r in rows if r["case"] == "dropout" and r["share"] is not None]
    if seen:
        print(
            f"depth share of flagged dropouts: median {statistics.median(seen):.2f}, "
            f"range {min(seen):.2f}-{max(seen):.2f}"
        )
    for r in rows:
        if r["case"] == "true homozygote" and r["share"] is not None:
            print(f"  true homozygote flagged: {r['sample']} {r['depth']} {r['gene']} ({r['share']:.2f})")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.hla_dropout")
    p.add_argument("--depths", default="20,10", help="per-gene depths to thin to, besides full")
    p.add_argument("--seed", type=int, default=2026)
    args = p.parse_args(argv)
    depths = [int(x) for x in args.depths.split(",") if x]
    work = Path(tempfile.mkdtemp(prefix="hla-dropout-"))
    dropout.resolve = _spy  # typer calls it through the module: see each flag before the check
    try:
        rows = run(depths, args.seed, work)
    finally:
        dropout.resolve = _resolve
        shutil.rmtree(work, ignore_errors=True)
    print_tables(rows, depths)
    return 0


if __name__ == "__main__":
    sys.exit(main())
