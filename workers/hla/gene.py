"""Type one gene: choose the pair, check that each allele explains its own reads
(`workers.hla.support`), set aside reads that belong to another sequence and choose again.

At most MAX_SET_ASIDE rounds: each round removes the reads a foreign allele explained better
than its partner, so the next pair is chosen from the gene's own reads. The call reports how
many read pairs were set aside and which allele had stood for them, and is flagged (never
`ok`) when an allele it keeps disagrees with its reads at some site.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import calls, consensus, flags, model, names, scoring, support
from .calls import GeneCall
from .mapping import GeneEvidence
from .msa import GAP, UNKNOWN, GeneMSA

MAX_SET_ASIDE = 3


@dataclass
class SetAside:
    allele: str  # the allele of this gene that had stood for them
    reads: int
    sites: int


def _position(msa: GeneMSA, allele: int, column: int) -> int:
    """1-based position in the allele's own sequence of an MSA column."""
    codes = msa.codes[allele][: column + 1]
    return int(((codes != GAP) & (codes != UNKNOWN)).sum())


def _pair_of(call: GeneCall, msa: GeneMSA) -> tuple[int, int]:
    assert call.full1 and call.full2  # make_call always names the pair behind the call
    return msa.names.index(call.full1), msa.names.index(call.full2)


def call_gene(gene: str, ev: GeneEvidence, msa: GeneMSA) -> GeneCall:
    t = scoring.tables(msa)
    every = scoring.patterns(ev, t)
    rows = np.arange(len(every))
    aside: list[SetAside] = []
    while True:
        p = every.subset(rows)
        call = calls.make_call(gene, model.select_pair(p, t), msa.names)
        pair = _pair_of(call, msa)
        m = np.asarray(scoring.mismatches_unknown(p, t, np.array(pair))[0])
        checked = support.check_pair(ev, rows, m, p.counts, msa, pair)
        foreign = [(k, s) for k, s in enumerate(checked) if s.foreign]
        if not foreign or pair[0] == pair[1] or len(aside) >= MAX_SET_ASIDE:
            break
        drop = np.zeros(len(rows), dtype=bool)
        for k, s in foreign:
            mine = m[:, k] < m[:, 1 - k]
            drop |= mine
            aside.append(SetAside(msa.names[s.allele], int(p.counts[mine].sum()), len(s.sites)))
        if p.counts[~drop].sum() < calls.MIN_PAIRS:
            break
        rows = rows[~drop]
    call.consensus = [c.to_dict() for c in consensus.consensus(ev, rows, m, p.counts, msa, pair)]
    call.depth = consensus.median_depth(ev, rows, p.counts, msa, pair[0])
    return _annotate(call, checked, aside, msa)


def _annotate(
    call: GeneCall, checked: list[support.Support], aside: list[SetAside], msa: GeneMSA
) -> GeneCall:
    notes = [call.note] if call.note else []
    call.support = []
    worst = flags.Flag(call.flag)
    for s in checked:
        name = msa.names[s.allele]
        shown = [
            f"{_position(msa, s.allele, a)}" + (f"-{_position(msa, s.allele, b)}" if b > a else "")
            for a, b in s.sites[: support.MAX_SITES_SHOWN]
        ]
        call.support.append(
            {
                "allele": name,
                "reads": int(s.reads),
                "exact": int(s.exact),
                "discordant_sites": shown,
                "foreign": s.foreign,
            }
        )
        if s.foreign:
            notes.append(
                f"reads of {names.two_field(name)} disagree with it at {len(s.sites)} sites: "
                "another sequence (a paralog, or an allele missing from the release)"
            )
            worst = flags.Flag.LOW_CONFIDENCE if worst is flags.Flag.OK else worst
        elif s.discordant:
            notes.append(
                f"reads disagree with {name} at CDS position {', '.join(shown)}: a possible novel "
                "polymorphism, or an allele missing from the release"
            )
            worst = flags.Flag.LOW_CONFIDENCE if worst is flags.Flag.OK else worst
    if aside:
        call.set_aside = sum(a.reads for a in aside)
        call.set_aside_as = [a.__dict__ for a in aside]
        notes.append(
            f"{call.set_aside} read pairs set aside as another sequence (best fit "
            + ", ".join(f"{names.two_field(a.allele)}, {a.sites} discordant sites" for a in aside)
            + ")"
        )
    call.flag = worst.value
    call.note = "; ".join(notes)
    return call
