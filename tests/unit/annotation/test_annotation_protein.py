"""HGVS protein names from reference/variant protein pairs (one-letter short form)."""

from __future__ import annotations

from workers.genomics.protein import (
    frameshift_change,
    inframe_change,
    revcomp,
    substitution_change,
    translate,
)


def test_translate_and_revcomp():
    assert translate("ATGTGGTAAGG") == "MW*"
    assert translate("ATGTAAATG", to_stop=True) == "M*"
    assert translate("ATGNNN") == "MX"
    assert revcomp("ACGTN") == "NACGT"


def test_substitutions():
    ref = "MKWRL*"
    assert substitution_change(ref, "MKRRL*", 2, 2) == "p.W3R"
    assert substitution_change(ref, "MK*RL*", 2, 2) == "p.W3*"
    assert substitution_change(ref, "MKWRL*", 2, 2) == "p.W3="
    assert substitution_change(ref, "VKWRL*", 0, 0) == "p.M1?"
    # an MNV over two codons: both change -> delins, one silent -> a plain missense
    assert substitution_change(ref, "MKGGL*", 2, 3) == "p.W3_R4delinsGG"
    assert substitution_change(ref, "MKWGL*", 2, 3) == "p.R4G"
    # stop lost: the protein runs on to the next in-frame stop (3 residues later) or off the end
    assert substitution_change(ref, "MKWRLQAG*", 5, 5) == "p.*6Qext*3"
    assert substitution_change(ref, "MKWRLQAG", 5, 5) == "p.*6Qext*?"


def test_frameshifts():
    assert frameshift_change("MKWRL*", "MKGAVS*") == "p.W3fs"
    assert frameshift_change("MKWRL*", "MKWRLYY*") == "p.*6Yext*2"
    assert frameshift_change("MKWRL*", "VQ*") == "p.M1?"


def test_inframe_indels():
    ref = "MKWRRL*"
    assert inframe_change(ref, "MKWRL*", -1) == ("p.R5del", "deletion")  # 3'-most R of the RR run
    assert inframe_change(ref, "MKWL*", -2) == ("p.R4_R5del", "deletion")
    assert inframe_change(ref, "MKWRRRL*", 1) == ("p.R5dup", "insertion")
    assert inframe_change(ref, "MKWGRRL*", 1) == ("p.W3_R4insG", "insertion")
    assert inframe_change(ref, "MKGGRL*", 0) == ("p.W3_R4delinsGG", "delins")
    assert inframe_change(ref, "MKW*", 1) == ("p.R4*", "stop_gained")
    assert inframe_change(ref, "MKWRRLQQ*", -1) == ("p.*7Qext*2", "stop_lost")  # the stop codon deleted
    assert inframe_change(ref, "MWRRL*", -1) == ("p.K2del", "deletion")
    assert inframe_change(ref, "KWRRL*", -1) == ("p.M1?", "start_lost")
