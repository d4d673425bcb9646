"""The leave-one-sample-out rule of benchmarks.calling: a change is taken only when it wins on
every fold, and the defaults stay otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import calling

# (SNP F1, indel F1) per sample for the settings named by their changes
FAKE = {
    ("A", ()): (0.90, 0.70),
    ("B", ()): (0.80, 0.60),
    ("A", ("good",)): (0.91, 0.72),
    ("B", ("good",)): (0.80, 0.65),
    ("A", ("one-fold",)): (0.95, 0.80),  # a big gain on A, a loss on B
    ("B", ("one-fold",)): (0.79, 0.60),
    ("A", ("snp-for-indel",)): (0.89, 0.90),  # trades SNPs for indels on A
    ("B", ("snp-for-indel",)): (0.80, 0.70),
}


@pytest.fixture
def fake_scores(monkeypatch):
    cands = ("good", "one-fold", "snp-for-indel")
    monkeypatch.setattr(calling, "CANDIDATES", {c: ((), 0) for c in cands})

    def score(name, bam, changes):
        key = (name, tuple(sorted(changes)))
        if key in FAKE:
            return FAKE[key]
        # combinations: the first change's figures (they do not add up further)
        return FAKE[(name, (sorted(changes)[0],))]

    monkeypatch.setattr(calling, "score", score)


def test_wins_needs_no_loss_on_either_type():
    assert calling.wins((0.9, 0.7), (0.9, 0.6))
    assert not calling.wins((0.95, 0.5), (0.9, 0.6))
    assert not calling.wins((0.9, 0.6), (0.9, 0.6))  # a tie is not a win: the defaults stay


def test_only_a_change_that_wins_every_fold_is_taken(fake_scores):
    bams = {"A": Path("a.bam"), "B": Path("b.bam")}
    assert calling.greedy(bams) == ["good"]


def test_one_fold_alone_picks_what_wins_there(fake_scores):
    assert calling.greedy({"A": Path("a.bam")}) == ["one-fold"]
