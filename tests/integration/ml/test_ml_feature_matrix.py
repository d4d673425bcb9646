"""The batch row builder against golden rows, and CatBoost's answer for the matrix it hands over."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from ml import artifacts, data, feature_matrix, features
from ml.predictor import Predictor

DATA = Path(__file__).resolve().parents[2] / "data" / "ml"
GOLDEN = DATA / "feature_rows_golden.json.gz"


@pytest.fixture(scope="module")
def golden():
    return json.loads(gzip.decompress(GOLDEN.read_bytes()))


@pytest.fixture(scope="module")
def patients(golden):
    return [*data.load(DATA / "tcga_slice", labels=False).patients, *golden["edge_patients"]]


def test_rows_equal_the_golden_rows(golden, patients):
    version = artifacts.read_manifest(artifacts.DEFAULT_MODEL_DIR)["version"]
    assert golden["model_version"] == version, "new default model: run tests/data/ml/make_feature_golden.py"
    spec = artifacts.read_config(artifacts.DEFAULT_MODEL_DIR)["spec"]
    rows = feature_matrix.build(patients, feature_matrix.Layout(spec)).rows()
    assert [p["patient_id"] for p in patients] == [g["patient_id"] for g in golden["rows"]]
    for row, expected in zip(rows, golden["rows"], strict=True):
        dense = [0.0] * golden["width"]
        for i, v in expected["values"].items():
            dense[int(i)] = v
        assert len(row) == len(dense)
        for name, got, want in zip(features.feature_names(spec), row, dense, strict=True):
            if isinstance(want, float) and want != 0:
                assert got == pytest.approx(want, rel=1e-12), (expected["patient_id"], name)
            else:
                assert got == want, (expected["patient_id"], name)


def test_features_data_pool_predicts_what_a_pool_of_plain_rows_does(patients):
    """The float32 block and apart categoricals give CatBoost the same input as the list rows it
    was first served (and trained) with: the probabilities agree to float precision."""
    from catboost import Pool

    predictor = Predictor(artifacts.DEFAULT_MODEL_DIR)
    # vary the clinical facts so every categorical value the model knows is crossed with real rows
    varied = [
        {**p, "sex": sex, "race": race, "prior_malignancy": prior}
        for p, (sex, race, prior) in zip(
            patients,
            [
                (s, r, m)
                for s in (*features.SEXES, None)
                for r in (*features.RACES, None)
                for m in (0, 1, None)
            ]
            * 20,
            strict=False,
        )
    ]
    matrix = predictor.matrix(varied)
    plain = Pool(
        [[np.nan if v is None else v for v in row] for row in matrix.rows()],
        cat_features=predictor.categorical,
        feature_names=predictor.feature_names,
    )
    as_rows = predictor.model.predict_proba(plain)
    as_matrix = predictor.model.predict_proba(matrix.pool())
    assert len({tuple(c) for c in matrix.categorical}) > 20
    np.testing.assert_allclose(as_matrix, as_rows, rtol=0, atol=1e-9)


def test_a_patient_alone_gets_what_it_gets_in_a_batch(patients):
    """One row goes to CatBoost padded to two (a pool of one is slow); the answer is the same."""
    predictor = Predictor(artifacts.DEFAULT_MODEL_DIR)
    some = patients[:12] + patients[-3:]
    together = predictor.predict_patients(some, average_missing=True)
    alone = [predictor.predict_patients([p], average_missing=True)[0] for p in some]
    np.testing.assert_allclose(alone, together, rtol=0, atol=1e-9)
    rows = predictor.rows(some[:2])
    np.testing.assert_allclose(predictor.predict_rows(rows[:1]), predictor.predict_rows(rows)[:1], atol=1e-9)
