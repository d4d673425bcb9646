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


FULL_CELLS = 25_000_000  # up to this many patterns x alleles, all read likelihoods stay in memory


class ReadScores:
    """Read-vs-allele scores over all alleles of a gene, in memory when small enough and
    otherwise recomputed chunk by chunk (memory stays bounded for deep samples)."""

    def __init__(self, p: Patterns, t: GeneTables):
        self.p, self.t = p, t
        self._full = None
        if len(p) * t.n_alleles <= FULL_CELLS:
            # filled block by block so that only one block's temporaries exist at a time
            n, a = len(p), t.n_alleles
            full: tuple[np.ndarray, ...] = (
                np.empty((n, a), np.float32),
                np.empty((n, a), np.int16),
                np.empty((n, a), bool),
            )
            for rows in self._blocks():
                for dst, src in zip(full, self._compute(p.subset(rows)), strict=True):
                    dst[rows] = src
            self._full = full

    def _blocks(self):
        step = max(1, CELLS_PER_CHUNK // max(self.t.n_alleles, 1))
        for start in range(0, len(self.p), step):
            yield np.arange(start, min(len(self.p), start + step))

    @staticmethod
    def _score(m: np.ndarray, u: np.ndarray, span: np.ndarray):
        L = (-MISMATCH * m - UNKNOWN_PENALTY * u).astype(np.float32)
        return L, m.astype(np.int16), u < span[:, None]

    def _compute(self, sub: Patterns):
        m, u = mismatches_unknown(sub, self.t)
        return self._score(m, u, sub.span)

    def chunks(self):
        """Yield (counts, L, mismatches, covered) for blocks of patterns."""
        if self._full is not None:
            yield (self.p.counts, *self._full)
            return
        for rows in self._blocks():
            sub = self.p.subset(rows)
            yield (sub.counts, *self._compute(sub))

    def columns(self, alleles: np.ndarray) -> np.ndarray:
        if self._full is not None:
            return self._full[0][:, alleles].astype(np.float64)
        return loglik(self.p, self.t, alleles)


def rank_alleles(scores: ReadScores) -> dict[str, np.ndarray]:
    """Per-allele summaries over all reads: homozygous LL, reads best explained, coverage."""
    n = scores.t.n_alleles
    single, hits, covered = np.zeros(n), np.zeros(n), np.zeros(n)
    for w, L, m, cov in scores.chunks():
        single += w @ L
        m_cov = np.where(cov, m, np.iinfo(np.int16).max)
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


def pair_table(scores: ReadScores, candidates: np.ndarray) -> PairTable:
    L = scores.columns(candidates)
    w = scores.p.counts
    c = len(candidates)
    ll = np.empty((c, c))
    for i in range(c):
        ll[i] = w @ (np.logaddexp(L[:, [i]], L) + LOG_HALF)
        ll[i, i] = w @ L[:, i]
    return PairTable(candidates, ll, L, w)


def best_partners(scores: ReadScores, allele: int) -> np.ndarray:
    """LL(allele, x) for every allele x of the gene."""
    out = np.zeros(scores.t.n_alleles)
    single = 0.0
    for w, L, _, _ in scores.chunks():
        out += w @ (np.logaddexp(L[:, [allele]], L) + np.float32(LOG_HALF))
        single += w @ L[:, allele]
    out[allele] = single  # a homozygote's LL has no mixing term
    return out


def select_pair(p: Patterns, t: GeneTables) -> PairTable:
    scores = ReadScores(p, t)
    candidates = initial_candidates(rank_alleles(scores))
    table = pair_table(scores, candidates)
    for _ in range(MAX_ROUNDS):
        i, j = table.best()
        best_ll = table.ll[i, j]
        extra: list[int] = []
        for member in {int(table.candidates[i]), int(table.candidates[j])}:
            partners = best_partners(scores, member)
            better = np.flatnonzero(partners > best_ll + 1e-6)
            top = better[np.argsort(-partners[better], kind="stable")][:TOP_K]
            extra.extend(x for x in top if x not in set(table.candidates.tolist()))
        if not extra:
            break
        table = pair_table(scores, np.unique(np.concatenate([table.candidates, np.array(extra)])))
    return table
