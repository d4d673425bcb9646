"""The flag of an HLA call (workers.hla.flags): what each one needs."""

from __future__ import annotations

import pytest

from workers.hla import flags
from workers.hla.flags import Flag
from workers.hla.scoring import MISMATCH


def test_posterior_of_a_lone_genotype_is_one_and_of_a_tie_is_a_half():
    assert flags.posterior(-100.0, []) == 1.0
    assert flags.posterior(-100.0, [-100.0]) == pytest.approx(0.5)
    assert flags.posterior(-100.0, [-100.0, -100.0]) == pytest.approx(1 / 3)
    # one mismatching read's worth behind: about 99%
    assert flags.posterior(-100.0, [-100.0 - MISMATCH]) == pytest.approx(0.99, abs=1e-3)


@pytest.mark.parametrize(
    "post, margin, fit, expected",
    [
        (0.9999, 30.0, 0.3, Flag.OK),
        (0.5, 0.0, 0.3, Flag.AMBIGUOUS),  # a tie
        (0.8, 1.5, 0.3, Flag.AMBIGUOUS),  # within 2 nats
        (0.99, MISMATCH, 0.3, Flag.LOW_CONFIDENCE),  # one read ahead is not enough
        (0.9999, 2 * MISMATCH - 0.1, 0.3, Flag.LOW_CONFIDENCE),
        (0.9999, 2 * MISMATCH, 0.3, Flag.OK),
        (0.95, 20.0, 0.3, Flag.LOW_CONFIDENCE),  # many alternatives add up
        (0.9999, 50.0, 2.0, Flag.LOW_CONFIDENCE),  # reads fit poorly: an allele may be missing
    ],
)
def test_decide(post, margin, fit, expected):
    assert flags.decide(post, margin, fit) is expected


def test_flag_values_are_the_documented_words():
    assert [f.value for f in Flag] == ["ok", "low_confidence", "ambiguous", "insufficient", "absent"]
