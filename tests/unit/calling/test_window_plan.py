"""The shards' workers' share of the windows and the regions each window calls (pure)."""

from __future__ import annotations

from workers.genomics import windows
from workers.pipeline import windowphase


def test_every_window_has_one_owner_and_owners_alternate_along_the_genome():
    planned = windows.plan({"a": 1_000, "b": 1_000}, 8)
    shares = [windowphase.owned(planned, 3, unit) for unit in range(3)]
    assert sorted(w.index for share in shares for w in share) == [w.index for w in planned]
    assert [w.index for w in shares[1]] == [1, 4, 7]


def test_a_window_calls_its_stretch_of_the_targets_or_all_of_it():
    (first, second) = windows.plan({"a": 1_000, "b": 500}, 2)
    assert first.intervals == (("a", 0, 750),) and second.intervals == (("a", 750, 1000), ("b", 0, 500))
    assert windowphase.call_regions(second, None) == [("a", 750, 1000), ("b", 0, 500)]
    targets = [("a", 700, 800), ("b", 200, 300)]
    assert windowphase.call_regions(first, targets) == [("a", 700, 750)]
    assert windowphase.call_regions(second, targets) == [("a", 750, 800), ("b", 200, 300)]


def test_every_worker_plans_the_same_windows_for_the_same_sample():
    contigs = {"chr1": 248_956_422, "chr2": 242_193_529}
    a = windowphase.plan(contigs, 400_000_000, 32, threads=16)
    assert a == windowphase.plan(dict(contigs), 400_000_000, 32, threads=16)
    # each worker's share: as many windows as its gather would use (12.5 M pairs: 50 of 250 k)
    assert len(a) == 32 * 50
