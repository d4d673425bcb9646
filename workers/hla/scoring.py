"""Read-vs-allele log-likelihoods from column evidence, for every allele of a gene at once.

For a read pair r and allele a over the columns the pair covers:
  m = columns where the allele's base is known and differs from the read's (mismatches),
  u = columns the allele's own sequence does not cover (IMGT partial alleles; their other
      columns are imputed from the nearest complete allele, see msa.impute),
  log P(r | a) = -m * MISMATCH - u * UNKNOWN_PENALTY   (up to a per-read constant).
MISMATCH is log((1 - e) / e) for a per-base error e. The small UNKNOWN_PENALTY breaks ties
towards alleles whose sequence is known where the read lies, yet lets a partial allele that
fits the reads better where it is known win over a complete allele that does not.

Mismatch counts are sparse products: per column, most alleles share the majority base, so a
read base equal to the majority mismatches only the few minority alleles, and a read base off
the majority mismatches all known alleles except those sharing it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .mapping import GeneEvidence
from .msa import UNKNOWN, GeneMSA

ERROR_RATE = 0.01
MISMATCH = math.log((1 - ERROR_RATE) / ERROR_RATE)
UNKNOWN_PENALTY = 0.02
NCODE = 5  # A C G T gap


@dataclass
class GeneTables:
    """Sparse per-column allele tables of one gene's MSA (built once per gene and sample)."""

    n_alleles: int
    n_cols: int
    majority: np.ndarray  # (n_cols,) majority code among known alleles (UNKNOWN if none)
    minor: sparse.csr_matrix  # (n_cols, n_alleles): known and not the majority code
    known: np.ndarray  # (n_cols, n_alleles) float32: allele covers the column (dense: imputation fills most)
    equal: sparse.csr_matrix  # (n_cols*5, n_alleles): allele has code v (v not the majority)
    known_cum: np.ndarray  # (n_alleles, n_cols+1) prefix sums of columns with the allele's own base


def tables(m: GeneMSA) -> GeneTables:
    codes = m.codes
    n_alleles, n_cols = codes.shape
    counts = np.stack([(codes == v).sum(axis=0) for v in range(NCODE)])  # (5, n_cols)
    majority = counts.argmax(axis=0).astype(np.uint8)
    majority[counts.max(axis=0) == 0] = UNKNOWN
    known_mask = codes != UNKNOWN
    minor_mask = known_mask & (codes != majority[None, :])
    a_idx, c_idx = np.nonzero(minor_mask)
    ones = np.ones(len(a_idx), dtype=np.float32)
    minor = sparse.csr_matrix((ones, (c_idx, a_idx)), shape=(n_cols, n_alleles))
    equal = sparse.csr_matrix(
        (ones, (c_idx.astype(np.int64) * NCODE + codes[a_idx, c_idx], a_idx)),
        shape=(n_cols * NCODE, n_alleles),
    )
    ka, kc = np.nonzero(known_mask)
    known = sparse.csr_matrix((np.ones(len(ka), dtype=np.float32), (kc, ka)), shape=(n_cols, n_alleles))
    known_cum = np.zeros((n_alleles, n_cols + 1), dtype=np.int32)
    np.cumsum(known_mask & ~m.imputed, axis=1, out=known_cum[:, 1:])
    return GeneTables(n_alleles, n_cols, majority, minor, known, equal, known_cum)


@dataclass
class Patterns:
    """The distinct read-pair patterns of one gene as sparse indicator matrices."""

    counts: np.ndarray  # (n,) pairs per pattern
    on_major: sparse.csr_matrix  # (n, n_cols): read base equals the column majority
    off_major: sparse.csr_matrix  # (n, n_cols): read base differs from the majority
    off_code: sparse.csr_matrix  # (n, n_cols*5): the off-majority code at each column
    run_start: np.ndarray  # (n, R) covered runs of columns [start, end); empty runs are (0, 0)
    run_end: np.ndarray
    span: np.ndarray  # (n,) covered columns

    def __len__(self) -> int:
        return len(self.counts)

    def subset(self, rows: np.ndarray) -> Patterns:
        return Patterns(
            self.counts[rows],
            self.on_major[rows],
            self.off_major[rows],
            self.off_code[rows],
            self.run_start[rows],
            self.run_end[rows],
            self.span[rows],
        )


def patterns(ev: GeneEvidence, t: GeneTables) -> Patterns:
    n = len(ev.counts)
    maj_r, maj_c, off_r, off_c, off_v = [], [], [], [], []
    runs: list[list[tuple[int, int]]] = []
    for i, (cols, codes) in enumerate(zip(ev.cols, ev.codes, strict=True)):
        called = codes != UNKNOWN
        c, v = cols[called], codes[called]
        on = v == t.majority[c]
        maj_c.append(c[on])
        maj_r.append(np.full(int(on.sum()), i))
        off_c.append(c[~on])
        off_v.append(v[~on])
        off_r.append(np.full(int((~on).sum()), i))
        breaks = np.flatnonzero(np.diff(cols) != 1)
        starts = np.concatenate([[0], breaks + 1])
        ends = np.concatenate([breaks + 1, [len(cols)]])
        runs.append([(int(cols[s]), int(cols[e - 1]) + 1) for s, e in zip(starts, ends, strict=True)])
    width = max((len(r) for r in runs), default=1)
    run_start = np.zeros((n, width), dtype=np.int64)
    run_end = np.zeros((n, width), dtype=np.int64)
    for i, rr in enumerate(runs):
        for j, (s, e) in enumerate(rr):
            run_start[i, j], run_end[i, j] = s, e

    def indicator(rows, cols, shape):
        rows = np.concatenate(rows) if rows else np.zeros(0, int)
        cols = np.concatenate(cols) if cols else np.zeros(0, int)
        return sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=shape)

    off_cols = [c.astype(np.int64) * NCODE + v for c, v in zip(off_c, off_v, strict=True)]
    return Patterns(
        counts=np.asarray(ev.counts, dtype=np.float64),
        on_major=indicator(maj_r, maj_c, (n, t.n_cols)),
        off_major=indicator(off_r, off_c, (n, t.n_cols)),
        off_code=indicator(off_r, off_cols, (n, t.n_cols * NCODE)),
        run_start=run_start,
        run_end=run_end,
        span=(run_end - run_start).sum(axis=1),
    )


def mismatches_unknown(p: Patterns, t: GeneTables, alleles: np.ndarray | None = None):
    """(m, u): mismatch and uncovered column counts, shape (patterns, alleles)."""
    minor, known, equal, cum = t.minor, t.known, t.equal, t.known_cum
    if alleles is not None:
        minor, known, equal, cum = minor[:, alleles], known[:, alleles], equal[:, alleles], cum[alleles]
    m = (p.on_major @ minor).toarray()
    m += p.off_major @ known
    m -= (p.off_code @ equal).toarray()
    u = np.broadcast_to(p.span[:, None].astype(np.int32), (len(p), cum.shape[0])).copy()
    for j in range(p.run_start.shape[1]):
        u -= (cum[:, p.run_end[:, j]] - cum[:, p.run_start[:, j]]).T
    return m, u


def loglik(p: Patterns, t: GeneTables, alleles: np.ndarray | None = None) -> np.ndarray:
    m, u = mismatches_unknown(p, t, alleles)
    return -MISMATCH * m - UNKNOWN_PENALTY * u
