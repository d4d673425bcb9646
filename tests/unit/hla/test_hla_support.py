"""Do called alleles explain their own reads (workers.hla.support, workers.hla.gene)? On a hand-made
MSA: reads of another sequence disagree with the allele that stands for them at the same columns,
read after read; sequencing errors do not."""

import numpy as np

from workers.hla import gene, scoring, support
from workers.hla.mapping import GeneEvidence
from workers.hla.msa import UNKNOWN, GeneMSA

RNG = np.random.default_rng(11)
N_COLS = 300


def _msa(rows: dict[str, np.ndarray]) -> GeneMSA:
    names = list(rows)
    codes = np.stack([rows[n] for n in names]).astype(np.uint8)
    return GeneMSA(
        gene="DQA1",
        names=names,
        codes=codes,
        complete=np.ones(len(names), dtype=bool),
        pos2col={},
        reference=names[0],
        windows=np.zeros((0, 2), dtype=np.int64),
        imputed=np.zeros(codes.shape, dtype=bool),
    )


def _variant(row: np.ndarray, cols) -> np.ndarray:
    out = row.copy()
    out[list(cols)] = (out[list(cols)] + 1) % 4
    return out


def _reads(row: np.ndarray, n: int, error: float = 0.003, length: int = 120):
    out = []
    for _ in range(n):
        s = int(RNG.integers(0, N_COLS - length + 1))
        cols = np.arange(s, s + length, dtype=np.int32)
        codes = row[cols].copy()
        hit = RNG.random(length) < error
        codes[hit] = (codes[hit] + RNG.integers(1, 4, hit.sum())) % 4
        out.append((cols, codes.astype(np.uint8)))
    return out


def _evidence(reads) -> GeneEvidence:
    ev = GeneEvidence("DQA1")
    for cols, codes in reads:
        ev.add(cols, codes, 1)
    return ev


BASE = RNG.integers(0, 4, N_COLS).astype(np.uint8)
OTHER = _variant(BASE, range(5, 300, 37))  # another allele of the gene: 8 differences
# A paralog with no sequence in the release: closest to OTHER, yet 12 more differences.
PARALOG = _variant(OTHER, range(11, 300, 25))
MSA = _msa(
    {"DQA1*01:02:01:01": BASE, "DQA1*04:01:01:01": OTHER, "DQA1*05:01:01:01": _variant(BASE, [40, 41])}
)


def test_paralog_reads_do_not_become_a_second_allele():
    ev = _evidence(_reads(BASE, 300) + _reads(PARALOG, 40))
    call = gene.call_gene("DQA1", ev, MSA)
    assert (call.allele1, call.allele2) == ("DQA1*01:02", "DQA1*01:02")
    assert call.set_aside == 40 and call.set_aside_as[0]["allele"] == "DQA1*04:01:01:01"
    assert "set aside as another sequence" in call.note


def test_a_real_second_allele_with_sequencing_errors_is_kept_ok():
    ev = _evidence(_reads(BASE, 200, error=0.01) + _reads(OTHER, 200, error=0.01))
    call = gene.call_gene("DQA1", ev, MSA)
    assert (call.allele1, call.allele2) == ("DQA1*01:02", "DQA1*04:01")
    assert call.flag == "ok" and call.set_aside == 0
    assert all(s["discordant_sites"] == [] for s in call.support)


def test_one_consistent_difference_is_reported_and_never_ok():
    novel = _variant(OTHER, [150])  # DQA1*04:01 with one new base: a possible novel allele
    ev = _evidence(_reads(BASE, 200) + _reads(novel, 200))
    call = gene.call_gene("DQA1", ev, MSA)
    assert call.allele2 == "DQA1*04:01" and call.flag == "low_confidence"
    (shown,) = [s["discordant_sites"] for s in call.support if s["allele"].startswith("DQA1*04:01")]
    assert shown == ["151"]  # 1-based position in the allele's own sequence
    assert "possible novel polymorphism" in call.note


def test_sites_shared_with_the_partner_are_not_held_against_an_allele():
    # A stretch where every read differs from every allele (an isoform, a misassembled end).
    artefact = list(range(280, 290))
    ev = _evidence(_reads(_variant(BASE, artefact), 200) + _reads(_variant(OTHER, artefact), 200))
    t = scoring.tables(MSA)
    p = scoring.patterns(ev, t)
    pair = (0, 1)
    m = np.asarray(scoring.mismatches_unknown(p, t, np.array(pair))[0])
    checked = support.check_pair(ev, np.arange(len(p)), m, p.counts, MSA, pair)
    assert [s.sites for s in checked] == [[], []]


def test_neighbouring_columns_are_one_site():
    assert support.group_sites(np.array([3, 4, 6, 20, 30, 31])) == [(3, 6), (20, 20), (30, 31)]


def test_unknown_bases_are_not_discordance():
    reads = _reads(BASE, 50)
    reads = [(c, np.where(np.isin(c, [100, 101]), UNKNOWN, v).astype(np.uint8)) for c, v in reads]
    call = gene.call_gene("DQA1", _evidence(reads), MSA)
    assert call.support[0]["discordant_sites"] == [] and "disagree" not in call.note


def test_a_heterozygous_site_where_no_read_carries_an_alleles_base_contradicts_it():
    # The reads over column 5 (where the pair differs) all carry DQA1*01:02's base, none
    # DQA1*04:01's: 04:01 is not what is there, whichever allele those reads were given to.
    col = 5
    one_sided = [(np.arange(0, 40, dtype=np.int32), BASE[:40].copy()) for _ in range(10)]
    ev = _evidence(one_sided)
    rows, w = np.arange(len(ev.counts)), np.asarray(ev.counts, dtype=float)
    a_cols, b_cols = support._unbalanced_columns(ev, rows, w, MSA, (0, 1))
    assert list(a_cols) == [] and col in b_cols
    balanced = one_sided[:5] + [(np.arange(0, 40, dtype=np.int32), OTHER[:40].copy()) for _ in range(5)]
    ev = _evidence(balanced)
    rows, w = np.arange(len(ev.counts)), np.asarray(ev.counts, dtype=float)
    assert [list(c) for c in support._unbalanced_columns(ev, rows, w, MSA, (0, 1))] == [[], []]
