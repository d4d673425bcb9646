"""A loaded model directory that turns patients (or ready feature rows) into site probabilities."""

from __future__ import annotations

import math
from pathlib import Path

from gems.errors import InputError
from ml import artifacts, calibration, features


class Predictor:
    """The CatBoost model of one model directory, with its feature spec and version."""

    def __init__(self, model_dir: str | Path):
        from catboost import CatBoostClassifier

        self.model_dir = Path(model_dir)
        if not self.model_dir.is_dir():
            raise InputError(f"model directory {self.model_dir} does not exist")
        self.config = artifacts.read_config(self.model_dir)
        self.manifest = artifacts.read_manifest(self.model_dir)
        model_path = self.model_dir / artifacts.MODEL_FILE
        if not model_path.exists():
            raise InputError(f"model directory {self.model_dir}: {artifacts.MODEL_FILE} is missing")
        model = CatBoostClassifier()
        try:
            model.load_model(str(model_path))
        except Exception as exc:  # noqa: BLE001 - catboost raises its own CatBoostError for any bad file
            raise InputError(
                f"model file {model_path} is corrupt or not a CatBoost model ({exc})".splitlines()[0]
            ) from None
        self.model = model
        self.spec = features.prepared(self.config["spec"])
        self.feature_names = features.feature_names(self.config["spec"])
        if self.feature_names != self.config["feature_names"]:
            raise InputError(
                f"model directory {self.model_dir}: config.json's feature names do not match its spec"
            )
        self.classes = [str(c) for c in model.classes_]
        if self.classes != list(self.config["classes"]):
            raise InputError(f"model directory {self.model_dir}: model classes differ from config.json")
        self.categorical = features.categorical_indices(self.config["spec"])
        self.version = self.manifest.get("version", "unknown")
        # A model directory from before calibration answers its raw probabilities and no flag.
        cal = self.config.get("calibration") or {}
        self.temperature = float(cal.get("temperature", 1.0))
        self.confident_threshold: float | None = cal.get("confident_threshold")

    def rows(self, patients: list[dict]) -> list[list]:
        return [features.build_features(p, self.spec) for p in patients]

    def _clean(self, row: list) -> list:
        if len(row) != len(self.feature_names):
            raise InputError(
                f"a feature row has {len(row)} values; the model takes {len(self.feature_names)}"
            )
        cat = set(self.categorical)
        out = []
        for i, value in enumerate(row):
            if i in cat:
                out.append(features.MISSING_CATEGORY if value in (None, "") else str(value))
            else:
                out.append(math.nan if value is None or value == "" else float(value))
        return out

    def _raw(self, rows: list[list]):
        from catboost import Pool

        pool = Pool(
            [self._clean(r) for r in rows], cat_features=self.categorical, feature_names=self.feature_names
        )
        return self.model.predict_proba(pool)

    def predict_rows(self, rows: list[list]) -> list[list[float]]:
        """Calibrated class probabilities (in self.classes order) for ready feature rows."""
        if not rows:
            return []
        return calibration.apply(self._raw(rows), self.temperature).tolist()

    def confident(self, probabilities: list[float]) -> bool | None:
        """Whether the top calibrated probability reaches the model's threshold (None: no threshold)."""
        if self.confident_threshold is None:
            return None
        return max(probabilities) >= self.confident_threshold

    def predict_patients(
        self, patients: list[dict], *, average_missing: bool = False, rows: list[list] | None = None
    ) -> list[list[float]]:
        """Probabilities per patient; with `average_missing`, facts left out are averaged over.

        The API averages (see features.not_given); `gems model predict/evaluate` read a TCGA-like
        directory the way training read it, where "unknown" is a recorded value.
        """
        rows = self.rows(patients) if rows is None else rows
        profiles = self.config.get("clinical_profiles") if average_missing else None
        if not profiles:
            return self.predict_rows(rows)
        if not rows:
            return []
        expanded, spans = [], []
        for patient, row in zip(patients, rows, strict=True):
            copies = features.with_profiles(row, features.not_given(patient), profiles)
            spans.append((len(expanded), len(expanded) + len(copies)))
            expanded += copies
        raw = self._raw(expanded)
        # averaged first, calibrated once: what training calibrated was one probability per patient
        averaged = [raw[a:b].mean(axis=0) for a, b in spans]
        return calibration.apply(averaged, self.temperature).tolist()
