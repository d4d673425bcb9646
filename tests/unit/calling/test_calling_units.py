"""Pure functions of the calling half: the minimap2 command, normalisation, matching, encodings."""

from __future__ import annotations

import pytest

from gems.errors import InputError
from workers.evaluation.vcfcompare import compare
from workers.genomics import minimap2
from workers.genomics.fastq import detect_encoding
from workers.genomics.vcfnorm import VariantAllele, left_align

REF = "ACGTACGTTTTTTGCAGCAGCAGTTACGATCGA"


def fetch(chrom: str, a: int, b: int) -> str:
    return REF[a:b]


def fetch_pos(a: int, b: int) -> str:
    return REF[a:b]


def test_detect_encoding():
    assert detect_encoding(35, 74) == 33
    assert detect_encoding(66, 104) == 64
    assert detect_encoding(64, 73) == 33  # nothing past 'J': +33 with high qualities
    with pytest.raises(InputError):
        detect_encoding(20, 70)


def test_left_align_moves_a_homopolymer_deletion_to_its_start():
    # REF[7:13] is TTTTTT after a G; deleting a T written at 11 (TT>T) left-aligns to 6 (GT>G).
    assert left_align(11, "TT", "T", fetch_pos) == (6, "GT", "G")
    assert left_align(12, "T", "TT", fetch_pos) == (6, "G", "GT")
    # a repeat-unit deletion in GCAGCAGCAG (13-22) shifts left to the base before the repeat
    assert left_align(19, "GCAG", "G", fetch_pos) == (12, "TGCA", "T")
    # shared suffix/prefix is trimmed from MNP-like records
    assert left_align(0, "ACG", "AGG", fetch_pos) == (1, "C", "G")


def _a(pos, ref, alt, copies=1):
    return VariantAllele("c1", pos, ref, alt, copies)


def test_exact_matches_and_genotype_errors():
    truth = [_a(1, "C", "T"), _a(20, "G", "A", 2), _a(25, "T", "C")]
    calls = [_a(1, "C", "T"), _a(20, "G", "A", 1), _a(30, "C", "G")]
    res = compare(truth, calls, fetch)
    snp = res.by_kind["SNP"].as_dict()
    assert (snp["tp"], snp["fp"], snp["fn"], snp["genotype_mismatch"]) == (1, 2, 2, 1)
    assert snp["precision"] == pytest.approx(1 / 3, abs=1e-4)
    assert snp["recall"] == pytest.approx(1 / 3, abs=1e-4)


def test_indel_written_two_ways_matches_by_haplotype():
    # Truth deletes one T of the homopolymer and changes the following G to C (two records);
    # the caller wrote the same haplotype as one complex record TG>C at another position.
    truth = [_a(6, "GT", "G", 2), _a(13, "G", "C", 2)]
    calls = [_a(12, "TG", "C", 2)]
    res = compare(truth, calls, fetch)
    indel, snp = res.by_kind["INDEL"].as_dict(), res.by_kind["SNP"].as_dict()
    assert (indel["tp"], indel["fp"], indel["fn"]) == (1, 0, 0)
    assert indel["tp_calls"] == 1
    assert (snp["tp"], snp["fn"]) == (1, 0)


def test_haplotype_match_respects_zygosity_and_drops_an_unrelated_fp():
    truth = [_a(6, "GT", "G", 1)]
    calls = [_a(6, "GT", "G", 2), _a(15, "A", "C", 1)]
    res = compare(truth, calls, fetch)
    assert res.by_kind["INDEL"].as_dict()["fp"] == 1  # hom call of a het truth: genotype error
    assert res.by_kind["INDEL"].as_dict()["fn"] == 1
    assert res.by_kind["SNP"].as_dict()["fp"] == 1


def test_minimap2_command_maps_pairs_with_md_tags_and_the_read_group(tmp_path):
    cmd = minimap2.command(
        tmp_path / "minimap2", tmp_path / "r.mmi", tmp_path / "a.fq.gz", tmp_path / "b.fq.gz", 2, "S1"
    )
    assert cmd[1:9] == ["-t", "2", "-K", str(minimap2.BATCH_BASES), "-a", "-x", "sr", "--MD"]
    assert cmd[cmd.index("-R") + 1] == "@RG\\tID:S1\\tSM:S1\\tLB:S1\\tPL:ILLUMINA"
    assert cmd[-3:] == [str(tmp_path / "r.mmi"), str(tmp_path / "a.fq.gz"), str(tmp_path / "b.fq.gz")]
    assert minimap2.command(tmp_path / "m", tmp_path / "r", tmp_path / "a", tmp_path / "b", 0, "S")[2] == "1"


def test_read_group_ids_carry_no_whitespace_or_escapes():
    # minimap2 expands a written backslash-t into a tab: a sample name must not smuggle one in.
    assert minimap2.read_group_id("a b\\tc\n") == "a_b_tc_"
    assert minimap2.read_group_id("") == "sample"
    assert "\t" not in minimap2.read_group("x\ty")
