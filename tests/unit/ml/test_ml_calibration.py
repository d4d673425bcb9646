"""Temperature scaling (ml.calibration): it recovers a known miscalibration, keeps the ranking,
and its error and confident-share figures mean what they say."""

from __future__ import annotations

import numpy as np
import pytest

from ml import calibration


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _sample(n=4000, classes=6, true_t=0.5, seed=0):
    """Probabilities a model reports, and labels drawn from what is really true: the true
    distribution is the reported one sharpened by 1/true_t (an underconfident model when < 1)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 1.2, size=(n, classes))
    reported = _softmax(logits)
    real = _softmax(logits / true_t)
    labels = np.array([rng.choice(classes, p=row) for row in real])
    return reported, labels


def test_fit_recovers_the_temperature_of_an_underconfident_model():
    reported, labels = _sample(true_t=0.5)
    t = calibration.fit_temperature(reported, labels)
    assert t == pytest.approx(0.5, abs=0.06)
    before, after = calibration.ece(reported, labels), calibration.ece(calibration.apply(reported, t), labels)
    assert before > 0.08 and after < 0.03


def test_a_calibrated_model_keeps_temperature_one():
    reported, labels = _sample(true_t=1.0, seed=1)
    assert calibration.fit_temperature(reported, labels) == pytest.approx(1.0, abs=0.08)


def test_apply_keeps_the_ranking_and_sums_to_one():
    reported, _ = _sample(n=200)
    for t in (0.3, 1.0, 2.5):
        p = calibration.apply(reported, t)
        assert np.allclose(p.sum(axis=1), 1.0)
        assert (p.argmax(axis=1) == reported.argmax(axis=1)).all()
    assert calibration.apply(reported, 1.0) is not None and np.array_equal(
        calibration.apply(reported, 1.0), reported
    )


def test_confident_share_counts_rows_at_the_threshold():
    p = np.array([[0.95, 0.05], [0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])
    share = calibration.confident_share(p, [0, 1, 0, 1], threshold=0.9)
    assert share == {"threshold": 0.9, "coverage": 0.5, "accuracy": 0.5, "n": 2}
    assert calibration.confident_share(p, [0, 0, 0, 0], threshold=0.99)["accuracy"] is None


def test_reliability_bins_hold_every_row_once():
    reported, labels = _sample(n=500, seed=3)
    rows = calibration.reliability(reported, labels)
    assert sum(r["n"] for r in rows) == 500
    assert all(r["bin"][0] <= r["confidence"] <= r["bin"][1] for r in rows)


def test_cross_fitted_rows_are_calibrated_by_the_other_folds():
    reported, labels = _sample(n=1000, true_t=0.5, seed=4)
    groups = np.arange(1000) // 2  # two rows per patient stay in one fold
    fitted = calibration.cross_fitted(reported, labels, groups)
    assert calibration.ece(fitted, labels) < 0.04
    assert (fitted.argmax(axis=1) == reported.argmax(axis=1)).all()
