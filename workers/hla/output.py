"""hla.tsv, hla.json and hla.miring.json, written to temporary names and renamed only when complete."""

from __future__ import annotations

import json
import os
from pathlib import Path

from gems.safetext import for_spreadsheet

from . import miring
from .calls import LAB_FIELDS
from .typer import TypingResult

TSV_COLUMNS = [
    "gene",
    "allele1",
    "allele2",
    "confidence",
    "flag",
    "reads1",
    "reads2",
    "pairs",
    "ambiguous",
    "note",
    *LAB_FIELDS,
]
MISSING = "-"


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text)
    tmp.replace(path)


def tsv_text(result: TypingResult) -> str:
    lines = ["\t".join(TSV_COLUMNS)]
    for c in result.calls:
        row = [
            c.gene,
            c.allele1 or MISSING,
            c.allele2 or MISSING,
            MISSING if c.confidence is None else f"{c.confidence:.4f}",
            c.flag,
            str(c.reads1),
            str(c.reads2),
            str(c.pairs),
            ",".join(c.ambiguous) or MISSING,
            c.note or MISSING,
            *(MISSING if getattr(c, f) in (None, "") else str(getattr(c, f)) for f in LAB_FIELDS),
        ]
        lines.append("\t".join(for_spreadsheet(c) for c in row))  # names from a custom reference
    return "\n".join(lines) + "\n"


def evidence(result: TypingResult) -> dict:
    st = result.stats
    return {
        "imgt_release": result.release,
        "reference": result.reference,
        "genes": result.genes,
        "read_pairs": st.pairs,
        "distinct_pairs": st.distinct_pairs,
        "hla_reads": result.hla_reads,
        "pairs_by_gene": dict(sorted(st.assigned.items())),
        "informative_pairs_by_gene": dict(sorted(st.informative.items())),
        "unmapped_pairs": st.unmapped,
        "gene_ambiguous_pairs": st.ambiguous_gene,
        "seconds": result.seconds,
        "calls": [{k: v for k, v in c.to_dict().items() if k != "consensus"} for c in result.calls],
        "gl_string": result.gl_string,
    }


MIRING = "hla.miring.json"


def write(result: TypingResult, out: Path, sample: str, read_files: list[str]) -> tuple[Path, Path, Path]:
    """hla.tsv (the calls), hla.json (the evidence behind them) and the MIRING record
    (`workers.hla.miring`: consensus sequences, novel polymorphisms, reference context)."""
    out.mkdir(parents=True, exist_ok=True)
    tsv, js, mr = out / "hla.tsv", out / "hla.json", out / MIRING
    _atomic_write(js, json.dumps(evidence(result), indent=2) + "\n")
    _atomic_write(mr, json.dumps(miring.record(result, sample, read_files), indent=1) + "\n")
    _atomic_write(tsv, tsv_text(result))
    return tsv, js, mr
