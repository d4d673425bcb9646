"""Reads -> (gene, MSA columns): assign each read pair to one gene (classical or decoy) by its
best alignment, then project its bases onto that gene's MSA columns through the closest CDS
representative. The column evidence of identical pairs is counted once with a weight.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import mappy
import numpy as np

from .index import TypingIndex, seq_gene
from .msa import BASE_CODE, GAP, UNKNOWN, GeneMSA, canonical

MIN_ALIGNED = 30  # bases: shorter local hits are too easy to place by chance
MAX_DIVERGENCE = 0.08  # edits per aligned base: beyond this the read is from elsewhere
CLIP_TRIM = 5  # aligned bases dropped next to a soft clip (intron/UTR junctions align by chance)
CACHE_LIMIT = 2_000_000  # distinct pairs remembered for duplicate reads (bounds memory)


@dataclass
class GeneEvidence:
    """Distinct column patterns of the read pairs assigned to one gene, with their counts."""

    gene: str
    keys: dict[bytes, int] = field(default_factory=dict)
    cols: list[np.ndarray] = field(default_factory=list)
    codes: list[np.ndarray] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)

    def add(self, cols: np.ndarray, codes: np.ndarray, count: int) -> None:
        key = cols.tobytes() + b"|" + codes.tobytes()
        i = self.keys.get(key)
        if i is None:
            self.keys[key] = len(self.counts)
            self.cols.append(cols)
            self.codes.append(codes)
            self.counts.append(count)
        else:
            self.counts[i] += count

    @property
    def n_pairs(self) -> int:
        return int(sum(self.counts))


@dataclass
class MappingStats:
    pairs: int = 0
    distinct_pairs: int = 0
    assigned: Counter = field(default_factory=Counter)  # gene -> pairs whose best hit is that gene
    informative: Counter = field(default_factory=Counter)  # gene -> pairs with CDS column evidence
    unmapped: int = 0
    ambiguous_gene: int = 0


def _score(hit) -> int:
    return hit.mlen - 4 * hit.NM


def _good(hit) -> bool:
    aligned = hit.q_en - hit.q_st
    return aligned >= MIN_ALIGNED and MAX_DIVERGENCE * max(hit.blen, 1) >= hit.NM


def _best_hits(aligner: mappy.Aligner, buf, seq: str) -> dict[str, tuple[int, object]]:
    """gene -> (score, hit) of the best acceptable hit of each gene."""
    best: dict[str, tuple[int, object]] = {}
    for hit in aligner.map(seq, buf=buf):
        if _good(hit):
            g = seq_gene(hit.ctg)
            s = _score(hit)
            if g not in best or s > best[g][0]:
                best[g] = (s, hit)
    return best


def project_hit(hit, seq: str, pos2col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Columns and codes of one read aligned to a representative whose bases sit at `pos2col`."""
    n = len(seq)
    if hit.strand < 0:
        seq = mappy.revcomp(seq)
        qs, qe = n - hit.q_en, n - hit.q_st
    else:
        qs, qe = hit.q_st, hit.q_en
    q = BASE_CODE[np.frombuffer(seq.encode("ascii"), dtype=np.uint8)]
    r, qi = hit.r_st, qs
    rpos: list[np.ndarray] = []
    rcode: list[np.ndarray] = []
    inserted: dict[int, np.ndarray] = {}
    for length, op in hit.cigar:
        if op in (0, 7, 8):
            rpos.append(np.arange(r, r + length))
            rcode.append(q[qi : qi + length])
            r += length
            qi += length
        elif op == 1:
            inserted[r] = q[qi : qi + length]
            qi += length
        elif op in (2, 3):
            rpos.append(np.arange(r, r + length))
            rcode.append(np.full(length, GAP, dtype=np.uint8))
            r += length
    pos = np.concatenate(rpos)
    code = np.concatenate(rcode)
    lo = CLIP_TRIM if qs > 0 else 0
    hi = len(pos) - (CLIP_TRIM if qe < n else 0)
    pos, code = pos[lo:hi], code[lo:hi]
    cols = pos2col[pos]
    keep = cols >= 0
    cols, code, pos = cols[keep], code[keep], pos[keep]
    if len(cols) > 1:
        jumps = np.flatnonzero(np.diff(cols) > 1)
        if len(jumps):
            # MSA insertion columns between two representative bases: the read has a gap there,
            # unless it carries inserted bases at that point.
            parts_c, parts_v, start = [], [], 0
            for j in jumps:
                parts_c.append(cols[start : j + 1])
                parts_v.append(code[start : j + 1])
                between = np.arange(cols[j] + 1, cols[j + 1], dtype=cols.dtype)
                fill = np.full(len(between), GAP, dtype=np.uint8)
                ins = inserted.get(int(pos[j + 1]))
                if ins is not None:
                    k = min(len(ins), len(fill))
                    fill[:k] = ins[:k]
                parts_c.append(between)
                parts_v.append(fill)
                start = int(j) + 1
            parts_c.append(cols[start:])
            parts_v.append(code[start:])
            cols, code = np.concatenate(parts_c), np.concatenate(parts_v)
    return cols.astype(np.int32), code.astype(np.uint8)


