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
import math
import time
from pathlib import Path

from ml import artifacts, calibration, data, evaluate, features

log = logging.getLogger(__name__)

# The committed model's hyperparameters: depth, L2, borders and class weights from the ml.tune
# search (stage 1), rounds and rate from `gems model compare` over three inner splits and two
# CatBoost seeds (stage 2, ml/recipes.json); docs/model.md records both. Depth 6 scored no better
# than 4 once seed luck was averaged out, at 3.5x the CPU.
DEFAULT_PARAMS: dict = {
    "iterations": 1000,
    "learning_rate": 0.05,
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
    "n_site_genes": 0,
    "site_scores": 1,
}
FIXED_PARAMS = {"loss_function": "MultiClass", "one_hot_max_size": 8, "boosting_type": "Plain", "verbose": 0}
SPEC_KEYS = tuple(DEFAULT_SPEC)


def _genes_hit(patient: dict) -> set[str]:
    """Genes with a non-silent mutation, from the detailed list and the bare symbol list."""
    return {m["gene"] for m in patient.get("mutations") or []} | set(patient.get("mutated_genes") or [])


def make_spec(
    patients: list[dict],
    *,
    n_genes: int,
    n_hotspots: int,
    min_hotspot_patients: int,
    n_substitutions: int,
    n_codons: int = 0,
    n_site_genes: int = 0,
    site_scores: int = 0,
    labels: list[str] | None = None,
) -> dict:
    """Genes, hotspots (GENE:p.X), substitutions and hotspot codons (GENE:pos), most frequent first.

    With `n_site_genes` (needs `labels`), the genes most enriched in each site are added after the
    frequent ones: frequency alone favours long genes hit in high-burden tumours and misses the
    drivers of rare, quiet ones (NPM1, MYD88, CD79B, BAP1 are not among the 600 most frequent).
    With `site_scores` (needs `labels`), the spec carries a per-gene site table over every mutated
    gene (site_score_table); fit on `training_frame`, never `feature_frame`, so the model learns the
    scores' worth on patients the table has not seen.
    """
    gene_patients: collections.Counter = collections.Counter()
    hotspot_patients: collections.Counter = collections.Counter()
    substitutions: collections.Counter = collections.Counter()
    codon_patients: collections.Counter = collections.Counter()
    for patient in patients:
        mutations = patient.get("mutations") or []
        gene_patients.update(_genes_hit(patient))
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

    genes = top(gene_patients, n_genes)
    if (n_site_genes or site_scores) and labels is None:
        raise ValueError("n_site_genes and site_scores need the training labels")
    if n_site_genes:
        frequent = set(genes)
        genes += [g for g in site_genes(patients, labels, n_site_genes) if g not in frequent]
    spec = {
        "genes": genes,
        "hotspots": top(hotspot_patients, n_hotspots, min_hotspot_patients),
        "substitutions": top(substitutions, n_substitutions),
        "codons": top(codon_patients, n_codons, min_hotspot_patients),
    }
    if site_scores:
        spec["site_scores"] = site_score_table(patients, labels, sorted(set(labels)))
    return spec


SITE_SCORE_MIN_ROWS = 2
SITE_SCORE_FOLDS = 5


def _hits_per_site(patients: list[dict], labels: list[str]) -> tuple[dict, collections.Counter]:
    """Per site, rows with a non-silent mutation in each gene; and the same over all sites."""
    hits: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    overall: collections.Counter = collections.Counter()
    for patient, label in zip(patients, labels, strict=True):
        genes = _genes_hit(patient)
        hits[label].update(genes)
        overall.update(genes)
    return hits, overall


