"""Compare whole training recipes on several inner validation splits, never on held-out patients.

One inner split moves macro-F1 by about +-0.01 between runs of the same recipe (21-163 patients
per site), which is as large as most changes worth trying; averaging k inner splits is what lets a
feature family or a model size be chosen without looking at the reporting split. Like the tuner,
it splits only the *training* patients of the reporting split (`seed`), again patient-grouped and
stratified (seeds `seed + 1 ... seed + k`).

    gems model compare --data ../shared/data/tcga --recipes ml/recipes.json --inner-splits 3

A recipes file maps a name to `{"params": {...}, "spec": {...}}`: CatBoost hyperparameters and
feature-spec options, each merged over `ml.train.DEFAULT_PARAMS` / `DEFAULT_SPEC` as they are in
the code that runs it, so a file that spells every value out reproduces its figures forever. An
optional `"fit_seed"` changes only CatBoost's random seed (default: `--seed`), which measures how
much of a difference between recipes is seed luck rather than the recipe.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from statistics import mean

from gems.errors import InputError
from ml import data, evaluate, train

log = logging.getLogger(__name__)


def development(dataset: data.Dataset, seed: int) -> data.Dataset:
    """The training patients of the reporting split: everything a search may look at."""
    ids = [p["patient_id"] for p in dataset.patients]
    outer_train, _ = evaluate.split(ids, dataset.labels, seed=seed)
    return dataset.subset(outer_train)


def inner_splits(dataset: data.Dataset, count: int, seed: int) -> list[tuple[data.Dataset, data.Dataset]]:
    """`count` (fit, validation) pairs drawn from the development patients only."""
    dev = development(dataset, seed)
    dev_ids = [p["patient_id"] for p in dev.patients]
    pairs = []
    for k in range(count):
        fit_idx, valid_idx = evaluate.split(dev_ids, dev.labels, seed=seed + 1 + k)
        pairs.append((dev.subset(fit_idx), dev.subset(valid_idx)))
    return pairs


def score_recipe(
    fit_set: data.Dataset, valid_set: data.Dataset, params: dict, spec_options: dict, seed: int, threads: int
) -> dict:
    """Fit one recipe on one inner split: macro-F1 per source on its validation patients."""
    model, spec = train.fit_recipe(fit_set, params, spec_options, seed, threads)
    results = train.score(model, train.feature_frame(valid_set.patients, spec), valid_set)
    return {s: results[s]["macro_f1"] for s in evaluate.SOURCES if s in results}


def read_recipes(path: str | Path) -> dict[str, dict]:
    try:
        recipes = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"--recipes {path}: {exc}") from exc
    if not isinstance(recipes, dict) or not recipes:
        raise InputError(f"--recipes {path}: expected an object of name -> {{params, spec}}")
    for name, recipe in recipes.items():
        unknown = (
            set(recipe) - {"params", "spec", "note", "fit_seed"}
            if isinstance(recipe, dict)
            else {"(not an object)"}
        )
        bad_spec = set((recipe or {}).get("spec") or {}) - set(train.SPEC_KEYS) if not unknown else set()
        if unknown or bad_spec:
            raise InputError(
                f"--recipes {path}: recipe {name!r}: unknown key(s) {', '.join(sorted(unknown | bad_spec))}"
            )
        fit_seed = recipe.get("fit_seed", 0)
        if not isinstance(fit_seed, int) or isinstance(fit_seed, bool) or fit_seed < 0:
            raise InputError(f"--recipes {path}: recipe {name!r}: fit_seed must be a whole number >= 0")
    return recipes


def compare(data_dir, recipes: dict[str, dict], *, count: int = 3, seed: int = 0, threads: int = -1) -> dict:
    """Every recipe on the same `count` inner splits: per-split and mean macro-F1 per source."""
    dataset = data.load(data_dir, labels=True)
    splits = inner_splits(dataset, count, seed)
    rows = {}
    for name, recipe in recipes.items():
        params = {**train.DEFAULT_PARAMS, **(recipe.get("params") or {})}
        spec_options = {**train.DEFAULT_SPEC, **(recipe.get("spec") or {})}
        fit_seed = recipe.get("fit_seed", seed)
        started = time.monotonic()
        folds = [score_recipe(f, v, params, spec_options, fit_seed, threads) for f, v in splits]
        per_source = {
            s: round(mean(f[s] for f in folds), 4) for s in evaluate.SOURCES if all(s in f for f in folds)
        }
        rows[name] = {
            **per_source,
            "mean": round(mean(per_source.values()), 4),
            "folds": folds,
            "params": params,
            "spec": spec_options,
            "fit_seed": fit_seed,
            "seconds": round(time.monotonic() - started, 1),
        }
        log.info("%s: %s", name, {k: v for k, v in rows[name].items() if k not in ("params", "spec")})
    return {
        "seed": seed,
        "inner_splits": count,
        "objective": "macro-F1 per source on inner validation patients, mean over the inner splits",
        "recipes": rows,
    }


def format_table(result: dict) -> str:
    lines = [f"{'recipe':36s} {'Firehose':>9s} {'MC3':>7s} {'mean':>7s} {'seconds':>8s}"]
    for name, row in result["recipes"].items():
        lines.append(
            f"{name:36s} {row.get('Firehose', float('nan')):9.4f} {row.get('MC3', float('nan')):7.4f}"
            f" {row['mean']:7.4f} {row['seconds']:8.0f}"
        )
    return "\n".join(lines)
