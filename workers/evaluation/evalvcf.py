"""`gems eval-vcf`: SNP and indel precision, recall and F1 of calls against a truth VCF.

Both files are normalised the same way (multi-allelics split, left-aligned against the
reference, MNPs atomised), restricted to the regions BED, and matched on genotype alleles with
a haplotype-aware second pass (see workers.evaluation.vcfcompare). Only PASS calls count.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pysam

from gems.errors import InputError
from workers.evaluation.vcfcompare import compare
from workers.genomics.vcfnorm import INDEL, SNP, load_regions, read_alleles


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gems eval-vcf", description=__doc__.splitlines()[0])
    p.add_argument("--truth", required=True, type=Path, help="truth VCF (bgzipped or plain)")
    p.add_argument("--calls", required=True, type=Path, help="VCF of calls to score")
    p.add_argument("--regions", type=Path, help="BED of confident regions to score in")
    p.add_argument("--reference", required=True, type=Path, help="FASTA the VCFs are against")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--all-calls", action="store_true", help="score non-PASS calls too")
    p.add_argument("--show-errors", type=int, default=0, metavar="N", help="list up to N FP and FN alleles")
    return p


def _open_fasta(path: Path) -> pysam.FastaFile:
    if not path.is_file():
        raise InputError(f"reference {path} not found")
    try:
        return pysam.FastaFile(str(path))
    except (OSError, ValueError) as exc:
        raise InputError(f"reference {path}: cannot open ({exc}); is it indexed (samtools faidx)?") from exc


def evaluate(
    truth: Path,
    calls: Path,
    reference: Path,
    regions: Path | None = None,
    pass_only: bool = True,
) -> dict:
    """Scores as a dict: {"SNP": {...}, "INDEL": {...}, plus the lists of errors under "errors"}."""
    for label, path in (("truth", truth), ("calls", calls)):
        if not Path(path).is_file():
            raise InputError(f"{label} VCF {path} not found")
    bed = load_regions(regions)
    with _open_fasta(Path(reference)) as fasta:
        t = list(read_alleles(truth, fasta, bed, pass_only=True))
        c = list(read_alleles(calls, fasta, bed, pass_only=pass_only))
        result = compare(t, c, fasta.fetch)
    return {
        SNP: result.by_kind[SNP].as_dict(),
        INDEL: result.by_kind[INDEL].as_dict(),
        "errors": {
            "fp": [f"{a.chrom}:{a.pos + 1} {a.ref}>{a.alt} x{a.copies}" for a in result.fp_alleles],
            "fn": [f"{a.chrom}:{a.pos + 1} {a.ref}>{a.alt} x{a.copies}" for a in result.fn_alleles],
        },
    }


def format_table(scores: dict) -> str:
    cols = ["truth_total", "tp", "fp", "fn", "genotype_mismatch", "precision", "recall", "f1"]
    head = f"{'type':<6}" + "".join(f"{c.replace('genotype_mismatch', 'gt_err'):>12}" for c in cols)
    lines = [head]
    for kind in (SNP, INDEL):
        row = scores[kind]
        lines.append(
            f"{kind:<6}"
            + "".join(f"{row[c]:>12.4f}" if isinstance(row[c], float) else f"{row[c]:>12}" for c in cols)
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    scores = evaluate(args.truth, args.calls, args.reference, args.regions, pass_only=not args.all_calls)
    errors = scores.pop("errors")
    if args.show_errors:
        scores["errors"] = {k: v[: args.show_errors] for k, v in errors.items()}
    if args.json:
        print(json.dumps(scores, indent=2))
    else:
        print(format_table(scores))
        if args.show_errors:
            for k, v in scores["errors"].items():
                for line in v:
                    print(f"{k.upper()} {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