def site_score_table(patients: list[dict], labels: list[str], classes: list[str]) -> dict:
    """Naive-Bayes gene weights per site: log P(gene | site) with add-one smoothing, centred per gene.

    Over every gene mutated in at least SITE_SCORE_MIN_ROWS training rows (19,583 for the default),
    not just the columns: passenger genes are individually weak, but tissues differ in which genes
    pick up mutations (expression, replication timing), and together they help quiet tumours whose
    few mutations miss every frequent gene. Rounded to 4 decimals to keep config.json small.
    """
    hits, overall = _hits_per_site(patients, labels)
    vocabulary = sorted(g for g, n in overall.items() if n >= SITE_SCORE_MIN_ROWS)
    totals = {c: sum(hits[c][g] for g in vocabulary) + len(vocabulary) for c in classes}
    table = {}
    for gene in vocabulary:
        logs = [math.log((hits[c][gene] + 1) / totals[c]) for c in classes]
        centre = sum(logs) / len(logs)
        table[gene] = [round(v - centre, 4) for v in logs]
    return {"classes": list(classes), "genes": table}


def training_frame(patients: list[dict], labels: list[str], spec: dict):
    """The frame to fit on: `feature_frame`, with site scores taken out of fold when the spec has them.

    A table built on a patient scores that patient too well (its own genes count), so a model fit
    on in-sample scores would trust them far more than they deserve on new patients. Each training
    row is scored by a table from the other folds (grouped by patient: a patient's Firehose and MC3
    rows share a fold); serving uses the spec's table from all of them.
    """
    table = spec.get("site_scores")
    if not table:
        return feature_frame(patients, spec)
    from sklearn.model_selection import GroupKFold

    # Site scores are the last columns (features.feature_names): build the rest, then append them.
    frame = feature_frame(patients, {k: v for k, v in spec.items() if k != "site_scores"})
    scores: list[list] = [[]] * len(patients)
    groups = [p["patient_id"] for p in patients]
    for fit_idx, score_idx in GroupKFold(SITE_SCORE_FOLDS).split(patients, labels, groups):
        fold_table = site_score_table(
            [patients[i] for i in fit_idx], [labels[i] for i in fit_idx], table["classes"]
        )
        for i in score_idx:
            scores[i] = [
                float("nan") if v is None else v
                for v in features.site_scores(_genes_hit(patients[i]), fold_table)
            ]
    for k, site in enumerate(table["classes"]):
        frame[f"site_score:{site}"] = [float(row[k]) for row in scores]
    return frame


MIN_SITE_GENE_PATIENTS = 5


def site_genes(patients: list[dict], labels: list[str], per_site: int) -> list[str]:
    """For each site (by name), the `per_site` genes most enriched in it over the other sites.

    Enrichment is the ratio of the fractions of patients with a non-silent mutation in the gene,
    in the site and outside it (+0.5 / +1 to keep small counts finite); a gene needs at least
    MIN_SITE_GENE_PATIENTS patients of the site. Ties by name, so the list is reproducible.
    """
    per_label = collections.Counter(labels)
    hits, overall = _hits_per_site(patients, labels)
    chosen: list[str] = []
    for site in sorted(per_label):
        inside, outside = per_label[site], len(labels) - per_label[site]
        scored = sorted(
            (-((a + 0.5) / (inside + 1)) / ((overall[g] - a + 0.5) / (outside + 1)), g)
            for g, a in hits[site].items()
            if a >= MIN_SITE_GENE_PATIENTS
        )
        chosen += [g for _, g in scored[:per_site]]
    return list(dict.fromkeys(chosen))


PROFILES_PER_SEX = 24


