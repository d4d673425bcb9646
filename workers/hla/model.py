"""Choose the allele pair of one gene that best explains its reads.

Genotype likelihood (reads independent; each read from either allele with probability 1/2):
  LL(a, b) = sum_r n_r * log(P(r|a)/2 + P(r|b)/2),   LL(a, a) = sum_r n_r * log P(r|a).
A homozygote needs no special case: a second allele only raises LL where it explains reads
better than the first, so (a, a) wins unless reads call for another allele.

All pairs of thousands of alleles are too many, so the search is: (1) score every allele
alone and by the reads it explains best; (2) evaluate all pairs among the leading
candidates; (3) for the best pair, try every allele of the gene as the partner of each
member (coordinate ascent over the whole gene) until nothing improves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .scoring import MISMATCH, UNKNOWN_PENALTY, GeneTables, Patterns, loglik, mismatches_unknown

LOG_HALF = math.log(0.5)
TOP_K = 40  # candidates per ranking
CELLS_PER_CHUNK = 4_000_000  # patterns x alleles evaluated at once (bounds memory)
MAX_ROUNDS = 4


@dataclass
class PairTable:
    candidates: np.ndarray  # allele indices into the gene MSA
    ll: np.ndarray  # (c, c) symmetric pair log-likelihoods
    L: np.ndarray  # (patterns, c) read log-likelihoods under each candidate
    counts: np.ndarray  # (patterns,)

    def best(self) -> tuple[int, int]:
        i, j = np.unravel_index(int(np.argmax(self.ll)), self.ll.shape)
        return int(min(i, j)), int(max(i, j))


def _chunks(n_rows: int, n_cols: int):
    step = max(1, CELLS_PER_CHUNK // max(n_cols, 1))
    for start in range(0, n_rows, step):
        yield np.arange(start, min(n_rows, start + step))


def rank_alleles(p: Patterns, t: GeneTables) -> dict[str, np.ndarray]:
    """Per-allele summaries over all reads: homozygous LL, reads best explained, coverage."""
    single = np.zeros(t.n_alleles)
    hits = np.zeros(t.n_alleles)
    covered = np.zeros(t.n_alleles)
    for rows in _chunks(len(p), t.n_alleles):
        sub = p.subset(rows)
        m, u = mismatches_unknown(sub, t)
        w = sub.counts
        single += w @ (-MISMATCH * m - UNKNOWN_PENALTY * u)
        cov = u < sub.span[:, None]
        m_cov = np.where(cov, m, np.iinfo(np.int64).max)
        best = m_cov.min(axis=1)
        hits += w @ ((m_cov == best[:, None]) & cov)
        covered += w @ cov
    return {"single": single, "hits": hits, "covered": covered}


def initial_candidates(summary: dict[str, np.ndarray], k: int = TOP_K) -> np.ndarray:
    single, hits, covered = summary["single"], summary["hits"], summary["covered"]
    frac = np.where(covered >= 0.2 * covered.max(), hits / np.maximum(covered, 1), -1.0)
    picks = [np.argsort(-single, kind="stable")[:k], np.argsort(-hits, kind="stable")[:k]]
    picks.append(np.argsort(-frac, kind="stable")[:k])
    return np.unique(np.concatenate(picks))


def pair_table(p: Patterns, t: GeneTables, candidates: np.ndarray) -> PairTable:
    L = loglik(p, t, candidates)
    w = p.counts
    c = len(candidates)
    ll = np.empty((c, c))
    for i in range(c):
        ll[i] = w @ (np.logaddexp(L[:, [i]], L) + LOG_HALF)
        ll[i, i] = w @ L[:, i]
    return PairTable(candidates, ll, L, w)


def best_partners(p: Patterns, t: GeneTables, allele: int) -> np.ndarray:
    """LL(allele, x) for every allele x of the gene."""
    out = np.zeros(t.n_alleles)
    for rows in _chunks(len(p), t.n_alleles):
        sub = p.subset(rows)
        L = loglik(sub, t)
        out += sub.counts @ (np.logaddexp(L[:, [allele]], L) + LOG_HALF)
    # a homozygote's LL has no mixing term
    out[allele] = p.counts @ loglik(p, t, np.array([allele]))[:, 0]
    return out


def select_pair(p: Patterns, t: GeneTables) -> PairTable:
    candidates = initial_candidates(rank_alleles(p, t))
    table = pair_table(p, t, candidates)
    for _ in range(MAX_ROUNDS):
        i, j = table.best()
        best_ll = table.ll[i, j]
        extra = []
        for member in {int(table.candidates[i]), int(table.candidates[j])}:
            partners = best_partners(p, t, member)
            better = np.flatnonzero(partners > best_ll + 1e-9)
            top = better[np.argsort(-partners[better], kind="stable")][:TOP_K]
            extra.extend(x for x in top if x not in set(table.candidates.tolist()))
        if not extra:
            break
        table = pair_table(p, t, np.unique(np.concatenate([table.candidates, np.array(extra)])))
    return table
