"""ml.drift: fixed bins, counts only, PSI with the documented thresholds."""

from __future__ import annotations

import json
import math

from ml import drift


def patient(age, sex="female", n=3):
    return {
        "age_at_diagnosis": age,
        "sex": sex,
        "mutations": [{"gene": "TP53", "variant_class": "Missense_Mutation"}] * n,
    }


def test_histogram_counts_bins_and_keeps_no_patient_data():
    h = drift.histogram(
        [patient(61, n=3), patient(None, sex="male", n=0), {"patient_id": "P-SECRET", "sex": "x"}]
    )
    assert h["n"] == 3
    assert h["features"]["age_at_diagnosis"][">=60"] == 1
    assert h["features"]["age_at_diagnosis"]["missing"] == 2
    assert h["features"]["sex"] == {"female": 1, "male": 1, "unknown": 1}
    assert h["features"]["n_missense"][">=2"] == 1 and h["features"]["n_missense"][">=0"] == 2
    text = json.dumps(h)
    assert "P-SECRET" not in text and "TP53" not in text


def test_psi_is_zero_for_the_same_population_and_alerts_on_a_shift():
    base = drift.histogram([patient(a, sex=s) for a in range(30, 90) for s in ("female", "male")])
    same = drift.histogram([patient(a, sex=s) for a in range(30, 90, 2) for s in ("female", "male")])
    young_men = drift.histogram([patient(a, sex="male") for a in range(30, 40)])
    stable = {r["feature"]: r for r in drift.compare(base, same)}
    assert stable["age_at_diagnosis"]["psi"] < drift.WATCH and stable["sex"]["level"] == "stable"
    shifted = {r["feature"]: r for r in drift.compare(base, young_men)}
    assert shifted["age_at_diagnosis"]["level"] == "ALERT" and shifted["sex"]["level"] == "ALERT"
    assert math.isnan(drift.psi({"a": 0}, {"a": 1})) and drift.level(float("nan")) == "no data"


def test_psi_by_hand():
    # 50/50 -> 80/20: (0.8-0.5)ln(0.8/0.5) + (0.2-0.5)ln(0.2/0.5)
    expected = 0.3 * math.log(1.6) + (-0.3) * math.log(0.4)
    assert abs(drift.psi({"a": 5, "b": 5}, {"a": 8, "b": 2}) - expected) < 1e-12


def test_merge_adds_up_and_ignores_unknown_bins():
    a = drift.histogram([patient(61)])
    b = drift.histogram([patient(62), patient(45)])
    b["features"]["sex"]["martian"] = 7
    total = drift.merge([a, b])
    assert total["n"] == 3 and total["features"]["age_at_diagnosis"][">=60"] == 2
    assert "martian" not in total["features"]["sex"]
