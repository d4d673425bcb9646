"""A per-gene column model of every allele: a star alignment of each CDS onto the gene's
reference allele, with insertion columns, so that reads and alleles can be compared column
by column in one coordinate system.

Codes: 0-3 = A C G T, 4 = gap (the allele has no base here), 5 = unknown (the allele's
sequence does not cover this column: IMGT partial alleles, often exons 2-3 or exon 2 only).
"""

from __future__ import annotations

from dataclasses import dataclass

import mappy
import numpy as np

from .reference import Allele

GAP = 4
UNKNOWN = 5
BASE_CODE = np.full(256, UNKNOWN, dtype=np.uint8)
for _i, _b in enumerate("ACGT"):
    BASE_CODE[ord(_b)] = _i
    BASE_CODE[ord(_b.lower())] = _i

# A deletion this long in an allele's alignment is a region IMGT did not sequence (a missing
# exon in a partial allele), not a real deletion; real CDS indels between alleles are short.
LONG_DELETION = 24
COMPLETE_FRACTION = 0.95


def encode(seq: str) -> np.ndarray:
    return BASE_CODE[np.frombuffer(seq.encode("ascii"), dtype=np.uint8)]


@dataclass
class GeneMSA:
    gene: str
    names: list[str]
    codes: np.ndarray  # (n_alleles, n_cols) uint8
    complete: np.ndarray  # (n_alleles,) bool: covers at least COMPLETE_FRACTION of the reference CDS
    pos2col: dict[str, np.ndarray]  # allele name -> column of each of its bases (-1: not placed)
    reference: str  # the allele every other one was aligned to
    windows: np.ndarray  # (n, 2) column ranges [start, end) around indels, in canonical form
    imputed: np.ndarray  # (n_alleles, n_cols) bool: code borrowed from the nearest complete allele

    @property
    def n_cols(self) -> int:
        return int(self.codes.shape[1])

    def clean_complete(self) -> np.ndarray:
        """Alleles that are complete and carry no insertion relative to the reference allele:
        the safest representatives to align reads to."""
        ins_cols = self.codes[self.names.index(self.reference)] == GAP
        inserted = ((self.codes[:, ins_cols] != GAP) & (self.codes[:, ins_cols] != UNKNOWN)).any(axis=1)
        return self.complete & ~inserted


WINDOW_PAD = 8
COMMON_INDEL = 0.01


def indel_windows(codes: np.ndarray) -> np.ndarray:
    """Column ranges around common indels. The same sequence can be aligned with its gaps placed
    differently (left or right of a repeat, or traded against mismatches), so inside these
    windows rows are compared in a canonical form (see `canonical`). Indels carried by a few
    alleles only (mostly nulls) are compared column by column: a window around each would
    blank out too much of the reads' evidence."""
    known = (codes != UNKNOWN).sum(axis=0)
    gaps = (codes == GAP).sum(axis=0)
    frac = gaps / np.maximum(known, 1)
    gappy = (frac >= COMMON_INDEL) & (frac <= 1 - COMMON_INDEL)
    n = len(gappy)
    padded = np.zeros(n, dtype=bool)
    for c in np.flatnonzero(gappy):
        padded[max(0, c - WINDOW_PAD) : min(n, c + WINDOW_PAD + 1)] = True
    edges = np.diff(np.concatenate([[0], padded.astype(np.int8), [0]]))
    return np.stack([np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)], axis=1).astype(np.int64)


def canonical(row: np.ndarray, start: int, end: int) -> np.ndarray:
    """A window's bases packed to the left, gaps to the right; unknown if any column is."""
    seg = row[start:end]
    if (seg == UNKNOWN).any():
        return np.full(end - start, UNKNOWN, dtype=np.uint8)
    out = np.full(end - start, GAP, dtype=np.uint8)
    bases = seg[seg != GAP]
    out[: len(bases)] = bases
    return out


@dataclass
class _Placed:
    ref_codes: np.ndarray  # per reference position: code (UNKNOWN where not covered)
    inserts: dict[int, np.ndarray]  # reference position p -> codes inserted before p
    qpos_ref: np.ndarray  # per allele base: reference position, or -1
    qpos_ins: dict[int, tuple[int, int]]  # allele base -> (ref position p, slot within insert)


def _place(seq: str, ref_len: int, hits: list) -> _Placed:
    q = encode(seq)
    ref_codes = np.full(ref_len, UNKNOWN, dtype=np.uint8)
    qpos_ref = np.full(len(seq), -1, dtype=np.int32)
    inserts: dict[int, np.ndarray] = {}
    qpos_ins: dict[int, tuple[int, int]] = {}
    chain: list = []
    for h in sorted((h for h in hits if h.strand == 1), key=lambda h: -h.mlen):
        if all(h.q_en <= c.q_st or h.q_st >= c.q_en for c in chain) and all(
            h.r_en <= c.r_st or h.r_st >= c.r_en for c in chain
        ):
            chain.append(h)
    chain.sort(key=lambda h: h.q_st)

    def ungapped(q_from: int, r_from: int, n: int) -> None:
        for i in range(n):
            qi, ri = q_from + i, r_from + i
            if 0 <= ri < ref_len and 0 <= qi < len(seq):
                ref_codes[ri] = q[qi]
                qpos_ref[qi] = ri

    for k, h in enumerate(chain):
        qi, ri = h.q_st, h.r_st
        for length, op in h.cigar:
            if op in (0, 7, 8):
                ungapped(qi, ri, length)
                qi += length
                ri += length
            elif op == 1:
                inserts[ri] = q[qi : qi + length].copy()
                for j in range(length):
                    qpos_ins[qi + j] = (ri, j)
                qi += length
            elif op in (2, 3):
                if length < LONG_DELETION:
                    ref_codes[ri : ri + length] = GAP
                ri += length
        # Alignment ends are soft-clipped where alleles differ densely; extend them along the
        # diagonal so the polymorphic ends are not lost (allele-vs-allele indels are rare).
        if k == 0 and h.q_st > 0:
            ungapped(0, h.r_st - h.q_st, h.q_st)
        if k == len(chain) - 1 and h.q_en < len(seq):
            ungapped(h.q_en, h.r_en, len(seq) - h.q_en)
        if k + 1 < len(chain):
            nxt = chain[k + 1]
            if nxt.q_st - h.q_en == nxt.r_st - h.r_en and nxt.q_st > h.q_en:
                ungapped(h.q_en, h.r_en, nxt.q_st - h.q_en)
    return _Placed(ref_codes, inserts, qpos_ref, qpos_ins)


