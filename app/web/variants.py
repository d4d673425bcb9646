"""From a sample's variants.tsv (workers.pipeline.annotate) to the `mutations` of a POST /predict body.

Pure: rows in, mutations out. The consequence column holds Sequence Ontology terms joined by '&',
most severe first (VEP style); the model speaks MAF Variant_Classification (ml.features).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

# SO term -> MAF class; a term missing here (UTR, intron, splice region, ...) is not counted, the way
# ml.features counts only the coding classes every caller reports.
SO_TO_MAF = {
    "stop_gained": "Nonsense_Mutation",
    "splice_acceptor_variant": "Splice_Site",
    "splice_donor_variant": "Splice_Site",
    "stop_lost": "Nonstop_Mutation",
    "start_lost": "Translation_Start_Site",
    "missense_variant": "Missense_Mutation",
    "synonymous_variant": "Silent",
    "stop_retained_variant": "Silent",
}
_FRAMESHIFT, _INFRAME_INS, _INFRAME_DEL = "frameshift_variant", "inframe_insertion", "inframe_deletion"
# What POST /predict accepts as protein_change (app.predict.schemas.MutationSchema).
_PROTEIN = re.compile(r"^p\.[A-Za-z*]+\d+[A-Za-z*_0-9]*$")
_PASSING = {"PASS", ".", ""}


def variant_class(consequence: str, ref: str, alt: str) -> str | None:
    """The MAF class of the most severe term, or None when the model does not count it."""
    for term in (consequence or "").split("&"):
        term = term.strip()
        if term == _FRAMESHIFT:
            return "Frame_Shift_Del" if len(ref) > len(alt) else "Frame_Shift_Ins"
        if term == _INFRAME_INS:
            return "In_Frame_Ins"
        if term == _INFRAME_DEL:
            return "In_Frame_Del"
        if term in SO_TO_MAF:
            return SO_TO_MAF[term]
    return None


@dataclass
class Mapped:
    mutations: list[dict] = field(default_factory=list)
    n_silent: int = 0
    not_in_model: list[str] = field(default_factory=list)  # genes /predict would refuse
    not_counted: int = 0  # non-coding, filtered or gene-less calls
    truncated: bool = False


def mutations_from_rows(
    rows: Iterable[dict], known: Callable[[str], str | None], limit: int = 5000
) -> Mapped:
    """variants.tsv rows -> predict mutations: PASS calls in a gene the model knows, one per allele."""
    out = Mapped()
    unknown: dict[str, None] = {}
    for row in rows:
        if (row.get("filter") or "").strip() not in _PASSING:
            out.not_counted += 1
            continue
        cls = variant_class(row.get("consequence", ""), row.get("ref", ""), row.get("alt", ""))
        gene = (row.get("gene") or "").strip()
        if cls is None or not gene:
            out.not_counted += 1
            continue
        if cls == "Silent":
            out.n_silent += 1
            continue
        symbol = known(gene)
        if symbol is None:
            unknown.setdefault(gene)
            continue
        if len(out.mutations) >= limit:
            out.truncated = True
            continue
        mutation = {"gene": symbol, "variant_class": cls}
        protein = (row.get("protein_change") or "").strip()
        if _PROTEIN.match(protein):
            mutation["protein_change"] = protein
        out.mutations.append(mutation)
    out.not_in_model = list(unknown)
    return out


def read_tsv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text), delimiter="\t"))
