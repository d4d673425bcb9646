"""Pure functions of the calling half: SAM records, normalisation, matching, encodings."""

from __future__ import annotations

import pytest

from gems.errors import InputError
from workers.fastq import detect_encoding
from workers.samrecord import PairStats, mate_score, pair_to_sam, strip_mate_suffix
from workers.vcfcompare import compare
from workers.vcfnorm import Allele, left_align

REF = "ACGTACGTTTTTTGCAGCAGCAGTTACGATCGA"


def fetch(chrom: str, a: int, b: int) -> str:
    return REF[a:b]


def fetch_pos(a: int, b: int) -> str:
    return REF[a:b]


def hit(read_num, r_st, r_en, strand, q_st, q_en, cigar, mapq=60, ctg="c1"):
    return (read_num, ctg, r_st, r_en, strand, q_st, q_en, mapq, cigar, 0, str(r_en - r_st))


def test_detect_encoding():
    assert detect_encoding(35, 74) == 33
    assert detect_encoding(66, 104) == 64
    assert detect_encoding(64, 73) == 33  # nothing past 'J': +33 with high qualities
    with pytest.raises(InputError):
        detect_encoding(20, 70)


def test_mate_score_counts_only_q15_and_up():
    assert mate_score("I" * 4) == 40 * 4
    assert mate_score("#" * 4 + "I") == 40  # Q2 bases add nothing
    assert mate_score("/") == 0  # Q14
    assert mate_score("0") == 15


def test_strip_mate_suffix():
    assert strip_mate_suffix("r1/1") == "r1"
    assert strip_mate_suffix("r1/2") == "r1"
    assert strip_mate_suffix("r1/3") == "r1/3"


def test_proper_pair_flags_tlen_and_clips():
    stats = PairStats()
    seqs = ("A" * 10, "C" * 10)
    quals = ("I" * 10, "I" * 10)
    # read 1 forward at 100 with 2 bases clipped at its start; read 2 reverse at 300.
    hits = [hit(1, 100, 108, 1, 2, 10, "8M"), hit(2, 300, 310, -1, 0, 10, "10M")]
    text = pair_to_sam("p", seqs, quals, hits, "RG:Z:s", stats)
    r1, r2 = [line.split("\t") for line in text.strip().split("\n")]
    assert int(r1[1]) == 0x1 | 0x2 | 0x20 | 0x40
    assert int(r2[1]) == 0x1 | 0x2 | 0x10 | 0x80
    assert r1[3] == "101" and r2[3] == "301"
    assert r1[5] == "2S8M" and r2[5] == "10M"
    assert (int(r1[8]), int(r2[8])) == (210, -210)
    assert r1[6] == "=" and r1[7] == "301" and r2[7] == "101"
    assert r2[9] == "G" * 10  # reverse-strand reads are stored reverse-complemented
    assert "MC:Z:10M" in r1 and "MC:Z:2S8M" in r2
    assert "RG:Z:s" in r1 and f"ms:i:{40 * 10}" in r1
    assert stats.proper == 2 and stats.inserts == [210]


def test_read2_query_coordinates_are_on_its_reverse_complement():
    # mappy gives read 2's q_st/q_en on its reverse complement: a clip at q_st of a reverse
    # read 2 lies on its leftmost reference side, as minimap2 -a writes it.
    stats = PairStats()
    hits = [hit(1, 100, 110, 1, 0, 10, "10M"), hit(2, 300, 306, -1, 4, 10, "6M")]
    text = pair_to_sam("p", ("A" * 10, "C" * 10), ("I" * 10, "I" * 10), hits, "RG:Z:s", stats)
    r2 = text.strip().split("\n")[1].split("\t")
    assert r2[5] == "4S6M"


def test_far_apart_or_same_strand_pairs_are_not_proper():
    stats = PairStats()
    far = [hit(1, 100, 110, 1, 0, 10, "10M"), hit(2, 5000, 5010, -1, 0, 10, "10M")]
    text = pair_to_sam("p", ("A" * 10,) * 2, ("I" * 10,) * 2, far, "RG:Z:s", stats)
    assert all(not int(line.split("\t")[1]) & 0x2 for line in text.strip().split("\n"))
    same = [hit(1, 100, 110, 1, 0, 10, "10M"), hit(2, 200, 210, 1, 0, 10, "10M")]
    text = pair_to_sam("p", ("A" * 10,) * 2, ("I" * 10,) * 2, same, "RG:Z:s", stats)
    assert all(not int(line.split("\t")[1]) & 0x2 for line in text.strip().split("\n"))
    assert stats.proper == 0


def test_unmapped_mate_is_placed_at_its_mapped_mate():
    stats = PairStats()
    text = pair_to_sam(
        "p", ("A" * 10,) * 2, ("I" * 10,) * 2, [hit(1, 100, 110, -1, 0, 10, "10M")], "RG:Z:s", stats
    )
    r1, r2 = [line.split("\t") for line in text.strip().split("\n")]
    assert int(r1[1]) & 0x8 and not int(r1[1]) & 0x4
    assert int(r2[1]) & 0x4 and int(r2[1]) & 0x20
    assert r2[2] == "c1" and r2[3] == "101" and r2[5] == "*"
    assert stats.mapped == 1


def test_supplementary_hits_get_flag_0x800():
    stats = PairStats()
    hits = [
        hit(1, 100, 105, 1, 0, 5, "5M"),
        hit(2, 300, 310, -1, 0, 10, "10M"),
        hit(1, 900, 905, 1, 5, 10, "5M"),
    ]
    lines = pair_to_sam("p", ("A" * 10,) * 2, ("I" * 10,) * 2, hits, "RG:Z:s", stats).strip().split("\n")
    assert len(lines) == 3
    assert int(lines[2].split("\t")[1]) & 0x800 and lines[2].split("\t")[5] == "5S5M"


def test_left_align_moves_a_homopolymer_deletion_to_its_start():
    # REF[7:13] is TTTTTT after a G; deleting a T written at 11 (TT>T) left-aligns to 6 (GT>G).
    assert left_align(11, "TT", "T", fetch_pos) == (6, "GT", "G")
    assert left_align(12, "T", "TT", fetch_pos) == (6, "G", "GT")
    # a repeat-unit deletion in GCAGCAGCAG (13-22) shifts left to the base before the repeat
    assert left_align(19, "GCAG", "G", fetch_pos) == (12, "TGCA", "T")
    # shared suffix/prefix is trimmed from MNP-like records
    assert left_align(0, "ACG", "AGG", fetch_pos) == (1, "C", "G")


def _a(pos, ref, alt, copies=1):
    return Allele("c1", pos, ref, alt, copies)


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


def test_bulk_mate_scores_equal_the_single_read_ones():
    from workers.samrecord import mate_scores

    quals = ["I" * 5 + "#" * 3, "", "/0?", "#", "IIII"]
    assert mate_scores(quals) == [mate_score(q) for q in quals]
    assert mate_scores([]) == []
