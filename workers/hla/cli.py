"""`gems type-hla` and `gems eval-hla`."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from gems.errors import ValidationError

from . import evaluate, names, output, typer


class _Parser(argparse.ArgumentParser):
    """Argument errors become one-line ValidationErrors (the dispatcher prints them)."""

    def error(self, message: str):
        raise ValidationError(message)


def type_hla(argv: list[str]) -> int:
    p = _Parser(prog="gems type-hla", description="HLA-type one sample at 2-field resolution.")
    p.add_argument("--r1", required=True, type=Path, help="R1 FASTQ (gzip or plain)")
    p.add_argument("--r2", required=True, type=Path, help="R2 FASTQ, same read order")
    p.add_argument(
        "--hla-reference", type=Path, default=None, help="IMGT/HLA directory (default: the shipped 3.32.0)"
    )
    p.add_argument("--hla-class", default="both", choices=["1", "2", "both"], help="genes to type")
    p.add_argument(
        "--out", required=True, type=Path, help="output directory (hla.tsv, hla.json, hla.miring.json)"
    )
    p.add_argument(
        "--sample", default=None, help="the sample's name in the MIRING record (default: from --r1)"
    )
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    if args.threads < 1:
        raise ValidationError("--threads must be at least 1", field="threads")
    result = typer.type_sample(
        args.r1, args.r2, names.genes_for_class(args.hla_class), args.hla_reference, threads=args.threads
    )
    sample = args.sample or re.sub(r"([._-]R?1)?(\.f(ast)?q)?(\.gz)?$", "", args.r1.name) or "sample"
    tsv, _, _ = output.write(result, args.out, sample, [args.r1.name, args.r2.name])
    sys.stdout.write(
        f"# IMGT/HLA {result.release}; {result.hla_reads} HLA read pairs of {result.stats.pairs}\n"
    )
    sys.stdout.write(tsv.read_text())
    return 0


def eval_hla(argv: list[str]) -> int:
    p = _Parser(prog="gems eval-hla", description="2-field concordance of HLA calls against a truth table.")
    p.add_argument("--truth", required=True, type=Path)
    p.add_argument("--calls", required=True, type=Path)
    p.add_argument("--sample", default=None)
    args = p.parse_args(argv)
    truth = evaluate.read_truth(args.truth, args.sample)
    scores = evaluate.score(truth, evaluate.read_calls(args.calls))
    print("gene\ttruth\tcall\tmatched\ttruth_note")
    for s in scores:
        call = "/".join(s.call) if s.call else "-"
        print(f"{s.gene}\t{'/'.join(s.truth)}\t{call}\t{s.matched}/2\t{s.note or '-'}")
    summ = evaluate.summary(scores)
    for label, (hit, total) in summ.items():
        pct = 100.0 * hit / total if total else float("nan")
        print(f"{label}\t{hit}/{total}\t{pct:.1f}%")
    return 0
