"""Alignment counts kept as sums and an insert-size histogram: windows' counts add up to the
whole BAM's, and the median is the one of every insert kept one by one."""

from __future__ import annotations

import random
import statistics
from collections import Counter

import pytest

from workers.genomics.bamstats import AlignmentCounts


@pytest.mark.parametrize("n", [1, 2, 3, 10, 11, 1_000, 1_001])
def test_the_histograms_median_is_the_median_of_the_inserts(n):
    rng = random.Random(n)
    inserts = [rng.choice([rng.randint(100, 900), 300, 301]) for _ in range(n)]
    got = AlignmentCounts(inserts=Counter(inserts)).insert_median()
    assert got == statistics.median(inserts)
    assert type(got) is type(statistics.median(inserts))


def test_no_inserts_have_no_median():
    assert AlignmentCounts().insert_median() is None


def test_windows_counts_add_up_and_survive_json():
    a = AlignmentCounts(reads=10, mapped=9, proper=8, mapq0=1, supplementary=2, examined=9, duplicates=3,
                        inserts=Counter({300: 2, 310: 1}))  # fmt: skip
    b = AlignmentCounts(
        reads=5, mapped=5, proper=4, examined=4, duplicates=1, inserts=Counter({290: 1, 300: 1})
    )
    whole = AlignmentCounts.added([AlignmentCounts.from_json(a.to_json()), b])
    assert (whole.reads, whole.mapped, whole.proper, whole.mapq0, whole.supplementary) == (15, 14, 12, 1, 2)
    assert whole.markdup() == {"EXAMINED": 13, "DUPLICATE TOTAL": 4}
    assert whole.inserts == Counter({300: 3, 310: 1, 290: 1})
    assert whole.insert_median() == statistics.median([300, 300, 300, 310, 290])
