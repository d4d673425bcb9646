"""CSV in, CSV out for `gems predict`: one patient per row, one probability column per site."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path
from typing import Any

from gems.errors import ValidationError

_SPLIT = re.compile(r"[;,\s]+")
_NUMBER = {"age_at_diagnosis": float, "n_nonsilent": int, "n_silent": int}


def _value(column: str, text: str, line: int):
    text = text.strip()
    if text == "":
        return None
    if column in _NUMBER:
        try:
            number = _NUMBER[column](float(text)) if column != "age_at_diagnosis" else float(text)
        except ValueError:
            raise ValidationError(f"line {line}: {column} {text!r} is not a number", field=column) from None
        if isinstance(number, float) and not math.isfinite(number):
            raise ValidationError(f"line {line}: {column} must be a finite number", field=column)
        return number
    if column == "prior_malignancy":
        low = text.lower()
        if low in ("1", "yes", "true"):
            return True
        if low in ("0", "no", "false"):
            return False
        raise ValidationError(f"line {line}: prior_malignancy {text!r} must be yes/no", field=column)
    return text


def read_patients(path: Path) -> list[dict]:
    """Columns: patient_id, mutated_genes (space/;/, separated); optional age_at_diagnosis, sex,
    race, prior_malignancy, n_nonsilent, n_silent. Unknown columns are an error, not ignored."""
    allowed = {"patient_id", "mutated_genes", "sex", "race", "prior_malignancy", *_NUMBER}
    if not path.is_file():
        raise ValidationError(f"{path}: no such file", field="csv")
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "mutated_genes" not in reader.fieldnames:
            raise ValidationError(f"{path}: needs a header with at least a mutated_genes column", field="csv")
        extra = set(reader.fieldnames) - allowed
        if extra:
            raise ValidationError(
                f"{path}: unknown columns {sorted(extra)}; allowed: {sorted(allowed)}", field="csv"
            )
        patients = []
        for line, row in enumerate(reader, start=2):
            patient: dict[str, Any] = {}
            for column, text in row.items():
                if column == "mutated_genes":
                    patient["mutated_genes"] = [g for g in _SPLIT.split(text or "") if g]
                elif (value := _value(column, text or "", line)) is not None:
                    patient[column] = value
            patient.setdefault("patient_id", f"row{line - 1}")
            patients.append(patient)
    if not patients:
        raise ValidationError(f"{path}: no patients", field="csv")
    return patients


def write_predictions(writer, patients: list[dict], answer: dict) -> None:
    predictions = answer["predictions"]
    sites = sorted({site for p in predictions for site in p["probabilities"]})
    writer.writerow(["patient_id", "predicted_site", *[f"p_{s}" for s in sites], "model_version"])
    for patient, pred in zip(patients, predictions, strict=True):
        probs = pred["probabilities"]
        writer.writerow(
            [
                patient["patient_id"],
                pred["top"][0]["site"],
                *[f"{probs.get(s, 0.0):.4f}" for s in sites],
                answer["model_version"],
            ]
        )
