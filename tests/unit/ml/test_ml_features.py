"""The feature rows: values, order, and that nothing in them tells which caller made a row."""

from __future__ import annotations

import math

import pytest

from ml import feature_matrix, features

SPEC = {
    "genes": ["TP53", "KRAS", "APC"],
    "hotspots": ["KRAS:p.G12D", "BRAF:p.V600E"],
    "substitutions": ["R>H", "G>D", "E>K"],
}


def build_row(patient, spec=SPEC):
    return feature_matrix.build([patient], feature_matrix.Layout(spec)).rows()[0]


def row_dict(patient, spec=SPEC):
    return dict(zip(features.feature_names(spec), build_row(patient, spec), strict=True))


def test_names_and_row_have_the_same_length_and_order():
    row = build_row({"mutated_genes": ["TP53"]}, SPEC)
    names = features.feature_names(SPEC)
    assert len(row) == len(names) == 3 + len(features.NUMERIC) + 3 + 2 + 3
    assert names[:3] == list(features.CATEGORICAL)
    assert names[-1] == "aa:E>K"


def test_values_for_a_patient_with_classes_hotspots_and_counts():
    patient = {
        "age_at_diagnosis": 61.5,
        "sex": "Female",
        "race": "asian",
        "prior_malignancy": 1,
        "mutations": [
            {"gene": "TP53", "variant_class": "Missense_Mutation", "protein_change": "p.R175H"},
            {"gene": "TP53", "variant_class": "Nonsense_Mutation", "protein_change": "p.R213*"},
            {"gene": "KRAS", "variant_class": "Missense_Mutation", "protein_change": "p.G12D"},
            {"gene": "APC", "variant_class": "Frame_Shift_Del", "protein_change": "p.T1556fs"},
            {"gene": "ZNF99", "variant_class": "In_Frame_Del"},
        ],
        "n_silent": 5,
    }
    f = row_dict(patient)
    assert (f["sex"], f["race"], f["prior_malignancy"]) == ("female", "asian", "yes")
    assert f["age_at_diagnosis"] == 61.5
    assert f["n_nonsilent"] == 5 and f["n_silent"] == 5
    assert (f["n_missense"], f["n_truncating"], f["n_inframe"], f["n_frameshift"]) == (2, 2, 1, 1)
    assert f["n_genes_mutated"] == 4
    assert f["frac_truncating"] == pytest.approx(2 / 5)
    assert f["frac_silent"] == pytest.approx(0.5)
    # The worst class seen in a gene wins: TP53 has a nonsense mutation -> truncating (2).
    assert (f["gene:TP53"], f["gene:KRAS"], f["gene:APC"]) == (2, 1, 2)
    assert (f["hotspot:KRAS:p.G12D"], f["hotspot:BRAF:p.V600E"]) == (1, 0)
    # Spectrum over the 3 single amino-acid substitutions (R>H, R>*, G>D).
    assert f["aa:R>H"] == pytest.approx(1 / 3) and f["aa:G>D"] == pytest.approx(1 / 3) and f["aa:E>K"] == 0


def test_unknowns_are_missing_not_guesses():
    f = row_dict({"mutated_genes": ["KRAS"], "prior_malignancy": -1, "race": "martian"})
    assert (f["sex"], f["race"], f["prior_malignancy"]) == ("unknown", "unknown", "unknown")
    assert f["age_at_diagnosis"] is None and f["n_silent"] is None and f["frac_silent"] is None
    assert f["n_nonsilent"] == 1 and f["gene:KRAS"] == 1
    assert all(f[f"aa:{a}"] is None for a in SPEC["substitutions"])


def test_explicit_burden_is_kept_but_never_below_the_listed_mutations():
    assert row_dict({"mutated_genes": ["TP53"], "n_nonsilent": 250})["n_nonsilent"] == 250
    assert row_dict({"mutated_genes": ["TP53", "KRAS"], "n_nonsilent": 1})["n_nonsilent"] == 2


def test_nan_age_and_nan_prior_from_pandas_are_missing():
    f = row_dict(
        {
            "mutated_genes": ["TP53"],
            "age_at_diagnosis": math.nan,
            "prior_malignancy": math.nan,
            "sex": math.nan,
        }
    )
    assert f["age_at_diagnosis"] is None and f["prior_malignancy"] == "unknown" and f["sex"] == "unknown"


def test_the_caller_that_made_a_row_changes_nothing():
    base = {"mutated_genes": ["TP53"], "age_at_diagnosis": 50}
    rows = [build_row({**base, "source": s, "patient_id": f"P{s}"}, SPEC) for s in ("Firehose", "MC3")]
    assert rows[0] == rows[1]
    assert not any(n in ("source", "deceased", "cohort") for n in features.feature_names(SPEC))


