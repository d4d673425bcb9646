"""Calling settings chosen by leave-one-sample-out, bcftools' defaults unless a change wins on every fold.

    .venv/bin/python -m benchmarks.calling

Aligns each shared GIAB sample once with our steps (`benchmarks.pipeline.SAMPLES`), then calls
it with bcftools' defaults and with each candidate change (`CANDIDATES`), scored by `gems
eval-vcf` (PASS calls, the sample's evaluation BED). Two selections, both greedy from the
defaults, one change at a time:

* per fold: the held-out sample is set aside, the change that raises the other samples' SNP +
  indel F1 most (losing neither) is taken while one does; then the held-out sample is scored
  with those settings and with the defaults;
* the product's settings: a change is taken only when it wins on *every* fold, i.e. raises
  SNP + indel F1, lowers neither, and loses no true call on each sample.

Prints each candidate's F1 per sample against the current settings, the folds, and the chosen
settings; docs/pipeline-calling.md keeps the measured table.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import NamedTuple

from benchmarks.pipeline import SAMPLES
from gems.config import REPO_ROOT
from workers.evaluation.evalvcf import evaluate
from workers.genomics.reference import prepare_reference
from workers.pipeline.align import AlignStep
from workers.pipeline.framework import PipelineOptions, SampleContext
from workers.pipeline.qc import QcStep
from workers.pipeline.variants import ANNOTATIONS, call_variants

OUT = REPO_ROOT / "benchmarks" / "out" / "calling"
# A change of bcftools mpileup/call defaults: (label, mpileup args, minimum QUAL for PASS)
CANDIDATES: dict[str, tuple[tuple[str, ...], float]] = {
    "-B (no BAQ)": (("-B",), 0),
    "-D (full BAQ)": (("-D",), 0),
    "-X illumina": (("-X", "illumina"), 0),
    "-F 0.2": (("-F", "0.2"), 0),
    "-m 3": (("-m", "3"), 0),
    "-q 20": (("-q", "20"), 0),
    "-Q 20": (("-Q", "20"), 0),
    "-d 500": (("-d", "500"), 0),
    "QUAL >= 20": ((), 20),
}


def align(name: str, sample: dict) -> Path:
    out = OUT / name
    shutil.rmtree(out, ignore_errors=True)
    ctx = SampleContext(
        name, sample["r1"], sample["r2"], out, PipelineOptions(reference=sample["ref"], threads=2)
    )
    for step in (QcStep(), AlignStep()):
        ctx.report[step.name] = step(ctx)
    return out / "sample.bam"


def settings_args(changes: list[str]) -> tuple[tuple[str, ...], float]:
    args: tuple[str, ...] = ANNOTATIONS
    qual = 0.0
    for c in changes:
        extra, q = CANDIDATES[c]
        args += extra
        qual = max(qual, q)
    return args, qual


class Score(NamedTuple):
    snp: float  # F1
    indel: float
    snp_tp: int  # true calls (the truth set is fixed, so this is recall)
    indel_tp: int


_SCORES: dict[tuple[str, tuple[str, ...]], Score] = {}


def score(name: str, bam: Path, changes: list[str]) -> Score:
    """F1 and true calls of `name` called with the defaults plus `changes` (memoised)."""
    key = (name, tuple(sorted(changes)))
    if key not in _SCORES:
        sample = SAMPLES[name]
        args, qual = settings_args(changes)
        vcf = OUT / name / "calls.vcf.gz"
        call_variants(bam, prepare_reference(sample["ref"]), vcf, OUT / name / "work", None, args, qual)
        s = evaluate(sample["truth"], vcf, sample["ref"], sample["bed"])
        _SCORES[key] = Score(s["SNP"]["f1"], s["INDEL"]["f1"], s["SNP"]["tp"], s["INDEL"]["tp"])
    return _SCORES[key]


def wins(new: Score, old: Score) -> bool:
    """Better F1 in sum, no type's F1 lower, and no true call lost (the issue's "without losing
    anything in GIAB-confident regions": a filter that trades a true call for precision does
    not win)."""
    return (
        new.snp >= old.snp
        and new.indel >= old.indel
        and new.snp + new.indel > old.snp + old.indel
        and new.snp_tp >= old.snp_tp
        and new.indel_tp >= old.indel_tp
    )


def greedy(bams: dict[str, Path], verbose: bool = False) -> list[str]:
    """Changes taken one at a time while one wins on every sample of `bams`."""
    chosen: list[str] = []
    while True:
        base = {n: score(n, b, chosen) for n, b in bams.items()}
        if verbose:
            print(
                f"\nfrom {' '.join(chosen) or 'defaults'}: "
                + ", ".join(f"{n} {_fmt(s)}" for n, s in base.items())
            )
        best, best_gain = None, 0.0
        for cand in CANDIDATES:
            if cand in chosen:
                continue
            trial = {n: score(n, b, [*chosen, cand]) for n, b in bams.items()}
            ok = all(wins(trial[n], base[n]) for n in bams)
            gain = sum(trial[n].snp + trial[n].indel - base[n].snp - base[n].indel for n in bams)
            if verbose:
                cells = " | ".join(f"{_fmt(trial[n])} ({_delta(trial[n], base[n])})" for n in bams)
                print(f"| {cand} | {cells} | {'wins every fold' if ok else '-'} |")
            if ok and gain > best_gain:
                best, best_gain = cand, gain
        if best is None:
            return chosen
        chosen.append(best)


def _fmt(s: Score) -> str:
    return f"{s.snp:.4f} / {s.indel:.4f}"


def _delta(new: Score, old: Score) -> str:
    lost = [
        f"{k} -{d}"
        for k, d in (("SNP TP", old.snp_tp - new.snp_tp), ("indel TP", old.indel_tp - new.indel_tp))
        if d > 0
    ]
    return f"{new.snp - old.snp:+.4f} / {new.indel - old.indel:+.4f}" + (
        f", {', '.join(lost)}" if lost else ""
    )


def main(argv: list[str] | None = None) -> int:
    start = time.perf_counter()
    bams = {name: align(name, sample) for name, sample in SAMPLES.items()}
    print(f"SNP F1 / indel F1 per sample; candidates against the current settings ({' | '.join(bams)})")
    chosen = greedy(bams, verbose=True)
    print("\n## Leave one sample out\n")
    print(
        "| held out | chosen on the others | held-out F1, defaults | held-out F1, chosen |\n|---|---|---|---|"
    )
    for held in bams:
        train = {n: b for n, b in bams.items() if n != held}
        picks = greedy(train)
        d, c = score(held, bams[held], []), score(held, bams[held], picks)
        print(f"| {held} | {' '.join(picks) or 'defaults'} | {_fmt(d)} | {_fmt(c)} |")
    print(f"\nchosen (wins on every fold): {' '.join(chosen) or 'bcftools defaults'}")
    for name in bams:
        print(f"  {name}: {_fmt(score(name, bams[name], chosen))}")
    print(f"({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
