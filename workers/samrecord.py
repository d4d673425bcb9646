"""SAM text for a read pair from minimap2 (mappy) hits.

mappy returns hits only; the flags, mate fields, template length, soft clips and the tags
callers and duplicate marking need (NM, MD, MC, ms, RG) are filled in here, following what the
minimap2 command line writes for `-ax sr`. Text is cheaper to produce in Python than pysam
records, and samtools turns it into BAM in another process.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mappy
import numpy as np

# minimap2's default maximum fragment length for the sr preset (-F 800); longer pairs are not proper.
MAX_FRAG_LEN = 800
# samtools fixmate's mate score counts only base qualities >= 15; map lower ones to Q0.
_MS_TABLE = bytes((c if c - 33 >= 15 else 33) for c in range(256))


def mate_score(qual: str) -> int:
    """samtools fixmate -m's `ms` score: sum of base qualities of at least 15."""
    q = qual.encode("ascii").translate(_MS_TABLE)
    return sum(q) - 33 * len(q)


def mate_scores(quals: list[str]) -> list[int]:
    """`mate_score` of many reads at once (numpy over the joined qualities of a chunk)."""
    if not quals:
        return []
    lens = np.fromiter(map(len, quals), dtype=np.int64, count=len(quals))
    q = np.frombuffer("".join(quals).encode("ascii"), dtype=np.uint8).astype(np.int64) - 33
    q[q < 15] = 0
    sums = (
        np.add.reduceat(q, np.concatenate(([0], np.cumsum(lens)[:-1])))
        if len(q)
        else np.zeros(len(lens), dtype=np.int64)
    )
    sums[lens == 0] = 0  # reduceat yields the next element, not 0, for an empty read
    return [int(s) for s in sums]


def strip_mate_suffix(name: str) -> str:
    if len(name) > 2 and name[-2] == "/" and name[-1] in "12":
        return name[:-2]
    return name


@dataclass
class PairStats:
    pairs: int = 0
    mapped: int = 0  # reads with a primary alignment
    proper: int = 0  # reads flagged properly paired
    supplementary: int = 0
    mapq0: int = 0
    inserts: list[int] = field(default_factory=list)

    def merge(self, other: PairStats) -> None:
        self.pairs += other.pairs
        self.mapped += other.mapped
        self.proper += other.proper
        self.supplementary += other.supplementary
        self.mapq0 += other.mapq0
        self.inserts.extend(other.inserts)


# A hit as mapping processes send it back: plain tuples pickle and unpack far faster than objects.
# (read_num, ctg, r_st, r_en, strand, q_st, q_en, mapq, cigar_str, NM, MD)
Hit = tuple


def hit_tuples(hits) -> list[Hit]:
    """Primary (and supplementary) hits of one pair; secondary ones are dropped, as `-ax sr` does."""
    return [
        (h.read_num, h.ctg, h.r_st, h.r_en, h.strand, h.q_st, h.q_en, h.mapq, h.cigar_str, h.NM, h.MD)
        for h in hits
        if h.is_primary
    ]


def _cigar(h: Hit, length: int) -> str:
    # mappy reports read 2's query coordinates on its reverse complement (minimap2 flips read 2
    # for FR pairing and mappy does not flip them back), so its clips swap sides.
    if (h[4] > 0) == (h[0] == 1):
        left, right = h[5], length - h[6]
    else:
        left, right = length - h[6], h[5]
    return (f"{left}S" if left else "") + h[8] + (f"{right}S" if right else "")


