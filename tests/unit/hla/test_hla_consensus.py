"""What the reads say each called allele is (workers.hla.consensus): on a hand-made MSA with
exons, the consensus follows the reads, blocks stop at exon boundaries and at uncovered columns,
and a difference no allele of the release carries is called novel."""

import numpy as np

from workers.hla import consensus
from workers.hla.mapping import GeneEvidence
from workers.hla.msa import GAP, UNKNOWN, GeneMSA

RNG = np.random.default_rng(5)
N = 120
BASES = "ACGT-"


def _msa(rows: dict[str, np.ndarray], exon_starts=(0, 50)) -> GeneMSA:
    names = list(rows)
    codes = np.stack([rows[n] for n in names]).astype(np.uint8)
    # a genomic representative: exon 1 = columns 0-49, a 100-base intron, exon 2 = columns 50-119
    genomic = np.full(N + 100, -1, dtype=np.int32)
    genomic[: exon_starts[1]] = np.arange(exon_starts[1])
    genomic[exon_starts[1] + 100 :] = np.arange(exon_starts[1], N)
    return GeneMSA(
        gene="A",
        names=names,
        codes=codes,
        complete=np.ones(len(names), dtype=bool),
        pos2col={f"{names[0]}|gen": genomic},
        reference=names[0],
        windows=np.zeros((0, 2), dtype=np.int64),
        imputed=np.zeros(codes.shape, dtype=bool),
    )


def _evidence(row: np.ndarray, n: int, start: int = 0, end: int = N) -> GeneEvidence:
    ev = GeneEvidence("A")
    for _ in range(n):
        s = int(RNG.integers(start, end - 40 + 1))
        cols = np.arange(s, s + 40, dtype=np.int32)
        ev.add(cols, row[cols].astype(np.uint8), 1)
    return ev


def _one(ev: GeneEvidence, msa: GeneMSA, allele: int = 0) -> consensus.AlleleConsensus:
    rows = np.arange(len(ev.counts))
    w = np.asarray(ev.counts, dtype=float)
    return consensus.allele_consensus(ev, rows, w, msa, allele, consensus.exon_starts(msa))


BASE = RNG.integers(0, 4, N).astype(np.uint8)


def _seq(row: np.ndarray, cols) -> str:
    return "".join(BASES[row[c]] for c in cols if row[c] != GAP)


def test_reads_that_fit_the_allele_give_its_sequence_in_one_block_per_exon():
    msa = _msa({"A*01:01:01:01": BASE, "A*02:01:01:01": (BASE + 1) % 4})
    got = _one(_evidence(BASE, 200), msa)
    assert consensus.exon_starts(msa).tolist() == [0, 50]
    assert [(b.exon, b.start, b.end) for b in got.blocks] == [(1, 0, 50), (2, 50, 120)]
    assert "".join(b.sequence for b in got.blocks) == _seq(BASE, range(N))
    assert got.variants == [] and got.covered == N


def test_columns_the_reads_do_not_cover_split_the_block():
    msa = _msa({"A*01:01:01:01": BASE})
    ev = _evidence(BASE, 100, 0, 45)
    for _ in range(100):
        s = int(RNG.integers(70, N - 40 + 1))
        cols = np.arange(s, s + 40, dtype=np.int32)
        ev.add(cols, BASE[cols].astype(np.uint8), 1)
    got = _one(ev, msa)
    assert [(b.exon, b.start, b.end) for b in got.blocks] == [(1, 0, 45), (2, 70, 120)]


def test_a_base_no_allele_carries_is_novel_and_one_another_allele_carries_is_not():
    other = BASE.copy()
    other[30] = (BASE[30] + 1) % 4
    msa = _msa({"A*01:01:01:01": BASE, "A*02:01:01:01": other})
    reads = BASE.copy()
    reads[30] = other[30]  # known: A*02:01 carries it
    reads[90] = (BASE[90] + 2) % 4  # novel: no allele does
    got = _one(_evidence(reads, 300), msa)
    by_start = {v.start: v for v in got.variants}
    assert set(by_start) == {30, 90}
    assert by_start[30].novel is False and by_start[90].novel is True
    assert by_start[90].allele_bases == BASES[BASE[90]] and by_start[90].read_bases == BASES[reads[90]]
    assert by_start[90].share == 1.0 and by_start[90].reads >= 3
    assert got.blocks[1].sequence[90 - 50] == BASES[reads[90]]


def test_a_deletion_in_the_reads_is_written_with_the_base_before_it():
    msa = _msa({"A*01:01:01:01": BASE})
    reads = BASE.copy()
    reads[60] = GAP
    got = _one(_evidence(reads, 300), msa)
    (v,) = got.variants
    assert (v.start, v.end) == (59, 61)
    assert v.allele_bases == _seq(BASE, [59, 60]) and v.read_bases == _seq(BASE, [59])
    assert len(got.blocks[1].sequence) == 69


def test_mixed_reads_give_n_and_no_variant():
    msa = _msa({"A*01:01:01:01": BASE})
    ev = _evidence(BASE, 150)
    flipped = BASE.copy()
    flipped[20] = (BASE[20] + 1) % 4
    other = _evidence(flipped, 150)
    for cols, codes, n in zip(other.cols, other.codes, other.counts, strict=True):
        ev.add(cols, codes, n)
    got = _one(ev, msa)
    assert got.blocks[0].sequence[20] == "N" and got.variants == []


def test_partial_alleles_are_reported_only_where_they_have_sequence():
    part = BASE.copy()
    part[:50] = UNKNOWN  # IMGT sequenced exon 2 only
    msa = _msa({"A*01:01:01:01": BASE, "A*01:02": part})
    got = _one(_evidence(BASE, 200), msa, allele=1)
    assert [(b.exon, b.start, b.end) for b in got.blocks] == [(2, 0, 70)]


def test_depth_is_the_median_of_reads_over_the_coding_bases():
    msa = _msa({"A*01:01:01:01": BASE})
    ev = GeneEvidence("A")
    for _ in range(6):  # six reads over the first 80 columns, two over the last 40
        ev.add(np.arange(0, 80, dtype=np.int32), BASE[:80], 1)
    for _ in range(2):
        ev.add(np.arange(80, N, dtype=np.int32), BASE[80:], 1)
    rows = np.arange(len(ev.counts))
    w = np.asarray(ev.counts, dtype=float)
    assert consensus.median_depth(ev, rows, w, msa, 0) == 6.0
    assert consensus.median_depth(ev, rows[6:], w[6:], msa, 0) == 0.0  # most bases unread
    assert consensus.median_depth(ev, rows[:0], w[:0], msa, 0) == 0.0
