"""Rebuild tests/data/ml/feature_rows_golden.json.gz after the default model is retrained.

    .venv/bin/python tests/data/ml/make_feature_golden.py

The file pins the feature rows of the slice's patients and of a few edge patients under the
default model's spec. It was first written by the per-patient builder that ml.feature_matrix
replaced (the two agreed on all 13,699 shared TCGA patients); rebuild it only for a new model,
and read the diff of any test it then breaks.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from ml import artifacts, data, feature_matrix

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "feature_rows_golden.json.gz"


def main() -> None:
    old = json.loads(gzip.decompress(GOLDEN.read_bytes()))
    patients = [*data.load(HERE / "tcga_slice", labels=False).patients, *old["edge_patients"]]
    spec = artifacts.read_config(artifacts.DEFAULT_MODEL_DIR)["spec"]
    rows = feature_matrix.build(patients, feature_matrix.Layout(spec)).rows()
    golden = {
        "model_version": artifacts.read_manifest(artifacts.DEFAULT_MODEL_DIR)["version"],
        "width": len(rows[0]),
        "edge_patients": old["edge_patients"],
        # sparse: zeros are left out, missing values are null
        "rows": [
            {"patient_id": p["patient_id"], "values": {str(i): v for i, v in enumerate(row) if v != 0}}
            for p, row in zip(patients, rows, strict=True)
        ],
    }
    GOLDEN.write_bytes(gzip.compress(json.dumps(golden, sort_keys=True).encode(), mtime=0))


if __name__ == "__main__":
    main()
