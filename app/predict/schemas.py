"""Marshmallow schemas of POST /predict: one patient or a batch in, site probabilities out.

Gene symbols are checked against the served model's vocabulary (app.predict.vocabulary); an
unknown or misspelt symbol is a 400 that names the field and suggests the closest known symbol.
"""

from __future__ import annotations

import math
import re
from functools import partial
from itertools import repeat
from operator import is_not

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates, validates_schema

from app.predict import vocabulary

MAX_GENES = 5000  # a hypermutated tumour can carry a few thousand; send n_nonsilent for the rest
MAX_BATCH = 500
MAX_COUNT = 200_000


def _vocab() -> vocabulary.Vocabulary:
    return vocabulary.load()


def _gene(symbol: str, where: str) -> str:
    known = _vocab().canonical(symbol.strip())
    if known is not None:
        return known
    hint = _vocab().suggest(symbol.strip())
    tail = f"; did you mean {hint!r}?" if hint else " (not an HGNC symbol the model knows)"
    raise ValidationError(f"unknown gene symbol {symbol!r}{tail}", field_name=where)


class FiniteFloat(fields.Float):
    """A float that refuses NaN and infinities (and strings that spell them)."""

    def _validated(self, value):
        number = super()._validated(value)
        if number is not None and not math.isfinite(number):
            raise self.make_error("special")
        return number

    default_error_messages = {"special": "must be a finite number (NaN and infinity are not allowed)"}


class StrictInteger(fields.Integer):
    """An integer that must arrive as a JSON number, not a string."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _validated(self, value):
        if isinstance(value, bool | str):
            raise self.make_error("invalid")
        return super()._validated(value)


class StrictFloat(FiniteFloat):
    def _validated(self, value):
        if isinstance(value, bool | str):
            raise self.make_error("invalid")
        return super()._validated(value)


class MutationSchema(Schema):
    gene = fields.String(required=True, validate=validate.Length(min=1, max=40))
    variant_class = fields.String(load_default=None, validate=validate.OneOf(vocabulary.VARIANT_CLASSES))
    protein_change = fields.String(
        load_default=None,
        validate=validate.Regexp(
            r"^p\.\S{1,200}$", error="must be a protein change starting with p. (like p.V600E)"
        ),
    )


# fullmatch: `$` would let a trailing newline through
_PROTEIN_CHANGE = re.compile(r"p\.\S{1,200}")
# Every protein change of a list at once, each followed by a newline (which \S never matches).
_PROTEIN_CHANGES = re.compile(r"(?:p\.\S{1,200}\n)*")
_MUTATION_KEYS = frozenset(MutationSchema._declared_fields)
_CLASSES = frozenset(vocabulary.VARIANT_CLASSES)


def _mutation_problems(item) -> dict | None:
    """MutationSchema's rules in plain Python (same messages): a field per problem, or None."""
    if not isinstance(item, dict):
        return {"_schema": ["Invalid input type."]}
    problems = {key: ["Unknown field."] for key in item if key not in _MUTATION_KEYS}
    gene = item.get("gene")
    if not isinstance(gene, str) or not 1 <= len(gene) <= 40:
        problems["gene"] = [
            "Missing data for required field." if gene is None else "must be a symbol of 1-40 characters"
        ]
    kind = item.get("variant_class")
    if kind is not None and not (isinstance(kind, str) and kind in _CLASSES):
        problems["variant_class"] = [f"Must be one of: {', '.join(vocabulary.VARIANT_CLASSES)}."]
    change = item.get("protein_change")
    if change is not None and not (isinstance(change, str) and _PROTEIN_CHANGE.fullmatch(change)):
        problems["protein_change"] = ["must be a protein change starting with p. (like p.V600E)"]
    return problems or None


def _values(items: list[dict], key: str) -> list:
    return list(map(dict.get, items, repeat(key)))


_given = partial(is_not, None)


