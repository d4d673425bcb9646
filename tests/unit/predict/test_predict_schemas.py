"""POST /predict's schema: what a valid patient becomes, and a clear 400 for each bad input."""

from __future__ import annotations

import math

import pytest

from app.load import load
from app.predict.schemas import MAX_BATCH, MAX_GENES, BatchSchema, PatientSchema
from gems.errors import ValidationError


def bad(body: dict, schema=PatientSchema) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        load(schema(), body)
    assert caught.value.status == 400
    return caught.value


def test_a_valid_patient_becomes_the_feature_builders_dict():
    patient = load(
        PatientSchema(),
        {
            "mutated_genes": ["tp53", "KRAS"],
            "variant_classes": {"TP53": "Nonsense_Mutation"},
            "mutations": [
                {"gene": "BRAF", "variant_class": "Missense_Mutation", "protein_change": "p.V600E"}
            ],
            "age_at_diagnosis": 61,
            "sex": "female",
            "prior_malignancy": False,
        },
    )
    assert patient["mutations"] == [
        {"gene": "BRAF", "variant_class": "Missense_Mutation", "protein_change": "p.V600E"},
        {"gene": "TP53", "variant_class": "Nonsense_Mutation"},
        {"gene": "KRAS"},
    ]
    assert (
        patient["age_at_diagnosis"] == 61.0 and patient["prior_malignancy"] == 0 and patient["race"] is None
    )


def test_listed_mutations_come_out_canonical_without_empty_fields():
    patient = load(
        PatientSchema(),
        {
            "mutations": [
                {"gene": "kras", "variant_class": "Missense_Mutation", "protein_change": None},
                {"gene": " TP53 ", "protein_change": "p.R175H"},
                {"gene": "Braf", "variant_class": None},
            ]
        },
    )
    assert patient["mutations"] == [
        {"gene": "KRAS", "variant_class": "Missense_Mutation"},
        {"gene": "TP53", "protein_change": "p.R175H"},
        {"gene": "BRAF"},
    ]


def test_the_first_bad_listed_mutation_is_named_after_good_ones():
    good = [{"gene": "KRAS"}] * 3
    assert bad({"mutations": [*good, {"gene": "KRAS", "colour": "red"}]}).field == "mutations.3.colour"
    assert bad({"mutations": [*good, {"gene": "KRAZ"}]}).field == "mutations.3.gene"
    error = bad({"mutations": [*good, {"gene": "KRAS", "protein_change": "V600E"}]})
    assert error.field == "mutations.3.protein_change" and "p.V600E" in error.message


def test_a_misspelt_gene_names_the_field_and_suggests_the_symbol():
    error = bad({"mutated_genes": ["KRAS", "TP35"]})
    assert error.field == "mutated_genes.1"
    assert "unknown gene symbol 'TP35'" in error.message and "did you mean 'TP53'" in error.message


def test_every_problem_in_a_mutation_list_is_listed_the_first_one_named():
    error = bad(
        {
            "mutations": [
                {"gene": "KRAS", "protein_change": "p.G12D"},
                {"gene": "EGRF"},
                {"gene": "BRAF", "protein_change": "V600E"},
            ]
        }
    )
    assert error.field == "mutations.1.gene" and "did you mean 'EGFR'" in error.message
    listed = error.details["fields"]["mutations"]
    assert sorted(listed) == [1, 2] and list(listed[2]) == ["protein_change"]


def test_a_made_up_gene_is_refused_without_a_wild_guess():
    error = bad({"mutations": [{"gene": "NOTAGENE12345"}]})
    assert error.field == "mutations.0.gene" and "unknown gene symbol" in error.message


def test_empty_body_is_refused():
    error = bad({})
    assert error.field == "mutated_genes" and "give mutated_genes or mutations" in error.message


def test_ten_thousand_genes_are_refused():
    error = bad({"mutated_genes": ["TP53"] * 10_000})
    assert error.field == "mutated_genes" and f"at most {MAX_GENES}" in error.message


