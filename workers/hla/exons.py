"""Where an allele's coding sequence lies in its genomic sequence (exon placement), so that
DNA reads aligned to a genomic allele reach MSA columns through every exon, short ones too."""

from __future__ import annotations

import mappy
import numpy as np

MIN_TERMINAL = 15  # shorter terminal exon pieces are left out: a short exact search finds decoys in introns
TERMINAL_ZONE = 12  # a mismatch this close to a CDS end means a tiny exon was aligned into an intron


def _aligned(gen: str, cds: str, out: np.ndarray, h) -> list[int]:
    """Fill `out` from a spliced alignment; returns CDS positions not aligned to an equal base."""
    mismatched = []
    g, c = h.r_st, h.q_st
    for length, op in h.cigar:
        if op in (0, 7, 8):
            for k in range(length):
                if gen[g + k] == cds[c + k]:
                    out[g + k] = c + k
                else:
                    mismatched.append(c + k)
            g += length
            c += length
        elif op == 1:
            mismatched.extend(range(c, c + length))
            c += length
        elif op in (2, 3):
            g += length
    return mismatched


def cds_positions(gen: str, cds: str) -> np.ndarray:
    """For each genomic base, its position in the CDS (-1 in introns and UTRs)."""
    out = np.full(len(gen), -1, dtype=np.int32)
    aligner = mappy.Aligner(seq=gen, preset="splice", k=11, w=3)
    hits = [h for h in aligner.map(cds) if h.strand == 1 and h.is_primary]
    if not hits:
        return out
    h = hits[0]
    mismatched = _aligned(gen, cds, out, h)
    q_st, q_en = h.q_st, h.q_en
    # A terminal exon shorter than a seed is either soft-clipped or aligned (with a mismatch)
    # into the neighbouring intron: undo such an end and place it by exact search next to a
    # splice site (acceptor AG before the last exon, donor GT after the first).
    tail_cut = [c for c in mismatched if c >= len(cds) - TERMINAL_ZONE]
    if tail_cut:
        q_en = min(tail_cut)
        out[out >= q_en] = -1
    head_cut = [c for c in mismatched if c < TERMINAL_ZONE]
    if head_cut:
        q_st = max(head_cut) + 1
        out[(out >= 0) & (out < q_st)] = -1
    placed = np.flatnonzero(out >= 0)
    if len(placed) == 0:
        return out
    if len(cds) - q_en >= MIN_TERMINAL:
        tail = cds[q_en:]
        pos = gen.find("AG" + tail, int(placed[-1]) + 1)
        if pos >= 0:
            out[pos + 2 : pos + 2 + len(tail)] = np.arange(q_en, len(cds))
    if q_st >= MIN_TERMINAL:
        head = cds[:q_st]
        pos = gen.rfind(head + "GT", 0, int(placed[0]))
        if pos >= 0:
            out[pos : pos + len(head)] = np.arange(0, q_st)
    return out
