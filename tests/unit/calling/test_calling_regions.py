"""Regions variant calling is scattered over: consecutive, equal in bases, never overlapping."""

from __future__ import annotations

import pytest

from workers.genomics import regions

CONTIGS = {"chr1": 1000, "chr2": 250, "chrM": 16}


def _flatten(groups):
    return [iv for group in groups for iv in group]


@pytest.mark.parametrize("n", [1, 2, 3, 7, 64, 5000])
def test_groups_cover_the_reference_once_in_order(n):
    groups = regions.scatter(regions.whole(CONTIGS), n)
    assert 1 <= len(groups) <= n and all(groups)
    flat = _flatten(groups)
    # consecutive pieces tile each contig exactly
    for contig, length in CONTIGS.items():
        pieces = [(s, e) for c, s, e in flat if c == contig]
        assert pieces[0][0] == 0 and pieces[-1][1] == length
        assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:], strict=False))
    share = -(-sum(CONTIGS.values()) // n)  # ceil
    sizes = [sum(e - s for _, s, e in g) for g in groups]
    assert all(size == share for size in sizes[:-1]) and 0 < sizes[-1] <= share


def test_a_group_may_span_the_end_of_one_contig_and_the_start_of_the_next():
    groups = regions.scatter(regions.whole(CONTIGS), 2)
    assert groups == [[("chr1", 0, 633)], [("chr1", 633, 1000), ("chr2", 0, 250), ("chrM", 0, 16)]]


def test_targets_are_sorted_in_reference_order_and_overlaps_joined():
    bed = [("chr2", 10, 20), ("chr1", 50, 60), ("chr1", 55, 70), ("chr1", 70, 80), ("chr1", 5, 6)]
    assert regions.merged(bed, CONTIGS) == [("chr1", 5, 6), ("chr1", 50, 80), ("chr2", 10, 20)]


def test_bad_counts_and_empty_input():
    with pytest.raises(ValueError):
        regions.scatter(regions.whole(CONTIGS), 0)
    assert regions.scatter([], 4) == []
    assert regions.to_bed([("c", 0, 5), ("d", 1, 2)]) == "c\t0\t5\nd\t1\t2\n"


def test_a_region_is_called_from_before_its_start_and_keeps_only_its_own_sites():
    group = [("a", 0, 1_000), ("a", 12_000, 20_000), ("b", 3_000, 9_000)]
    assert regions.calling(group, None) == [("a", 0, 1_000), ("a", 7_000, 20_000), ("b", 0, 9_000)]
    # with targets: the whole targets the pieces touch, as one pass over the targets calls them
    targets = [("a", 500, 1_500), ("a", 11_000, 12_500), ("a", 30_000, 31_000), ("b", 8_000, 8_100)]
    assert regions.calling(group, targets) == [("a", 500, 1_500), ("a", 11_000, 12_500), ("b", 8_000, 8_100)]
