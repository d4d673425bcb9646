"""IMGT/HLA allele nomenclature: genes, fields, 2-field collapsing and a tie-break order."""

from __future__ import annotations

import re

CLASS_I = ("A", "B", "C")
# DRB3, DRB4 and DRB5 are on some DR haplotypes only (workers.hla.drb)
CLASS_II = ("DRB1", "DRB3", "DRB4", "DRB5", "DQA1", "DQB1", "DPA1", "DPB1")
DRB_PARTNERS = ("DRB3", "DRB4", "DRB5")
CLASSICAL = CLASS_I + CLASS_II

_NAME = re.compile(r"^(?:HLA-)?([A-Z0-9]+)\*(\d+(?::\d+)*)([A-Z]?)$")


def genes_for_class(hla_class: str) -> tuple[str, ...]:
    """Genes typed for an `hla_class` option value ("1", "2" or "both")."""
    value = str(hla_class).strip().lower()
    if value in ("1", "i", "class1", "class_i"):
        return CLASS_I
    if value in ("2", "ii", "class2", "class_ii"):
        return CLASS_II
    if value in ("both", "all", "1,2", "12"):
        return CLASSICAL
    raise ValueError(f"hla_class must be 1, 2 or both, got {hla_class!r}")


def parse(name: str) -> tuple[str, tuple[int, ...], str]:
    """'A*01:01:01:02N' -> ('A', (1, 1, 1, 2), 'N'). Raises ValueError on a malformed name."""
    m = _NAME.match(name.strip())
    if not m:
        raise ValueError(f"not an HLA allele name: {name!r}")
    return m.group(1), tuple(int(f) for f in m.group(2).split(":")), m.group(3)


def gene_of(name: str) -> str:
    return parse(name)[0]


def two_field(name: str) -> str:
    """The protein-level (2-field) name: 'A*01:01:01:01' -> 'A*01:01'.

    An expression suffix is kept only when the allele is named at 2 fields ('A*24:09N': a
    distinct protein); on a 3- or 4-field name ('A*01:01:01:02N') it marks a synonymous or
    non-coding change, so the protein, and the 2-field name, is that of 'A*01:01'."""
    return _fields(name, 2)


def three_field(name: str) -> str:
    """The coding-sequence (3-field) name: 'A*01:01:01:02N' -> 'A*01:01:01'; a name of 3 fields
    or fewer is itself (its suffix kept)."""
    return _fields(name, 3)


def _fields(name: str, n: int) -> str:
    gene, _, suffix = parse(name)
    m = _NAME.match(name.strip())
    raw_fields = m.group(2).split(":") if m else []
    kept = suffix if len(raw_fields) <= n else ""
    return f"{gene}*{':'.join(raw_fields[:n])}{kept}"


def two_field_key(name: str) -> tuple[str, tuple[int, ...]]:
    """Comparison key at 2 fields, ignoring expression suffixes (for concordance scoring)."""
    gene, fields, _ = parse(name)
    return gene, fields[:2]


def order_key(name: str) -> tuple:
    """Tie-break order among equally good alleles: expressed before null/low/questionable,
    then by allele number (lower numbers were described earlier and are mostly the common ones)."""
    gene, fields, suffix = parse(name)
    return (suffix != "", fields, name)