def clinical_profiles(frame, per_sex: int = PROFILES_PER_SEX) -> dict:
    """Real training patients with every clinical fact known, spread evenly over age, per sex.

    The API averages the model over these when a caller leaves a fact out (features.with_profiles).
    """
    missing = features.MISSING_CATEGORY
    known = frame[
        (frame["race"] != missing)
        & (frame["prior_malignancy"] != missing)
        & frame["age_at_diagnosis"].notna()
    ]
    profiles = {}
    for sex in features.SEXES:
        rows = known[known["sex"] == sex].sort_values(
            ["age_at_diagnosis", "race", "prior_malignancy"], kind="stable"
        )
        picks = [rows.iloc[int((i + 0.5) * len(rows) / per_sex)] for i in range(per_sex)] if len(rows) else []
        profiles[sex] = [
            {
                "sex": sex,
                "race": str(r["race"]),
                "prior_malignancy": str(r["prior_malignancy"]),
                "age_at_diagnosis": float(r["age_at_diagnosis"]),
            }
            for r in picks
        ]
    return profiles


def feature_frame(patients: list[dict], spec: dict):
    from ml import feature_matrix

    return feature_matrix.build(patients, feature_matrix.Layout(spec)).frame()


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


def fit_recipe(fit_set: data.Dataset, params: dict, spec_options: dict, seed: int, threads: int = -1):
    """The recipe's spec chosen from `fit_set` alone, and the model fit on it: (model, spec)."""
    spec = make_spec(fit_set.patients, labels=fit_set.labels, **spec_options)
    frame = training_frame(fit_set.patients, fit_set.labels, spec)
    return fit(frame, fit_set.labels, params, seed, threads=threads), spec


def score(model, frame, dataset: data.Dataset) -> dict:
    """Metrics per caller source (ml.evaluate.by_source) of `model` on `dataset`, whose rows are `frame`."""
    predicted = [str(p) for p in model.predict(frame).ravel()]
    sources = [p["source"] for p in dataset.patients]
    return evaluate.by_source(sources, dataset.labels, predicted, [str(c) for c in model.classes_])


def calibrate(model, frame, dataset: data.Dataset) -> dict:
    """Temperature scaling on the held-out patients' predictions (ml.calibration.report)."""
    classes = [str(c) for c in model.classes_]
    truth = [classes.index(label) for label in dataset.labels]
    config, measured = calibration.report(
        model.predict_proba(frame),
        truth,
        [p["patient_id"] for p in dataset.patients],
        [p["source"] for p in dataset.patients],
    )
    return {**measured, "config": config}


def holdout(
    dataset: data.Dataset, params: dict, spec_options: dict, seed: int, threads: int = -1
) -> tuple[dict, object, dict, int]:
    """Fit on the training patients of the split, score the held-out ones: (metrics, model, spec, rows)."""
    ids = [p["patient_id"] for p in dataset.patients]
    train_idx, test_idx = evaluate.split(ids, dataset.labels, seed=seed)
    train_set, test_set = dataset.subset(train_idx), dataset.subset(test_idx)
    model, spec = fit_recipe(train_set, params, spec_options, seed, threads)
    test_frame = feature_frame(test_set.patients, spec)
    results = score(model, test_frame, test_set)
    results["calibration"] = calibrate(model, test_frame, test_set)
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
    table = {k: v for k, v in results.items() if k not in ("split", "calibration")}
    log.info("held-out:\n%s", evaluate.format_table(table))
    if refit_all:
        model, spec = fit_recipe(dataset, params, spec_options, seed, threads)
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
        # Filled in for the facts an API caller leaves out (features.with_profiles); drawn from every
        # labelled patient, which the held-out metrics above never use.
        "clinical_profiles": clinical_profiles(
            feature_frame(dataset.patients, {"genes": [], "hotspots": []})
        ),
    }
    calibrated = results["calibration"]
    # T fit on the split's held-out patients serves the model refit on every patient: the same
    # recipe on 25% more rows, so its confidence is close to the split model's.
    config["calibration"] = calibrated.pop("config")
    return artifacts.write_model_dir(
        Path(out),
        save_model=lambda path: model.save_model(str(path)),
        manifest=manifest,
        config=config,
        metrics=results,
        plot=lambda path: evaluate.plot_confusion(table, path),
        extra_plots={artifacts.RELIABILITY: lambda path: calibration.plot(calibrated, path)},
    )
