"""hla.tsv and hla.json, written to temporary names and renamed only when complete."""

from __future__ import annotations

import json
import os
from pathlib import Path

from gems.safetext import for_spreadsheet

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
    # what a lab reports (workers.hla.groups): G and P groups, 3-field names where the reads
    # decide them, and the locus's whole ambiguity as a GL String
    "g_group1",
    "g_group2",
    "p_group1",
    "p_group2",
    "three_field1",
    "three_field2",
    "gl_string",
    "copies",
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
            c.g_group1 or MISSING,
            c.g_group2 or MISSING,
            c.p_group1 or MISSING,
            c.p_group2 or MISSING,
            c.three_field1 or MISSING,
            c.three_field2 or MISSING,
            c.gl_string or MISSING,
            MISSING if c.copies is None else str(c.copies),
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
        "calls": [c.to_dict() for c in result.calls],
        "gl_string": result.gl_string,
    }


def write(result: TypingResult, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    tsv, js = out / "hla.tsv", out / "hla.json"
    _atomic_write(js, json.dumps(evidence(result), indent=2) + "\n")
    _atomic_write(tsv, tsv_text(result))
    return tsv, js
