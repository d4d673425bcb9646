"""`gems model train/predict/evaluate` on a small real slice (tests/data/ml/tcga_slice)."""

from __future__ import annotations

import csv
import gzip
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from gems.errors import InputError
from ml import artifacts, cli, data

SLICE = Path(__file__).resolve().parents[2] / "data" / "ml" / "tcga_slice"


def train_tiny(out: Path) -> Path:
    """A 30-round model on the slice, seed 3: seconds to train."""
    argv = ["train", "--data", str(SLICE), "--out", str(out), "--seed", "3", "--iterations", "30"]
    assert cli.main([*argv, "--n-genes", "50", "--threads", "2"]) == 0
    return out


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return train_tiny(tmp_path_factory.mktemp("model") / "tiny")


def test_train_writes_a_complete_model_directory(tiny_model):
    for name in (
        artifacts.MODEL_FILE,
        artifacts.MANIFEST,
        artifacts.CONFIG,
        artifacts.METRICS,
        artifacts.PLOT,
    ):
        assert (tiny_model / name).stat().st_size > 0, name
    manifest = artifacts.read_manifest(tiny_model)
    assert manifest["version"].endswith("-s3") and manifest["seed"] == 3
    assert manifest["data_checksum"].startswith("sha256:") and manifest["git_commit"] and manifest["created"]
    config = artifacts.read_config(tiny_model)
    assert "Other" not in config["classes"] and len(config["classes"]) == 11
    assert len(config["spec"]["genes"]) == 50 and config["hyperparameters"]["iterations"] == 30
    assert not any(n.startswith(("source", "deceased", "cohort")) for n in config["feature_names"])
    metrics = artifacts.read_metrics(tiny_model)
    assert {"Firehose", "MC3", "all", "split"} <= set(metrics)
    assert len(metrics["Firehose"]["confusion_matrix"]) == 11
    assert (tiny_model / artifacts.PLOT).read_bytes()[:4] == b"\x89PNG"
    assert not list(tiny_model.parent.glob(".tiny.*")), "the temporary directory was left behind"


def test_training_is_reproducible_from_the_seed(tiny_model, tmp_path):
    again = train_tiny(tmp_path / "again")
    assert artifacts.read_metrics(again) == artifacts.read_metrics(tiny_model)
    assert artifacts.read_config(again) == artifacts.read_config(tiny_model)


def _unlabelled_copy(dst: Path) -> Path:
    """The slice with label_site/label_cohort dropped from the matrices and cohort from the variant tables."""
    (dst / "variants").mkdir(parents=True)
    for name in data.MATRICES.values():
        frame = pd.read_csv(SLICE / name, dtype=str)
        frame.drop(columns=["label_site", "label_cohort"]).to_csv(dst / name, index=False)
    for path in (SLICE / "variants").iterdir():
        with gzip.open(path, "rt") as inp, gzip.open(dst / "variants" / path.name, "wt") as out:
            header = inp.readline().rstrip("\n").split("\t")
            drop = header.index("cohort")
            out.write("\t".join(h for i, h in enumerate(header) if i != drop) + "\n")
            for line in inp:
                cells = line.rstrip("\n").split("\t")
                out.write("\t".join(c for i, c in enumerate(cells) if i != drop) + "\n")
    return dst


def test_predict_never_reads_labels(tiny_model, tmp_path, monkeypatch):
    seen: list[str] = []
    real = pd.read_csv

    def spy(*args, **kwargs):
        frame = real(*args, **kwargs)
        seen.extend(frame.columns)
        return frame

    monkeypatch.setattr(pd, "read_csv", spy)
    labelled_out, unlabelled_out = tmp_path / "a.csv", tmp_path / "b.csv"
    assert (
        cli.main(["predict", "--model", str(tiny_model), "--data", str(SLICE), "--out", str(labelled_out)])
        == 0
    )
    assert not set(seen) & set(data.LABEL_COLUMNS), "predict read a label column"
    unlabelled = _unlabelled_copy(tmp_path / "unlabelled")
    assert (
        cli.main(
            ["predict", "--model", str(tiny_model), "--data", str(unlabelled), "--out", str(unlabelled_out)]
        )
        == 0
    )
    assert labelled_out.read_text() == unlabelled_out.read_text()
    rows = list(csv.DictReader(unlabelled_out.open()))
    classes = artifacts.read_config(tiny_model)["classes"]
    assert list(rows[0]) == [
        "patient_id",
        "source",
        "predicted_site",
        "confident",
        *(f"prob_{c}" for c in classes),
    ]
    threshold = artifacts.read_config(tiny_model)["calibration"]["confident_threshold"]
    assert all(
        r["confident"] == str(max(float(r[f"prob_{c}"]) for c in classes) >= threshold).lower() for r in rows
    )
    # Every patient row of both sources, "Other" included: predict does not know the labels.
    assert len(rows) == sum(
        len(pd.read_csv(SLICE / n, usecols=["patient_id"])) for n in data.MATRICES.values()
    )
    assert {r["source"] for r in rows} == {"Firehose", "MC3"}
    assert all(abs(sum(float(r[f"prob_{c}"]) for c in classes) - 1) < 1e-4 for r in rows)


def test_evaluate_prints_metrics_per_source(tiny_model, tmp_path, capsys):
    out = tmp_path / "m.json"
    assert cli.main(["evaluate", "--model", str(tiny_model), "--data", str(SLICE), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Firehose" in printed and "MC3" in printed and "macro-F1" in printed
    assert "the data the model was trained on" in printed
    assert set(json.loads(out.read_text())) == {"Firehose", "MC3", "all"}


def test_a_directory_without_matrices_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="no tcga_firehose_mut.csv.gz or tcga_mc3_mut.csv.gz"):
        cli.main(["predict", "--data", str(tmp_path), "--out", str(tmp_path / "p.csv")])


def test_a_corrupt_model_is_a_clear_error(tiny_model, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model, broken)
    (broken / artifacts.MODEL_FILE).write_bytes(b"\x00garbage")
    with pytest.raises(InputError, match="corrupt"):
        cli.main(["predict", "--model", str(broken), "--data", str(SLICE), "--out", str(tmp_path / "p.csv")])
