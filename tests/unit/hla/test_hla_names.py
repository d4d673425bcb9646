import pytest

from workers.hla import names


def test_two_field_truncates_and_keeps_only_protein_level_suffix():
    assert names.two_field("A*01:01:01:01") == "A*01:01"
    assert names.two_field("DQB1*03:19:01") == "DQB1*03:19"
    assert names.two_field("C*14:03") == "C*14:03"
    # a suffix on a 3-4 field name marks a non-coding change: same protein as A*01:01
    assert names.two_field("A*01:01:01:02N") == "A*01:01"
    # a 2-field null is its own protein-level call
    assert names.two_field("A*24:09N") == "A*24:09N"


def test_parse_rejects_garbage():
    with pytest.raises(ValueError):
        names.parse("not-an-allele")
    assert names.parse("HLA-DRB1*15:01:01:01") == ("DRB1", (15, 1, 1, 1), "")


def test_genes_for_class():
    assert names.genes_for_class("1") == ("A", "B", "C")
    assert names.genes_for_class("2") == ("DRB1", "DRB3", "DRB4", "DRB5", "DQA1", "DQB1", "DPA1", "DPB1")
    assert len(names.genes_for_class("both")) == 11
    with pytest.raises(ValueError):
        names.genes_for_class("3")


def test_order_key_prefers_expressed_then_lower_numbers():
    ordered = sorted(["A*01:101", "A*01:01:01:02N", "A*01:02", "A*01:01:01:01"], key=names.order_key)
    assert ordered == ["A*01:01:01:01", "A*01:02", "A*01:101", "A*01:01:01:02N"]