def test_a_batch_gives_each_patient_the_row_it_gets_alone():
    spec = {**SPEC, "codons": ["KRAS:12", "TP53:175"]}
    batch = [
        {"mutations": [{"gene": "KRAS", "variant_class": "Missense_Mutation", "protein_change": "p.G12D"}]},
        {},
        {"mutated_genes": ["TP53", "TP53"], "sex": "male"},
        {
            "mutations": [
                {"gene": "TP53", "protein_change": "p.R175H"},
                {"gene": "TP53", "protein_change": "p.R175H"},  # the same change twice, parsed once
                {"gene": "KRAS", "protein_change": "p.G12D\nKRAS"},  # a newline cannot split a reading
                {"gene": "KRAS", "protein_change": "p.G12V"},
                {"gene": "APC", "protein_change": None},
            ]
        },
    ]
    together = feature_matrix.build(batch, feature_matrix.Layout(spec)).rows()
    assert together == [build_row(p, spec) for p in batch]
    names = features.feature_names(spec)
    last = dict(zip(names, together[3], strict=True))
    assert (last["codon:KRAS:12"], last["codon:TP53:175"], last["hotspot:KRAS:p.G12D"]) == (1, 1, 0)
    assert last["aa:R>H"] == pytest.approx(2 / 3)
    assert feature_matrix.build([], feature_matrix.Layout(spec)).rows() == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("p.R175H", "R>H"),
        ("p.R213*", "R>*"),
        ("p.T1556fs", None),
        ("p.R175R", None),
        (None, None),
        ("BRCA", None),
    ],
)
def test_substitution(change, expected):
    assert features.substitution(change) == expected


def test_hotspot_key_ignores_anything_that_is_not_a_protein_change():
    # Some MC3 rows carry the cohort name where the protein change belongs: never a feature.
    assert features.hotspot_key("PIK3CA", "BRCA") is None
    assert features.hotspot_key("BRAF", "p.V600E") == "BRAF:p.V600E"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("p.R132H", "IDH1:132"),
        # Firehose and MC3 spell NPM1's insertion differently; the codon is the same.
        ("p.WQ288fs", "IDH1:288"),
        ("p.W288Cfs*12", "IDH1:288"),
        ("p.599_600insDFREYEY", "IDH1:599"),
        ("p.X685_splice", "IDH1:685"),
        ("BRCA", None),
        (None, None),
    ],
)
def test_codon_key(change, expected):
    assert features.codon_key("IDH1", change) == expected


def test_codons_come_last_and_match_across_caller_notations():
    spec = {**SPEC, "codons": ["NPM1:288", "IDH1:132"]}
    names = features.feature_names(spec)
    assert names[-2:] == ["codon:NPM1:288", "codon:IDH1:132"]
    # Without codons in the spec (models trained before them) the row is what it was.
    assert names[: len(features.feature_names(SPEC))] == features.feature_names(SPEC)
    for change in ("p.WQ288fs", "p.W288Cfs*12"):
        patient = {
            "mutations": [{"gene": "NPM1", "variant_class": "Frame_Shift_Ins", "protein_change": change}]
        }
        f = row_dict(patient, spec)
        assert (f["codon:NPM1:288"], f["codon:IDH1:132"]) == (1, 0)
    f = row_dict({"mutations": [{"gene": "IDH1", "protein_change": "p.R132C"}]}, spec)
    assert (f["codon:NPM1:288"], f["codon:IDH1:132"]) == (0, 1)


def test_module_is_pure_python():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(features))
    imported = {
        a.name.split(".")[0]
        for n in ast.walk(tree)
        if isinstance(n, ast.Import | ast.ImportFrom)
        for a in getattr(n, "names", [])
    }
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not imported & {"numpy", "pandas", "catboost", "sklearn", "flask"}


PROFILES = {
    "female": [
        {"sex": "female", "race": "white", "prior_malignancy": "no", "age_at_diagnosis": 40.0},
        {"sex": "female", "race": "asian", "prior_malignancy": "yes", "age_at_diagnosis": 70.0},
    ],
    "male": [{"sex": "male", "race": "black", "prior_malignancy": "no", "age_at_diagnosis": 55.0}],
}


def test_not_given_lists_the_clinical_facts_left_out():
    assert (
        features.not_given({"sex": "female", "race": "white", "prior_malignancy": 0, "age_at_diagnosis": 50})
        == []
    )
    # TCGA's recorded "unknown" (-1) is a value; a field the caller left out, or NaN, is not given.
    assert features.not_given({"sex": "female", "prior_malignancy": -1, "age_at_diagnosis": math.nan}) == [
        "race",
        "age_at_diagnosis",
    ]


def test_missing_facts_are_filled_from_profiles_of_the_same_sex():
    patient = {"sex": "female", "race": "black", "mutated_genes": ["TP53"]}
    row = build_row(patient, SPEC)
    copies = features.with_profiles(row, features.not_given(patient), PROFILES)
    assert len(copies) == 2
    # Given facts stay; missing ones come from each profile; the mutation part is untouched.
    assert [c[:4] for c in copies] == [["female", "black", "no", 40.0], ["female", "black", "yes", 70.0]]
    assert all(c[4:] == row[4:] for c in copies)
    # Sex itself missing: every profile, both sexes.
    row = build_row({"mutated_genes": ["TP53"]}, SPEC)
    assert [c[0] for c in features.with_profiles(row, ["sex"], PROFILES)] == ["female", "female", "male"]
    # Nothing missing, or a model without profiles: the row as it is.
    assert features.with_profiles(row, [], PROFILES) == [row]
    assert features.with_profiles(row, ["race"], {}) == [row]
