"""G and P groups of the release (WMDA's `hla_nom_g.txt` and `hla_nom_p.txt`), and GL Strings.

A G group gathers alleles with the same nucleotide sequence over the exons that encode the
antigen-recognition domain (exons 2 and 3 for class I, exon 2 for class II); a P group those with
the same protein sequence there. They are the resolution histocompatibility labs report and
match on. Each file's lines read `A*;01:01:01:01/01:01:01:03/...;01:01:01G`; an allele in no
group (`A*;01:02;`) is its own group, written with its own name.

A GL String (version 1.1: `/` allele ambiguity, `+` the two alleles of a genotype, `|` genotype
ambiguity, `^` between loci) carries the whole ambiguity of a call instead of a best guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from . import names


def _read(path: Path | None) -> dict[str, str]:
    """Full allele name (GENE*fields) -> group name (GENE*fields + G/P)."""
    out: dict[str, str] = {}
    if path is None:
        return out
    for line in path.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        parts = line.split(";")
        if len(parts) < 3 or not parts[2]:
            continue
        gene = parts[0]  # "A*"
        group = gene + parts[2]
        for allele in parts[1].split("/"):
            out[gene + allele] = group
    return out


@dataclass
class Groups:
    release: str = ""
    g: dict[str, str] = field(default_factory=dict)
    p: dict[str, str] = field(default_factory=dict)

    @property
    def loaded(self) -> bool:
        return bool(self.g)

    @classmethod
    def load(cls, directory: Path, release: str = "") -> Groups:
        found = {kind: sorted(directory.glob(f"*nom_{kind}*.txt")) for kind in ("g", "p")}
        return cls(release, _read(next(iter(found["g"]), None)), _read(next(iter(found["p"]), None)))

    def g_group(self, allele: str) -> str | None:
        """The allele's G group (its own name when it is in none); None without the file."""
        if not self.loaded:
            return None
        return self.g.get(allele, allele)

    def p_group(self, allele: str) -> str | None:
        if not self.p:
            return None
        return self.p.get(allele) or self.p.get(names.two_field(allele))


def _hla(name: str) -> str:
    return name if name.startswith("HLA-") else f"HLA-{name}"


def _key(name: str) -> tuple:
    return names.order_key(
        name.removesuffix("G").removesuffix("P")
    )  # a group's letter is no expression suffix


def genotype_gl(genotypes: Iterable[tuple[str, str]]) -> str:
    """One locus's GL String from every genotype the reads cannot tell apart. When one allele is
    in all of them, it is written once and the other's options joined by `/`."""
    unique = sorted({tuple(sorted(g, key=_key)) for g in genotypes}, key=lambda g: (_key(g[0]), _key(g[1])))
    if not unique:
        return ""
    common = [a for a in dict.fromkeys(x for g in unique for x in g) if all(a in g for g in unique)]
    if common:
        c = common[0]
        others = sorted({g[1] if g[0] == c else g[0] for g in unique}, key=_key)
        options = "/".join(_hla(o) for o in others)
        return f"{_hla(c)}+{options}" if all(_key(c) <= _key(o) for o in others) else f"{options}+{_hla(c)}"
    return "|".join(f"{_hla(a)}+{_hla(b)}" for a, b in unique)


def sample_gl(loci: Iterable[str]) -> str:
    return "^".join(gl for gl in loci if gl)


def resolve(call, groups: Groups) -> None:
    """Fill a called gene's G and P groups, 3-field names (where every genotype the reads cannot
    tell apart agrees on them) and GL String (`call`: a workers.hla.calls.GeneCall)."""
    if not call.called:
        return
    call.g_group1, call.g_group2 = groups.g_group(call.full1), groups.g_group(call.full2)
    call.p_group1, call.p_group2 = groups.p_group(call.full1), groups.p_group(call.full2)
    pairs = call.tied or [(call.full1, call.full2)]
    oriented = [tuple(sorted(p, key=lambda n: (names.order_key(names.two_field(n)), n))) for p in pairs]
    for slot in (0, 1):
        options = {names.three_field(p[slot]) for p in oriented}
        setattr(call, f"three_field{slot + 1}", options.pop() if len(options) == 1 else None)
    if groups.loaded:
        call.gl_string = genotype_gl((groups.g.get(a, a), groups.g.get(b, b)) for a, b in pairs)
