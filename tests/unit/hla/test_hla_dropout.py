"""Allele dropout: a homozygous call at half the depth of the sample's other genes is flagged
(workers.hla.dropout)."""

from workers.hla import dropout
from workers.hla.calls import GeneCall, no_call


def _call(gene, a1, a2, depth, flag="ok", note=""):
    return GeneCall(gene, a1, a2, confidence=1.0, flag=flag, pairs=100, depth=depth, note=note)


def _sample(a_depth: float, a2: str = "A*01:01") -> list[GeneCall]:
    return [
        _call("A", "A*01:01", a2, a_depth),
        _call("B", "B*07:02", "B*08:01", 38.0),
        _call("C", "C*07:01", "C*07:02", 40.0),
        _call("DRB1", "DRB1*15:01", "DRB1*03:01", 44.0),
    ]


def test_a_homozygote_at_half_the_depth_is_never_ok():
    calls = _sample(20.0)  # one copy's reads: half the others' median depth, 40
    dropout.resolve(calls)
    a = calls[0]
    assert a.flag == "low_confidence"
    assert "homozygous at 0.50 of the depth of the sample's other 3 genes" in a.note
    assert "dropped out" in a.note
    assert all(c.flag == "ok" and not c.note for c in calls[1:])


def test_a_homozygote_at_the_samples_depth_keeps_its_flag():
    calls = _sample(36.0)
    dropout.resolve(calls)
    assert calls[0].flag == "ok" and calls[0].note == ""


def test_a_heterozygote_at_low_depth_is_left_to_the_other_checks():
    calls = _sample(10.0, a2="A*02:01")
    dropout.resolve(calls)
    assert calls[0].flag == "ok"


def test_homozygous_means_the_same_protein_and_a_flag_is_only_lowered():
    calls = _sample(15.0, a2="A*01:01:01:02N")  # a 3-field null: the protein of A*01:01
    calls[0].flag, calls[0].note = "ambiguous", "tied with A*01:02"
    dropout.resolve(calls)
    assert calls[0].flag == "ambiguous"
    assert calls[0].note.startswith("tied with A*01:02; homozygous at ")


def test_drb_partners_and_uncalled_genes_are_neither_judged_nor_measured_against():
    calls = [
        _call("A", "A*01:01", "A*01:01", 20.0),
        _call("B", "B*07:02", "B*08:01", 40.0),
        _call("DRB5", "DRB5*01:01", "DRB5*01:01", 5.0),  # one copy: drb decides
        _call("DRB1", "DRB1*15:01", "DRB1*15:01", 40.0),
        no_call("C", "no HLA reads"),
    ]
    dropout.resolve(calls)
    assert calls[2].flag == "ok"  # DRB5 is not judged here
    # A is measured against B and DRB1 only (not DRB5's thin reads): 20 / median(40, 40)
    assert calls[0].flag == "low_confidence" and "other 2 genes" in calls[0].note


def test_too_few_other_genes_means_nothing_to_measure_against():
    calls = [_call("A", "A*01:01", "A*01:01", 5.0), _call("B", "B*07:02", "B*08:01", 40.0)]
    dropout.resolve(calls)
    assert calls[0].flag == "ok"
    assert dropout.share_of_others("A", dropout.depths(calls)) is None


def test_a_gene_without_a_measured_depth_is_left_out():
    calls = _sample(20.0)
    calls[0].depth = None
    dropout.resolve(calls)
    assert calls[0].flag == "ok"
