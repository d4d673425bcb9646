"""`gems model compare` and `gems model tune`: they only ever look at the reporting split's training patients."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gems.errors import InputError
from ml import cli, compare, data, evaluate, tune

SLICE = Path(__file__).resolve().parents[2] / "data" / "ml" / "tcga_slice"
TINY = {"iterations": 20, "depth": 3}


def test_inner_splits_never_touch_the_held_out_patients():
    dataset = data.load(SLICE, labels=True)
    ids = [p["patient_id"] for p in dataset.patients]
    _, held_out = evaluate.split(ids, dataset.labels, seed=4)
    held_out_ids = {ids[i] for i in held_out}
    pairs = compare.inner_splits(dataset, 2, seed=4)
    assert len(pairs) == 2
    for fit_set, valid_set in pairs:
        fit_ids = {p["patient_id"] for p in fit_set.patients}
        valid_ids = {p["patient_id"] for p in valid_set.patients}
        assert not fit_ids & held_out_ids and not valid_ids & held_out_ids
        # Grouped by patient: a tumour seen through one caller is not validated through the other.
        assert not fit_ids & valid_ids
    assert {p["patient_id"] for p in pairs[0][1].patients} != {p["patient_id"] for p in pairs[1][1].patients}


def test_compare_cli_scores_every_recipe_on_the_same_splits(tmp_path, capsys):
    recipes = tmp_path / "recipes.json"
    recipes.write_text(
        json.dumps(
            {
                "small": {"params": TINY, "spec": {"n_genes": 20, "n_codons": 0}},
                "with codons": {"params": TINY, "spec": {"n_genes": 20, "n_codons": 30}, "note": "why"},
            }
        )
    )
    out = tmp_path / "compare.json"
    argv = ["compare", "--data", str(SLICE), "--recipes", str(recipes), "--inner-splits", "2", "--seed", "1"]
    assert cli.main([*argv, "--threads", "2", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert list(result["recipes"]) == ["small", "with codons"]
    for row in result["recipes"].values():
        assert len(row["folds"]) == 2
        assert 0 <= row["Firehose"] <= 1 and 0 <= row["MC3"] <= 1
        assert row["mean"] == pytest.approx((row["Firehose"] + row["MC3"]) / 2, abs=1e-4)
        assert row["params"]["iterations"] == 20
    assert result["recipes"]["with codons"]["spec"]["n_codons"] == 30
    table = capsys.readouterr().out
    assert "small" in table and "with codons" in table


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{", "recipes"),
        ("[]", "expected an object"),
        ('{"a": {"params": {}, "spec": {"n_gene": 3}}}', "n_gene"),
        ('{"a": {"parms": {}}}', "parms"),
        ('{"a": {"fit_seed": -1}}', "fit_seed"),
        ('{"a": {"fit_seed": "one"}}', "fit_seed"),
    ],
)
def test_bad_recipe_files_are_clear_errors(tmp_path, text, fragment):
    path = tmp_path / "r.json"
    path.write_text(text)
    with pytest.raises(InputError, match=fragment):
        compare.read_recipes(path)


def test_fit_seed_changes_only_catboosts_seed_and_defaults_to_the_split_seed(monkeypatch):
    seen = []

    def fake_score(fit_set, valid_set, params, spec_options, seed, threads):
        seen.append((len(valid_set.patients), seed))
        return {"Firehose": 0.5, "MC3": 0.5}

    monkeypatch.setattr(compare, "score_recipe", fake_score)
    result = compare.compare(SLICE, {"a": {}, "b": {"fit_seed": 7}}, count=2, seed=3)
    assert [s for _, s in seen] == [3, 3, 7, 7]
    assert seen[0][0] == seen[2][0] and seen[1][0] == seen[3][0]  # same inner splits for both recipes
    assert result["recipes"]["a"]["fit_seed"] == 3 and result["recipes"]["b"]["fit_seed"] == 7


def test_tune_is_reproducible_from_its_seed(monkeypatch):
    real_space = tune._space

    def tiny_space(trial):
        params, spec = real_space(trial)
        return {**params, "iterations": params["iterations"] // 20}, {**spec, "n_genes": 20}

    monkeypatch.setattr(tune, "_space", tiny_space)
    first = tune.search(SLICE, trials=2, seed=2, threads=2)
    again = tune.search(SLICE, trials=2, seed=2, threads=2)

    def untimed(result):
        return [{k: v for k, v in t.items() if k != "seconds"} for t in result["history"]]

    assert first["trials"] == 2 and untimed(first) == untimed(again)
    assert first["best_params"] == again["best_params"] and first["best_spec"] == again["best_spec"]
    assert set(first["best_spec"]) <= set(compare.train.SPEC_KEYS)
    assert all(t["seconds"] >= 0 and 0 <= t["value"] <= 1 for t in first["history"])


def test_site_genes_are_the_genes_enriched_in_each_site():
    def patient(*genes):
        return {"mutations": [{"gene": g} for g in genes]}

    patients = (
        [patient("NPM1", "TTN")] * 6 + [patient("TTN")] * 4 + [patient("VHL")] * 5 + [patient("TTN")] * 5
    )
    labels = ["Hematopoietic"] * 10 + ["Kidney"] * 10
    assert compare.train.site_genes(patients, labels, 1) == ["NPM1", "VHL"]
    # Four patients are too few to call a gene a site's (MIN_SITE_GENE_PATIENTS).
    assert compare.train.site_genes(patients[4:], labels[4:], 1) == ["TTN", "VHL"]
    spec = compare.train.make_spec(
        patients,
        labels=labels,
        n_genes=1,
        n_hotspots=0,
        min_hotspot_patients=1,
        n_substitutions=0,
        n_site_genes=1,
    )
    assert spec["genes"] == ["TTN", "NPM1", "VHL"]
    with pytest.raises(ValueError, match="labels"):
        compare.train.make_spec(
            patients, n_genes=1, n_hotspots=0, min_hotspot_patients=1, n_substitutions=0, n_site_genes=1
        )