def _clean_mutations(items) -> list[dict] | None:
    """The mutations with canonical gene symbols and no empty fields; None when any rule refuses
    one (an unknown gene included), for the per-item pass to explain.

    Each rule runs over all the items at once in C (map, filter, set, one regex over the joined
    protein changes): a whole exome is thousands of mutations per patient, and a loop in Python over
    them was most of /predict's own time. Items that are already clean are returned as they came.
    """
    if not items:
        return []
    try:
        genes = _values(items, "gene")
        kinds = list(filter(_given, _values(items, "variant_class")))
        changes = list(filter(_given, _values(items, "protein_change")))
        if not set(kinds) <= _CLASSES:
            return None
        joined = "\n".join(changes)
        vocab = _vocab()
        spelt_as_known = all(map(vocab.genes.__contains__, genes))
    except TypeError:  # an item that is not an object; a list or an object where a string belongs
        return None
    if changes and (joined.count("\n") != len(changes) - 1 or not _PROTEIN_CHANGES.fullmatch(joined + "\n")):
        return None
    # Known genes are strings of 1-18 characters; if the keys add up to one per given value, no
    # key is unknown and none is empty: nothing to change.
    if spelt_as_known and sum(map(len, items)) == len(items) + len(kinds) + len(changes):
        return list(items)
    out = []
    for item, gene in zip(items, genes, strict=True):
        if not item.keys() <= _MUTATION_KEYS or type(gene) is not str or not 1 <= len(gene) <= 40:
            return None
        known = gene if gene in vocab.genes else vocab.canonical(gene.strip())
        if known is None:
            return None
        out.append({**{k: v for k, v in item.items() if v is not None}, "gene": known})
    return out


class MutationList(fields.List):
    """A list of MutationSchema objects, checked without a schema per item.

    Posting a whole exome gives hundreds of mutations per patient; marshmallow's nested load costs
    ~80 us each, which made validation most of /predict's time. The rules and messages are
    MutationSchema's (which still documents the shape for OpenAPI).
    """

    def __init__(self, **kwargs):
        super().__init__(fields.Nested(MutationSchema), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list | tuple):
            raise self.make_error("invalid")
        clean = _clean_mutations(value)
        if clean is not None:
            return clean
        # Something is wrong: the per-item pass names each problem, an unknown gene included
        # (with the closest known symbol), so every list that passes is canonical.
        errors = {}
        for i, item in enumerate(value):
            problems = _mutation_problems(item)
            if problems is None:
                try:
                    _gene(item["gene"], "gene")
                except ValidationError as exc:
                    problems = {"gene": exc.messages}
            if problems:
                errors[i] = problems
        if errors:
            raise ValidationError(errors)
        raise AssertionError("a mutation list refused in one pass and accepted in the other")


class PatientSchema(Schema):
    patient_id = fields.String(load_default=None, validate=validate.Length(max=64))
    mutated_genes = fields.List(fields.String(validate=validate.Length(min=1, max=40)), load_default=list)
    variant_classes = fields.Dict(
        keys=fields.String(),
        values=fields.String(validate=validate.OneOf(vocabulary.VARIANT_CLASSES)),
        load_default=dict,
    )
    mutations = MutationList(load_default=list)
    age_at_diagnosis = StrictFloat(load_default=None, allow_none=True)
    sex = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(vocabulary.SEXES))
    race = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(vocabulary.RACES))
    prior_malignancy = fields.Boolean(load_default=None, allow_none=True)
    n_nonsilent = StrictInteger(
        load_default=None, allow_none=True, validate=validate.Range(min=0, max=MAX_COUNT)
    )
    n_silent = StrictInteger(
        load_default=None, allow_none=True, validate=validate.Range(min=0, max=MAX_COUNT)
    )

    @validates("mutated_genes")
    def _too_many(self, value, **_):
        if len(value) > MAX_GENES:
            raise ValidationError(
                f"{len(value)} genes: at most {MAX_GENES} per patient (give n_nonsilent for the full count)"
            )

    @validates("mutations")
    def _too_many_mutations(self, value, **_):
        if len(value) > MAX_GENES:
            raise ValidationError(f"{len(value)} mutations: at most {MAX_GENES} per patient")

    @validates("age_at_diagnosis")
    def _age(self, value, **_):
        low, high = _vocab().age_range
        if value is not None and not low <= value <= high:
            raise ValidationError(f"must be between {low:g} and {high:g} years")

    @validates_schema
    def _genes_known(self, data, **_):
        genes = data.get("mutated_genes") or []
        for i, symbol in enumerate(genes):
            _gene(symbol, f"mutated_genes.{i}")
        listed = {(_vocab().canonical(g) or g) for g in genes}
        for symbol in data.get("variant_classes") or {}:
            canonical = _gene(symbol, f"variant_classes.{symbol}")
            if canonical not in listed:
                raise ValidationError(
                    f"{symbol!r} has a variant class but is not in mutated_genes",
                    field_name=f"variant_classes.{symbol}",
                )
        if not genes and not data.get("mutations") and data.get("n_nonsilent") is None:
            raise ValidationError(
                "give mutated_genes or mutations (a patient without mutations says nothing to the model)",
                field_name="mutated_genes",
            )

    @post_load
    def _to_patient(self, data, **_):
        """The feature builder's patient dict (ml.features), with canonical gene symbols."""
        vocab = _vocab()
        classes = {vocab.canonical(g): c for g, c in (data.pop("variant_classes") or {}).items()}
        genes = [vocab.canonical(g) for g in data.pop("mutated_genes")]
        # MutationList's items are canonical and carry no empty field (else a validator refused them).
        mutations = list(data.pop("mutations"))
        mutations += [
            {"gene": g, "variant_class": classes[g]} if g in classes else {"gene": g}
            for g in dict.fromkeys(genes)
        ]
        data["mutations"] = mutations
        if data["race"] == "unknown":
            # Said to be unknown is the same as not given: averaged over (see ml.features.not_given).
            data["race"] = None
        if data["prior_malignancy"] is not None:
            data["prior_malignancy"] = int(data["prior_malignancy"])
        return data


