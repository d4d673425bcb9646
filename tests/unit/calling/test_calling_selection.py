"""The leave-one-sample-out rule of benchmarks.calling: a change is taken only when it wins on
every fold, and the defaults stay otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import calling

S = calling.Score
# (SNP F1, indel F1, SNP TP, indel TP) per sample for the settings named by their changes
FAKE = {
    ("A", ()): S(0.90, 0.70, 100, 20),
    ("B", ()): S(0.80, 0.60, 50, 10),
    ("A", ("good",)): S(0.91, 0.72, 100, 20),
    ("B", ("good",)): S(0.80, 0.65, 50, 11),
    ("A", ("one-fold",)): S(0.95, 0.80, 101, 22),  # a big gain on A, a loss on B
    ("B", ("one-fold",)): S(0.79, 0.60, 50, 10),
    ("A", ("snp-for-indel",)): S(0.89, 0.90, 100, 25),  # trades SNPs for indels on A
    ("B", ("snp-for-indel",)): S(0.80, 0.70, 50, 12),
    ("A", ("drops-a-true-call",)): S(0.95, 0.75, 99, 20),  # better F1, one true SNP filtered out
    ("B", ("drops-a-true-call",)): S(0.85, 0.65, 50, 10),
}


@pytest.fixture
def fake_scores(monkeypatch):
    cands = ("good", "one-fold", "snp-for-indel", "drops-a-true-call")
    monkeypatch.setattr(calling, "CANDIDATES", {c: ((), 0) for c in cands})

    def score(name, bam, changes):
        key = (name, tuple(sorted(changes)))
        if key in FAKE:
            return FAKE[key]
        # combinations: the first change's figures (they do not add up further)
        return FAKE[(name, (sorted(changes)[0],))]

    monkeypatch.setattr(calling, "score", score)


def test_wins_needs_no_loss_on_either_type_and_no_true_call_lost():
    assert calling.wins(S(0.9, 0.7, 10, 5), S(0.9, 0.6, 10, 5))
    assert not calling.wins(S(0.95, 0.5, 10, 5), S(0.9, 0.6, 10, 5))
    assert not calling.wins(S(0.9, 0.6, 10, 5), S(0.9, 0.6, 10, 5))  # a tie is not a win: the defaults stay
    assert not calling.wins(S(0.95, 0.7, 9, 5), S(0.9, 0.6, 10, 5))  # precision bought with a true SNP


def test_only_a_change_that_wins_every_fold_is_taken(fake_scores):
    bams = {"A": Path("a.bam"), "B": Path("b.bam")}
    assert calling.greedy(bams) == ["good"]


def test_one_fold_alone_picks_what_wins_there(fake_scores):
    assert calling.greedy({"A": Path("a.bam")}) == ["one-fold"]
