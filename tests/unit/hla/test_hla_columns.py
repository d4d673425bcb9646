import numpy as np

from workers.hla.mapping import canonicalize, merge_mates
from workers.hla.msa import GAP, UNKNOWN, canonical, indel_windows


def test_merge_mates_unions_columns_and_blanks_disagreements():
    c1, v1 = np.array([1, 2, 3], np.int32), np.array([0, 1, 2], np.uint8)
    c2, v2 = np.array([3, 4], np.int32), np.array([3, 3], np.uint8)
    cols, codes = merge_mates(c1, v1, c2, v2)
    assert cols.tolist() == [1, 2, 3, 4]
    assert codes.tolist() == [0, 1, UNKNOWN, 3]  # column 3: mates disagree


def test_same_sequence_with_gaps_placed_differently_compares_equal():
    left = np.array([0, 1, GAP, GAP, 2, 3], np.uint8)
    right = np.array([0, 1, 2, 3, GAP, GAP], np.uint8)
    assert canonical(left, 0, 6).tolist() == canonical(right, 0, 6).tolist()
    assert canonical(np.array([0, UNKNOWN, 1], np.uint8), 0, 3).tolist() == [UNKNOWN] * 3


def test_common_indels_get_windows_rare_ones_do_not():
    rows = np.zeros((300, 40), np.uint8)
    rows[:90, 20] = GAP  # common: 30% of alleles
    rows[0, 5] = GAP  # one allele only
    windows = indel_windows(rows)
    assert windows.tolist() == [[12, 29]]


def test_read_covering_part_of_a_window_leaves_it_uncalled():
    windows = np.array([[10, 14]])
    cols = np.arange(8, 12, dtype=np.int32)
    codes = np.array([0, 1, 2, 3], np.uint8)
    out = canonicalize(cols, codes, windows)
    assert out.tolist() == [0, 1, UNKNOWN, UNKNOWN]
    cols = np.arange(8, 16, dtype=np.int32)
    codes = np.array([0, 1, GAP, 2, 3, 0, 1, 2], np.uint8)
    assert canonicalize(cols, codes, windows).tolist() == [0, 1, 2, 3, 0, GAP, 1, 2]
