"""Site scores: a naive-Bayes table over every mutated gene, scored out of fold for training rows."""

from __future__ import annotations

import math

import pytest

from ml import feature_matrix, features, train

TABLE = {"classes": ["Kidney", "Lung"], "genes": {"VHL": [1.0, -1.0], "KEAP1": [-0.5, 0.5]}}


def test_a_patients_scores_are_the_mean_of_its_genes_rows():
    assert features.site_scores({"VHL", "KEAP1", "NOT_IN_TABLE"}, TABLE) == [0.25, -0.25]
    assert features.site_scores({"VHL"}, TABLE) == [1.0, -1.0]


def test_no_known_gene_is_missing_not_zero_and_no_table_adds_nothing():
    assert features.site_scores({"NOT_IN_TABLE"}, TABLE) == [None, None]
    assert features.site_scores(set(), TABLE) == [None, None]
    assert features.site_scores({"VHL"}, None) == []


def test_site_scores_come_last_in_names_and_row():
    spec = {"genes": ["TP53"], "hotspots": [], "codons": ["KRAS:12"], "site_scores": TABLE}
    names = features.feature_names(spec)
    row = feature_matrix.build([{"mutated_genes": ["VHL", "TP53"]}], feature_matrix.Layout(spec)).rows()[0]
    assert names[-3:] == ["codon:KRAS:12", "site_score:Kidney", "site_score:Lung"]
    assert row[-2:] == [1.0, -1.0] and len(row) == len(names)
    # A spec without the table (older model directories) has no such columns.
    assert not any(n.startswith("site_score:") for n in features.feature_names({"genes": [], "hotspots": []}))


def patient(pid, source, *genes):
    return {"patient_id": pid, "source": source, "mutations": [{"gene": g} for g in genes]}


def test_table_is_centred_per_gene_and_points_at_the_site_that_carries_the_gene():
    patients = [patient(f"P{i}", "Firehose", "VHL", "TTN") for i in range(3)]
    patients += [patient(f"Q{i}", "Firehose", "KEAP1", "TTN") for i in range(3)]
    patients += [patient("R0", "Firehose", "RARE")]  # one patient: below SITE_SCORE_MIN_ROWS
    labels = ["Kidney"] * 3 + ["Lung"] * 4
    table = train.site_score_table(patients, labels, ["Kidney", "Lung"])
    assert set(table["genes"]) == {"VHL", "KEAP1", "TTN"}
    for values in table["genes"].values():
        assert sum(values) == pytest.approx(0, abs=1e-3)
    kidney, lung = table["genes"]["VHL"]
    assert kidney > 0 > lung
    assert table["genes"]["KEAP1"][1] > 0


def test_training_rows_are_scored_by_a_table_that_never_saw_their_patient():
    # Each patient has two rows (two callers) and a PRIVATE gene of its own on both: two rows pass
    # the floor, so the full table knows the private genes, but no other fold ever saw them.
    patients, labels = [], []
    for i in range(10):
        site = "Kidney" if i % 2 else "Lung"
        gene = "VHL" if site == "Kidney" else "KEAP1"
        for source in ("Firehose", "MC3"):
            patients.append(patient(f"P{i}", source, gene, f"PRIVATE{i}"))
            labels.append(site)
    spec = train.make_spec(
        patients, labels=labels, **{**train.DEFAULT_SPEC, "n_genes": 2, "n_codons": 0, "site_scores": 1}
    )
    assert "PRIVATE3" in spec["site_scores"]["genes"]
    in_sample = train.feature_frame(patients, spec)
    out_of_fold = train.training_frame(patients, labels, spec)
    columns = ["site_score:Kidney", "site_score:Lung"]
    # Both rows of a patient land in the same fold, so they get the same out-of-fold scores.
    for k in range(0, len(patients), 2):
        assert list(out_of_fold.loc[k, columns]) == list(out_of_fold.loc[k + 1, columns])
    # The site genes still point the right way out of fold, but less sharply than in sample,
    # where each patient's own mutations sit in the table that scores it.
    kidney_rows = [k for k, label in enumerate(labels) if label == "Kidney"]
    for k in kidney_rows:
        assert out_of_fold.loc[k, "site_score:Kidney"] > 0
        assert out_of_fold.loc[k, "site_score:Kidney"] != in_sample.loc[k, "site_score:Kidney"]
    assert not out_of_fold[columns].isna().any().any()
    assert all(not math.isnan(v) for v in in_sample.loc[0, columns])


def test_site_scores_need_labels():
    with pytest.raises(ValueError, match="labels"):
        train.make_spec([patient("P", "MC3", "VHL")], **{**train.DEFAULT_SPEC, "site_scores": 1})
