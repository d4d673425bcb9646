"""The pair model on synthetic evidence: a hand-made MSA of a few alleles and read patterns."""

import numpy as np

from workers.hla import calls, flags, model, scoring
from workers.hla.mapping import GeneEvidence
from workers.hla.msa import UNKNOWN, GeneMSA
from workers.hla.scoring import MISMATCH

RNG = np.random.default_rng(3)
N_COLS = 120


def _msa(rows: dict[str, np.ndarray], partial: dict[str, tuple[int, int]] | None = None) -> GeneMSA:
    names = list(rows)
    codes = np.stack([rows[n] for n in names]).astype(np.uint8)
    for name, (s, e) in (partial or {}).items():
        i = names.index(name)
        codes[i, :s] = UNKNOWN
        codes[i, e:] = UNKNOWN
    complete = (codes != UNKNOWN).all(axis=1)
    return GeneMSA(
        gene="A",
        names=names,
        codes=codes,
        complete=complete,
        pos2col={},
        reference=names[0],
        windows=np.zeros((0, 2), dtype=np.int64),
        imputed=np.zeros(codes.shape, dtype=bool),
    )


def _base() -> np.ndarray:
    return RNG.integers(0, 4, N_COLS).astype(np.uint8)


def _variant(row: np.ndarray, cols: list[int]) -> np.ndarray:
    out = row.copy()
    for c in cols:
        out[c] = (out[c] + 1) % 4
    return out


def _reads(row: np.ndarray, n: int, length: int = 40) -> list[tuple[np.ndarray, np.ndarray]]:
    reads = []
    for _ in range(n):
        s = int(RNG.integers(0, N_COLS - length + 1))
        cols = np.arange(s, s + length, dtype=np.int32)
        reads.append((cols, row[cols].copy()))
    return reads


def _call(m: GeneMSA, reads) -> calls.GeneCall:
    ev = GeneEvidence("A")
    for cols, codes in reads:
        ev.add(cols, codes, 1)
    t = scoring.tables(m)
    p = scoring.patterns(ev, t)
    table = model.select_pair(p, t)
    return calls.make_call("A", table, m.names)


def test_heterozygous_pair_is_found_with_support_and_margin():
    base = _base()
    rows = {
        "A*01:01:01:01": base,
        "A*02:01:01:01": _variant(base, [10, 50, 90]),
        "A*03:01:01:01": _variant(base, [20, 60, 100]),
        "A*11:01:01:01": _variant(base, [10, 50, 91]),
    }
    m = _msa(rows)
    call = _call(m, _reads(rows["A*02:01:01:01"], 60) + _reads(rows["A*03:01:01:01"], 60))
    assert (call.allele1, call.allele2) == ("A*02:01", "A*03:01")
    assert call.margin > 2 * MISMATCH and call.confidence > flags.OK_POSTERIOR
    assert call.flag == flags.Flag.OK
    assert call.ambiguous == []
    assert call.reads1 > 0 and call.reads2 > 0 and call.pairs == 120


def test_homozygote_is_written_twice():
    base = _base()
    rows = {
        "A*01:01:01:01": base,
        "A*02:01:01:01": _variant(base, [30, 70]),
        "A*24:02:01:01": _variant(base, [5]),
    }
    call = _call(_msa(rows), _reads(rows["A*02:01:01:01"], 100))
    assert (call.allele1, call.allele2) == ("A*02:01", "A*02:01")
    assert call.reads1 == call.reads2 == 100


def test_pairs_explaining_reads_equally_are_reported_as_ambiguous():
    base = _base()
    # A*02:01 and A*02:05 differ only at column 119; no read reaches it (reads stop at 100)
    a = _variant(base, [30])
    b = a.copy()
    b[119] = (b[119] + 2) % 4
    rows = {
        "A*01:01:01:01": base,
        "A*02:01:01:01": a,
        "A*02:05:01:01": b,
        "A*03:01:01:01": _variant(base, [70]),
    }
    reads = [(c, v) for c, v in _reads(a, 80) + _reads(rows["A*03:01:01:01"], 80) if c[-1] < 100]
    call = _call(_msa(rows), reads)
    assert call.margin == 0.0 and call.confidence == 0.5  # two genotypes, equally likely
    assert call.flag == flags.Flag.AMBIGUOUS
    assert "A*02:05/A*03:01" in call.ambiguous
    assert call.note.startswith("ambiguous")
    # the tie is broken towards the lower allele number, and said so
    assert (call.allele1, call.allele2) == ("A*02:01", "A*03:01")


def test_partial_allele_wins_when_it_fits_better_where_known():
    base = _base()
    true_partial = _variant(base, [40, 44])
    rows = {"A*01:01:01:01": base, "A*01:99": true_partial, "A*03:01:01:01": _variant(base, [80])}
    m = _msa(rows, partial={"A*01:99": (20, 70)})
    # impute the partial allele's unknown columns from its nearest complete neighbour
    from workers.hla.msa import impute

    m.imputed = impute(m.codes, m.complete)
    reads = _reads(true_partial, 80) + _reads(rows["A*03:01:01:01"], 80)
    call = _call(m, reads)
    assert {call.allele1, call.allele2} == {"A*01:99", "A*03:01"}


def test_complete_allele_preferred_over_identical_partial():
    base = _base()
    rows = {"A*01:01:01:01": base, "A*01:50": base.copy(), "A*03:01:01:01": _variant(base, [80])}
    m = _msa(rows, partial={"A*01:50": (20, 70)})
    from workers.hla.msa import impute

    m.imputed = impute(m.codes, m.complete)
    call = _call(m, _reads(base, 80) + _reads(rows["A*03:01:01:01"], 80))
    assert {call.full1, call.full2} == {"A*01:01:01:01", "A*03:01:01:01"}