@pytest.mark.parametrize("age", [-1, 121, math.nan, math.inf, "NaN", "sixty", "61", True])
def test_bad_ages_are_refused(age):
    error = bad({"mutated_genes": ["TP53"], "age_at_diagnosis": age})
    assert error.field == "age_at_diagnosis"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n_nonsilent", "12"),
        ("n_nonsilent", -3),
        ("n_silent", 1.5),
        ("sex", "f"),
        ("race", 7),
        ("prior_malignancy", "maybe"),
    ],
)
def test_wrong_types_and_values_are_refused(field, value):
    assert bad({"mutated_genes": ["TP53"], field: value}).field == field


def test_unknown_fields_and_bad_classes_are_refused():
    assert bad({"mutated_genes": ["TP53"], "deceased": 1}).field == "deceased"
    assert bad({"mutated_genes": ["TP53"], "variant_classes": {"TP53": "Nasty"}}).field.startswith(
        "variant_classes"
    )
    assert (
        bad({"mutated_genes": ["TP53"], "variant_classes": {"KRAS": "missense"}}).field
        == "variant_classes.KRAS"
    )
    assert (
        bad({"mutations": [{"gene": "BRAF", "protein_change": "V600E"}]}).field
        == "mutations.0.protein_change"
    )


def test_batches_are_capped_and_errors_point_into_the_batch():
    assert len(load(BatchSchema(), {"patients": [{"mutated_genes": ["TP53"]}] * 3})["patients"]) == 3
    assert bad({"patients": []}, BatchSchema).field == "patients"
    assert bad({"patients": [{"mutated_genes": ["TP53"]}] * (MAX_BATCH + 1)}, BatchSchema).field == "patients"
    error = bad({"patients": [{"mutated_genes": ["TP53"]}, {"mutated_genes": ["EGRF"]}]}, BatchSchema)
    assert error.field == "patients.1.mutated_genes.0" and "did you mean 'EGFR'" in error.message


@pytest.mark.parametrize(
    ("mutation", "field"),
    [
        ({"gene": "BRAF", "variant_class": "Nasty"}, "mutations.0.variant_class"),
        ({"gene": "BRAF", "allele": "T"}, "mutations.0.allele"),
        ({"variant_class": "Missense_Mutation"}, "mutations.0.gene"),
        ({"gene": 7}, "mutations.0.gene"),
        ("BRAF", "mutations.0._schema"),
        ({"gene": "BRAF", "variant_class": ["Missense_Mutation"]}, "mutations.0.variant_class"),
        ({"gene": "BRAF", "variant_class": {"a": 1}}, "mutations.0.variant_class"),
        ({"gene": "BRAF", "protein_change": "p.V600E\n"}, "mutations.0.protein_change"),
        ({"gene": "BRAF", "protein_change": "p.V600E\np.V600K"}, "mutations.0.protein_change"),
        ({"gene": "BRAF", "protein_change": ["p.V600E"]}, "mutations.0.protein_change"),
        ({"gene": ["BRAF"]}, "mutations.0.gene"),
    ],
)
def test_bad_mutations_name_the_item_and_key(mutation, field):
    assert bad({"mutations": [mutation]}).field == field
    # the same item after good ones is named by its place
    good = {"gene": "KRAS", "variant_class": "Missense_Mutation", "protein_change": "p.G12D"}
    assert bad({"mutations": [good, good, mutation]}).field == field.replace(".0.", ".2.")


def test_clean_mutations_come_back_canonical_and_without_empty_fields():
    patient = load(
        PatientSchema(),
        {
            "mutations": [
                {"gene": "KRAS", "variant_class": "Missense_Mutation", "protein_change": "p.G12D"},
                {"gene": " braf ", "variant_class": None, "protein_change": "p.V600E"},
                {"gene": "TP53", "protein_change": None},
            ]
        },
    )
    assert patient["mutations"] == [
        {"gene": "KRAS", "variant_class": "Missense_Mutation", "protein_change": "p.G12D"},
        {"gene": "BRAF", "protein_change": "p.V600E"},
        {"gene": "TP53"},
    ]


def test_mutations_must_be_a_list():
    assert bad({"mutations": {"gene": "BRAF"}}).field == "mutations"