def _line(name, flag, h, cigar, m, m_cigar, tlen, seq, qual, tail) -> str:
    if h is not None:
        if h[4] < 0:
            seq, qual = mappy.revcomp(seq), qual[::-1]
        ctg, pos, mapq, tags = h[1], h[2] + 1, h[7], f"NM:i:{h[9]}\tMD:Z:{h[10]}\t{tail}"
    elif m is not None:  # unmapped read placed at its mate, as the SAM spec recommends
        ctg, pos, mapq, cigar, tags = m[1], m[2] + 1, 0, "*", tail
    else:
        ctg, pos, mapq, cigar, tags = "*", 0, 0, "*", tail
    if m is not None:
        rnext, pnext = ("=" if m[1] == ctg else m[1]), m[2] + 1
        tags += "\tMC:Z:" + m_cigar
    elif h is not None:
        rnext, pnext = "=", pos
    else:
        rnext, pnext = "*", 0
    return f"{name}\t{flag}\t{ctg}\t{pos}\t{mapq}\t{cigar}\t{rnext}\t{pnext}\t{tlen}\t{seq}\t{qual}\t{tags}\n"


def pair_to_sam(
    name: str,
    seqs: tuple[str, str],
    quals: tuple[str, str],
    hits: list[Hit],
    rg_tag: str,
    stats: PairStats,
    max_frag_len: int = MAX_FRAG_LEN,
    scores: tuple[int, int] | None = None,
) -> str:
    """SAM lines (primary, then supplementary) for one pair; updates `stats`.

    `scores` are the reads' own `mate_score`s when the caller computed them in bulk.
    """
    p1 = p2 = None
    supp = None
    for h in hits:
        if h[0] == 1 and p1 is None:
            p1 = h
        elif h[0] == 2 and p2 is None:
            p2 = h
        else:
            supp = [*(supp or []), h]
    s1, s2 = seqs
    q1, q2 = quals
    c1 = _cigar(p1, len(s1)) if p1 is not None else "*"
    c2 = _cigar(p2, len(s2)) if p2 is not None else "*"
    t1 = t2 = 0
    f1, f2 = 0x41, 0x81
    stats.pairs += 1
    if p1 is not None:
        stats.mapped += 1
        stats.mapq0 += p1[7] == 0
        if p1[4] < 0:
            f1 |= 0x10
            f2 |= 0x20
    else:
        f1 |= 0x4
        f2 |= 0x8
    if p2 is not None:
        stats.mapped += 1
        stats.mapq0 += p2[7] == 0
        if p2[4] < 0:
            f2 |= 0x10
            f1 |= 0x20
    else:
        f2 |= 0x4
        f1 |= 0x8
    if p1 is not None and p2 is not None and p1[1] == p2[1]:
        left = p1[2] if p1[2] < p2[2] else p2[2]
        span = (p1[3] if p1[3] > p2[3] else p2[3]) - left
        t1, t2 = (span, -span) if p1[2] <= p2[2] else (-span, span)
        if p1[4] != p2[4] and span <= max_frag_len:
            fwd, rev = (p1, p2) if p1[4] > 0 else (p2, p1)
            if fwd[2] <= rev[3]:
                f1 |= 0x2
                f2 |= 0x2
                stats.proper += 2
                stats.inserts.append(span)
    # Each read carries its mate's score (what samtools fixmate -m adds for markdup).
    ms2, ms1 = scores if scores is not None else (mate_score(q1), mate_score(q2))
    text = _line(name, f1, p1, c1, p2, c2, t1, s1, q1, f"ms:i:{ms1}\t{rg_tag}") + _line(
        name, f2, p2, c2, p1, c1, t2, s2, q2, f"ms:i:{ms2}\t{rg_tag}"
    )
    if supp:
        for h in supp:
            first = h[0] == 1
            m, mc = (p2, c2) if first else (p1, c1)
            flag = 0x801 | (0x40 if first else 0x80) | (0x10 if h[4] < 0 else 0)
            flag |= 0x8 if m is None else (0x20 if m[4] < 0 else 0)
            seq, qual = (s1, q1) if first else (s2, q2)
            tail = f"ms:i:{ms1 if first else ms2}\t{rg_tag}"
            stats.supplementary += 1
            text += _line(name, flag, h, _cigar(h, len(seq)), m, mc, 0, seq, qual, tail)
    return text
