"""Training: data dir -> features -> CatBoost -> held-out metrics -> a complete model directory.

Recipe (one command, one seed, fully reproducible on CPU):
 1. load the labelled patients, drop "Other" (a bag of 20 unrelated cohorts, not a site);
 2. split patients 80/20, stratified by site and grouped by patient (ml.evaluate.split);
 3. choose the feature spec from the training patients only, fit, score the held-out patients
    per caller source -> metrics.json and confusion.png;
 4. refit with the same spec recipe and hyperparameters on every patient -> model.cbm.
"""

from __future__ import annotations

import collections
import logging
import time
from pathlib import Path

from ml import artifacts, data, evaluate, features

log = logging.getLogger(__name__)

# The committed model's hyperparameters, chosen by ml.tune (see docs/model.md for the search).
DEFAULT_PARAMS: dict = {
    "iterations": 500,
    "learning_rate": 0.08417872626411771,
    "depth": 4,
    "l2_leaf_reg": 2.067418275056318,
    "border_count": 32,
    "auto_class_weights": "SqrtBalanced",
}
# How many of each feature family to keep, ranked by how many training patients carry them.
DEFAULT_SPEC = {
    "n_genes": 600,
    "n_hotspots": 150,
    "min_hotspot_patients": 3,
    "n_substitutions": 40,
    "n_codons": 250,
}
FIXED_PARAMS = {"loss_function": "MultiClass", "one_hot_max_size": 8, "boosting_type": "Plain", "verbose": 0}
SPEC_KEYS = tuple(DEFAULT_SPEC)


def make_spec(
    patients: list[dict],
    *,
    n_genes: int,
    n_hotspots: int,
    min_hotspot_patients: int,
    n_substitutions: int,
    n_codons: int = 0,
) -> dict:
    """Genes, hotspots (GENE:p.X), substitutions and hotspot codons (GENE:pos), most frequent first."""
    gene_patients: collections.Counter = collections.Counter()
    hotspot_patients: collections.Counter = collections.Counter()
    substitutions: collections.Counter = collections.Counter()
    codon_patients: collections.Counter = collections.Counter()
    for patient in patients:
        mutations = patient.get("mutations") or []
        gene_patients.update({m["gene"] for m in mutations} | set(patient.get("mutated_genes") or []))
        hotspot_patients.update(
            {k for m in mutations if (k := features.hotspot_key(m["gene"], m.get("protein_change")))}
        )
        substitutions.update(s for m in mutations if (s := features.substitution(m.get("protein_change"))))
        codon_patients.update(
            {k for m in mutations if (k := features.codon_key(m["gene"], m.get("protein_change")))}
        )

    def top(counter: collections.Counter, n: int, floor: int = 1) -> list[str]:
        ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
        return [k for k, c in ranked[:n] if c >= floor]

    return {
        "genes": top(gene_patients, n_genes),
        "hotspots": top(hotspot_patients, n_hotspots, min_hotspot_patients),
        "substitutions": top(substitutions, n_substitutions),
        "codons": top(codon_patients, n_codons, min_hotspot_patients),
    }


def feature_frame(patients: list[dict], spec: dict):
    import pandas as pd

    prepared = features.prepared(spec)
    return pd.DataFrame(
        [features.build_features(p, prepared) for p in patients], columns=features.feature_names(spec)
    )


def fit(frame, labels: list[str], params: dict, seed: int, *, threads: int = -1):
    from catboost import CatBoostClassifier

    model = CatBoostClassifier(
        **{**FIXED_PARAMS, **params},
        random_seed=seed,
        thread_count=threads,
        cat_features=list(features.categorical_indices({})),
        allow_writing_files=False,
    )
    model.fit(frame, labels)
    return model


def holdout(
    dataset: data.Dataset, params: dict, spec_options: dict, seed: int, threads: int = -1
) -> tuple[dict, object, dict, int]:
    """Fit on the training patients of the split, score the held-out ones: (metrics, model, spec, rows)."""
    ids = [p["patient_id"] for p in dataset.patients]
    train_idx, test_idx = evaluate.split(ids, dataset.labels, seed=seed)
    train_set, test_set = dataset.subset(train_idx), dataset.subset(test_idx)
    spec = make_spec(train_set.patients, **spec_options)
    model = fit(feature_frame(train_set.patients, spec), train_set.labels, params, seed, threads=threads)
    classes = [str(c) for c in model.classes_]
    predicted = [str(p) for p in model.predict(feature_frame(test_set.patients, spec)).ravel()]
    sources = [p["source"] for p in test_set.patients]
    results = evaluate.by_source(sources, test_set.labels, predicted, classes)
    results["split"] = {
        "method": "StratifiedGroupKFold(5, shuffle) fold 0: 20% of patients held out, grouped by patient_id",
        "seed": seed,
        "train_rows": len(train_idx),
        "test_rows": len(test_idx),
        "test_patients": len(set(ids[i] for i in test_idx)),
    }
    return results, model, spec, len(train_idx)


def train(
    data_dir: str | Path,
    out: str | Path,
    *,
    seed: int = 0,
    params: dict | None = None,
    spec_options: dict | None = None,
    refit_all: bool = True,
    version: str | None = None,
    threads: int = -1,
) -> Path:
    """The whole recipe; returns the model directory."""
    params = {**DEFAULT_PARAMS, **(params or {})}
    spec_options = {**DEFAULT_SPEC, **(spec_options or {})}
    started = time.monotonic()
    dataset = data.load(data_dir, labels=True)
    log.info("loaded %d labelled rows from %s", len(dataset.patients), data_dir)
    results, model, spec, train_rows = holdout(dataset, params, spec_options, seed, threads)
    log.info("held-out:\n%s", evaluate.format_table({k: v for k, v in results.items() if k != "split"}))
    if refit_all:
        spec = make_spec(dataset.patients, **spec_options)
        model = fit(feature_frame(dataset.patients, spec), dataset.labels, params, seed, threads=threads)
        train_rows = len(dataset.patients)
    created = artifacts.now()
    manifest = {
        "version": version or artifacts.new_version(created, seed),
        "created": created.isoformat(),
        "git_commit": artifacts.git_commit(),
        "data_checksum": dataset.checksum,
        "data_files": dataset.files,
        "seed": seed,
        "trained_on": "all labelled patients" if refit_all else "the training patients of the split",
        "train_rows": train_rows,
        "train_seconds": round(time.monotonic() - started, 1),
    }
    config = {
        "task": "primary site of a tumour from its somatic mutations and clinical facts",
        "classes": [str(c) for c in model.classes_],
        "dropped_labels": [data.OTHER],
        "hyperparameters": {**FIXED_PARAMS, **params, "random_seed": seed},
        "spec_options": spec_options,
        "spec": spec,
        "feature_names": features.feature_names(spec),
        "categorical_features": list(features.CATEGORICAL),
        "known_values": {
            "sex": list(features.SEXES),
            "race": list(features.RACES),
            "variant_classes": sorted(features.VARIANT_CLASSES),
            "age_at_diagnosis": [0, 120],
        },
        "known_genes": sorted(dataset.genes),
    }
    table = {k: v for k, v in results.items() if k != "split"}
    return artifacts.write_model_dir(
        Path(out),
        save_model=lambda path: model.save_model(str(path)),
        manifest=manifest,
        config=config,
        metrics=results,
        plot=lambda path: evaluate.plot_confusion(table, path),
    )