def canonicalize(cols: np.ndarray, codes: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """Put a read's indel windows in the MSA's canonical form; a window the read covers only
    in part is left uncalled (its gap placement cannot be compared)."""
    if len(cols) == 0 or len(windows) == 0:
        return codes
    lo = np.searchsorted(windows[:, 1], cols[0], side="right")
    hi = np.searchsorted(windows[:, 0], cols[-1], side="right")
    if lo >= hi:
        return codes
    codes = codes.copy()
    for s, e in windows[lo:hi]:
        i, j = np.searchsorted(cols, s), np.searchsorted(cols, e)
        if j - i == e - s:
            # the read covers every column of the window (its columns are contiguous there)
            dense = np.full(e, UNKNOWN, dtype=np.uint8)
            dense[s:e] = codes[i:j]
            codes[i:j] = canonical(dense, s, e)
        else:
            codes[i:j] = UNKNOWN
    return codes


def merge_mates(c1, v1, c2, v2) -> tuple[np.ndarray, np.ndarray]:
    """One column set for a pair; overlapping mates that disagree leave the column uncalled."""
    if len(c2) == 0:
        return c1, v1
    if len(c1) == 0:
        return c2, v2
    allc = np.concatenate([c1, c2])
    uniq, inv = np.unique(allc, return_inverse=True)
    codes = np.empty(len(uniq), dtype=np.uint8)
    i1, i2 = inv[: len(c1)], inv[len(c1) :]
    codes[i2] = v2
    from1 = np.zeros(len(uniq), dtype=bool)
    from1[i1] = True
    codes[i1] = v1
    both = i2[from1[i2]]
    clash = both[codes[both] != v2[from1[i2]]]
    codes[clash] = UNKNOWN
    return uniq.astype(np.int32), codes


class ReadMapper:
    def __init__(self, index: TypingIndex, genes: list[str], threads: int = 1):
        self.index = index
        self.genes = [g for g in genes if g in index.genes]
        self.threads = max(1, int(threads))
        self.msas: dict[str, GeneMSA] = {g: index.msa(g) for g in self.genes}
        self.evidence = {g: GeneEvidence(g) for g in self.genes}
        self.stats = MappingStats()
        self._cache: dict[int, tuple[str, np.ndarray, np.ndarray] | str | None] = {}
        self._local = threading.local()

    def _buf(self) -> mappy.ThreadBuffer:
        buf = getattr(self._local, "buf", None)
        if buf is None:
            buf = self._local.buf = mappy.ThreadBuffer()
        return buf

    def _project(self, gene: str, seq: str, hits: dict) -> tuple[np.ndarray, np.ndarray]:
        if gene not in hits:
            return np.zeros(0, np.int32), np.zeros(0, np.uint8)
        hit = hits[gene][1]
        m = self.msas[gene]
        cols, codes = project_hit(hit, seq, m.pos2col[hit.ctg])
        return cols, canonicalize(cols, codes, m.windows)

    def map_pair(self, s1: str, s2: str):
        """-> None (unmapped), 'ambiguous', a gene name (no CDS evidence / decoy / untyped),
        or (gene, cols, codes)."""
        buf = self._buf()
        h1 = _best_hits(self.index.aligner, buf, s1)
        h2 = _best_hits(self.index.aligner, buf, s2)
        total: Counter = Counter({g: v[0] for g, v in h1.items()})
        total.update({g: v[0] for g, v in h2.items()})
        if not total:
            return None
        ranked = total.most_common(2)
        if len(ranked) > 1 and ranked[1][1] >= ranked[0][1]:
            return "ambiguous"
        gene = ranked[0][0]
        if gene not in self.msas:
            return gene
        c1, v1 = self._project(gene, s1, h1)
        c2, v2 = self._project(gene, s2, h2)
        cols, codes = merge_mates(c1, v1, c2, v2)
        if len(cols) == 0:
            return gene
        return gene, cols, codes

    def _record(self, result, count: int) -> None:
        st = self.stats
        if result is None:
            st.unmapped += count
        elif result == "ambiguous":
            st.ambiguous_gene += count
        elif isinstance(result, str):
            st.assigned[result] += count
        else:
            gene, cols, codes = result
            st.assigned[gene] += count
            st.informative[gene] += count
            self.evidence[gene].add(cols, codes, count)

    def add_batch(self, pairs: list[tuple[str, str]]) -> None:
        """Map a batch of pairs (threads for distinct pairs; duplicates reuse earlier results)."""
        self.stats.pairs += len(pairs)
        todo: dict[int, tuple[str, str]] = {}
        counts: Counter = Counter()
        for s1, s2 in pairs:
            h = hash((s1, s2))
            counts[h] += 1
            if h not in self._cache and h not in todo:
                todo[h] = (s1, s2)
        keys = list(todo)
        if self.threads > 1 and len(keys) > 64:
            with ThreadPoolExecutor(self.threads) as pool:
                results = list(pool.map(lambda k: self.map_pair(*todo[k]), keys, chunksize=256))
        else:
            results = [self.map_pair(*todo[k]) for k in keys]
        self.stats.distinct_pairs += len(keys)
        fresh = dict(zip(keys, results, strict=True))
        for h, n in counts.items():
            if h in fresh:
                result = fresh[h]
                if len(self._cache) < CACHE_LIMIT:
                    self._cache[h] = result
            else:
                result = self._cache[h]
            self._record(result, n)