_BATCH_SIZE = validate.Length(min=1, max=MAX_BATCH)


_TOP = {"description": "how many sites each prediction lists, most likely first (1-20)"}


class PatientRequestSchema(PatientSchema):
    """One patient as POST /predict takes it: the patient, and how many sites to list."""

    top = fields.Integer(load_default=3, validate=validate.Range(min=1, max=20), metadata=_TOP)


class BatchSchema(Schema):
    patients = fields.List(fields.Nested(PatientSchema), required=True, validate=_BATCH_SIZE)
    top = fields.Integer(load_default=3, validate=validate.Range(min=1, max=20), metadata=_TOP)


class BatchEnvelopeSchema(BatchSchema):
    """A batch's own fields, its patients left as they came: the view loads them with
    PatientSchema a chunk at a time, each chunk off to the model while the next is checked."""

    patients = fields.List(fields.Raw(), required=True, validate=_BATCH_SIZE)


class SiteSchema(Schema):
    site = fields.String()
    probability = fields.Float()


class PredictionSchema(Schema):
    patient_id = fields.String(allow_none=True)
    top = fields.List(fields.Nested(SiteSchema))
    probabilities = fields.Dict(keys=fields.String(), values=fields.Float())
    not_given = fields.List(
        fields.String(),
        metadata={"description": "clinical facts left out: averaged over, not read as unknown"},
    )
    confident = fields.Boolean(
        allow_none=True,
        metadata={
            "description": "the top calibrated probability reaches confident_threshold (measured coverage "
            "and accuracy in docs/model.md); null for a model without calibration"
        },
    )


class AnswerSchema(Schema):
    model_version = fields.String()
    confident_threshold = fields.Float(allow_none=True)
    served_by = fields.String()
    predictions = fields.List(fields.Nested(PredictionSchema))
    note = fields.String()


# Examples in the OpenAPI document (app.apidoc).
PATIENT_EXAMPLE = {
    "mutations": [{"gene": "KRAS", "variant_class": "Missense_Mutation", "protein_change": "p.G12D"}],
    "mutated_genes": ["APC", "TP53"],
    "age_at_diagnosis": 64,
    "sex": "female",
    "race": "white",
    "prior_malignancy": False,
}
PREDICTION_EXAMPLE = {
    "model_version": "2026-11-25-catboost",
    "confident_threshold": 0.9,
    "served_by": "local:http://127.0.0.1:8002",
    "predictions": [
        {
            "patient_id": None,
            "top": [
                {"site": "colorectal", "probability": 0.81},
                {"site": "stomach", "probability": 0.07},
                {"site": "pancreas", "probability": 0.05},
            ],
            "probabilities": {"colorectal": 0.81, "stomach": 0.07, "pancreas": 0.05},
            "confident": False,
        }
    ],
    "note": "Not a diagnosis. ...",
}