def build(gene: str, alleles: list[Allele]) -> GeneMSA:
    """Star-align every allele CDS of one gene onto its reference allele (the first complete one)."""
    max_len = max(len(a.seq) for a in alleles)
    ref = next(a for a in alleles if len(a.seq) >= 0.9 * max_len)
    ref_len = len(ref.seq)
    aligner = mappy.Aligner(seq=ref.seq, preset="sr", k=11, w=3, best_n=8)
    placed: list[_Placed] = []
    for a in alleles:
        if a.name == ref.name:
            hits = [_Self(ref_len)]
        else:
            hits = list(aligner.map(a.seq))
        placed.append(_place(a.seq, ref_len, hits))

    ins_max = np.zeros(ref_len + 1, dtype=np.int32)
    for p in placed:
        for pos, ins in p.inserts.items():
            ins_max[pos] = max(ins_max[pos], len(ins))
    # column of reference position p, and of the first insertion slot before p
    ins_start = np.zeros(ref_len + 1, dtype=np.int64)
    ref_col = np.zeros(ref_len, dtype=np.int64)
    col = 0
    for pos in range(ref_len + 1):
        ins_start[pos] = col
        col += ins_max[pos]
        if pos < ref_len:
            ref_col[pos] = col
            col += 1
    n_cols = col

    codes = np.full((len(alleles), n_cols), UNKNOWN, dtype=np.uint8)
    complete = np.zeros(len(alleles), dtype=bool)
    pos2col: dict[str, np.ndarray] = {}
    slots = np.flatnonzero(ins_max)
    for i, (a, p) in enumerate(zip(alleles, placed, strict=True)):
        codes[i, ref_col] = p.ref_codes
        known = p.ref_codes != UNKNOWN
        complete[i] = known.mean() >= COMPLETE_FRACTION
        for slot in slots:
            left = known[slot - 1] if slot > 0 else known[0]
            right = known[slot] if slot < ref_len else known[-1]
            if left and right:
                inserted = p.inserts.get(int(slot))
                row = np.full(ins_max[slot], GAP, dtype=np.uint8)
                if inserted is not None:
                    row[: len(inserted)] = inserted
                codes[i, ins_start[slot] : ins_start[slot] + ins_max[slot]] = row
        q2c = np.where(p.qpos_ref >= 0, ref_col[np.maximum(p.qpos_ref, 0)], -1)
        for qi, (pos, j) in p.qpos_ins.items():
            q2c[qi] = ins_start[pos] + j
        pos2col[a.name] = q2c.astype(np.int32)
    windows = indel_windows(codes)
    for s_, e_ in windows:
        for i in range(len(alleles)):
            codes[i, s_:e_] = canonical(codes[i], s_, e_)
    imputed = impute(codes, complete)
    return GeneMSA(gene, [a.name for a in alleles], codes, complete, pos2col, ref.name, windows, imputed)


def _one_hot(rows: np.ndarray) -> np.ndarray:
    out = np.zeros((rows.shape[0], rows.shape[1], GAP + 1), dtype=np.float32)
    for v in range(GAP + 1):
        out[:, :, v] = rows == v
    return out.reshape(rows.shape[0], -1)


def impute(codes: np.ndarray, complete: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Fill the columns a partial allele does not cover with those of its nearest complete allele
    (fewest differences where the partial allele is known), in place; returns the filled mask.

    Without this, a partial allele could not be contradicted by reads outside its known exons,
    and reads with errors there would favour it over every complete allele."""
    imputed = np.zeros(codes.shape, dtype=bool)
    full = np.flatnonzero(complete)
    partial = np.flatnonzero(~complete | (codes == UNKNOWN).any(axis=1))
    if len(full) == 0 or len(partial) == 0:
        return imputed
    full_hot = _one_hot(codes[full])
    for start in range(0, len(partial), chunk):
        rows = partial[start : start + chunk]
        matches = _one_hot(codes[rows]) @ full_hot.T  # (rows, full)
        matches[np.isin(rows, full)[:, None] & (full[None, :] == rows[:, None])] = -1  # not itself
        nearest = full[np.argmax(matches, axis=1)]
        for r, src in zip(rows, nearest, strict=True):
            fill = (codes[r] == UNKNOWN) & (codes[src] != UNKNOWN)
            codes[r, fill] = codes[src, fill]
            imputed[r] = fill
    return imputed


class _Self:
    """The reference allele's trivial alignment onto itself."""

    strand = 1
    q_st = 0
    r_st = 0

    def __init__(self, n: int):
        self.q_en = self.r_en = self.mlen = n
        self.cigar = [[n, 0]]
