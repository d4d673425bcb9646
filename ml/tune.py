"""A reproducible hyperparameter and feature-size search (Optuna, TPE sampler with a fixed seed).

It never looks at the reporting split's held-out patients: the search splits the *training*
patients of that split again (patient-grouped, another seed) and scores trials on the inner
validation patients, by the mean of the Firehose and MC3 macro-F1 (both sources count equally,
so the search cannot buy one source with the other). Same data + seed + trial count -> same
trials and the same answer on CPU (`--timeout` trades that for a bounded run time).

    gems model tune --data ../shared/data/tcga --trials 12 --seed 0 --out tune.json
"""

from __future__ import annotations

import logging
import time

from ml import compare, data, train

log = logging.getLogger(__name__)


def _space(trial) -> tuple[dict, dict]:
    # Bounded so one trial fits a couple of CPU minutes (depth > 6 or > 600 rounds cost 3-10x more
    # for no gain in the first experiments, recorded in docs/model.md).
    params = {
        "iterations": trial.suggest_int("iterations", 200, 600, step=100),
        "learning_rate": trial.suggest_float("learning_rate", 0.06, 0.3, log=True),
        "depth": trial.suggest_int("depth", 4, 6),
        "l2_leaf_reg": trial.suggest_float("l2_leaf_reg", 1.0, 10.0, log=True),
        "border_count": 32,
        "auto_class_weights": trial.suggest_categorical("auto_class_weights", ["None", "SqrtBalanced"]),
    }
    if params["auto_class_weights"] == "None":
        del params["auto_class_weights"]
    spec = {
        "n_genes": trial.suggest_categorical("n_genes", [300, 600]),
        "n_hotspots": trial.suggest_categorical("n_hotspots", [100, 150, 250]),
        "min_hotspot_patients": trial.suggest_categorical("min_hotspot_patients", [3, 5]),
        "n_substitutions": trial.suggest_categorical("n_substitutions", [40, 80]),
        # Stage 1 of the search, as run and recorded in docs/model.md; codons, site scores and the
        # rounds were chosen after it by `gems model compare` over three inner splits (stage 2).
        "n_codons": 0,
        "site_scores": 0,
    }
    return params, spec


def search(
    data_dir, *, trials: int = 24, seed: int = 0, timeout: float | None = None, threads: int = -1
) -> dict:
    import optuna

    dataset = data.load(data_dir, labels=True)
    [(fit_set, valid_set)] = compare.inner_splits(dataset, 1, seed)
    frames: dict = {}

    def objective(trial) -> float:
        params, spec_options = _space(trial)
        key = tuple(sorted(spec_options.items()))
        if key not in frames:
            spec = train.make_spec(fit_set.patients, labels=fit_set.labels, **spec_options)
            frames[key] = (
                train.training_frame(fit_set.patients, fit_set.labels, spec),
                train.feature_frame(valid_set.patients, spec),
            )
        fit_frame, valid_frame = frames[key]
        started = time.monotonic()
        model = train.fit(fit_frame, fit_set.labels, params, seed, threads=threads)
        results = train.score(model, valid_frame, valid_set)
        score = (results["Firehose"]["macro_f1"] + results["MC3"]["macro_f1"]) / 2
        trial.set_user_attr("firehose_macro_f1", results["Firehose"]["macro_f1"])
        trial.set_user_attr("mc3_macro_f1", results["MC3"]["macro_f1"])
        trial.set_user_attr("seconds", round(time.monotonic() - started, 1))
        log.info(
            "trial %d: %.4f (Firehose %.4f, MC3 %.4f) %s",
            trial.number,
            score,
            results["Firehose"]["macro_f1"],
            results["MC3"]["macro_f1"],
            trial.params,
        )
        return score

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=6)
    )
    study.optimize(objective, n_trials=trials, timeout=timeout)
    best = study.best_trial
    params, spec_options = _space(optuna.trial.FixedTrial(best.params))
    return {
        "seed": seed,
        "trials": len(study.trials),
        "objective": "mean of Firehose and MC3 macro-F1 on inner validation patients (training patients of the reporting split)",
        "best_value": round(best.value, 4),
        "best_params": params,
        "best_spec": spec_options,
        "history": [
            {
                "number": t.number,
                "value": None if t.value is None else round(t.value, 4),
                "params": t.params,
                **t.user_attrs,
            }
            for t in study.trials
        ],
    }
