"""Training and serving build the same features: a real patient loaded by the training loader and
the same patient posted to /predict's schema give identical rows (ml.feature_matrix is the one builder)."""

from __future__ import annotations

import math
from pathlib import Path

from app.load import load
from app.predict.schemas import PatientSchema
from ml import artifacts, data, feature_matrix, features, train

SLICE = Path(__file__).resolve().parents[2] / "data" / "ml" / "tcga_slice"


def as_request(patient: dict) -> dict:
    """What a clinic (or a job's variant results) would post for this patient."""
    body = {"mutations": patient["mutations"], "patient_id": patient["patient_id"]}
    if isinstance(patient.get("sex"), str):
        body["sex"] = patient["sex"]
    if isinstance(patient.get("race"), str):
        body["race"] = patient["race"]
    age = patient.get("age_at_diagnosis")
    if age is not None and not math.isnan(age):
        body["age_at_diagnosis"] = age
    if patient.get("prior_malignancy") in (0, 1):
        body["prior_malignancy"] = bool(patient["prior_malignancy"])
    if patient.get("n_silent") is not None:
        body["n_silent"] = int(patient["n_silent"])
    return body


def test_training_rows_equal_serving_rows_for_real_patients():
    patients = [p for p in data.load(SLICE, labels=False).patients if p["mutations"]]
    spec = artifacts.read_config(artifacts.DEFAULT_MODEL_DIR)["spec"]
    training = (
        train.feature_frame(patients, spec).astype(object).where(lambda f: f.notna(), None).values.tolist()
    )
    serving = feature_matrix.build(
        [load(PatientSchema(), as_request(p)) for p in patients], feature_matrix.Layout(spec)
    ).rows()
    assert len(patients) > 150
    assert serving == training
    # The hotspots and the spectrum are really exercised by these patients.
    names = features.feature_names(spec)
    used = {
        names[i].split(":")[0]
        for row in serving
        for i, v in enumerate(row)
        if v not in (0, 0.0, None, "unknown")
    }
    assert {"gene", "hotspot", "aa"} <= used
