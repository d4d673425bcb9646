"""Feature rows for a batch of patients at once: the one row builder of training and serving.

ml.features names the columns and reads each patient's clinical facts and counts; this module
adds the mutation columns of the whole batch in a few passes over all its mutations. Each distinct
protein change is parsed once, each lookup (gene, hotspot, codon, substitution, site table) runs
over one flat list, and the values are scattered into one numpy matrix. Built patient by patient,
a row of 1,065 Python values plus three regular expressions per mutation cost about half a
millisecond per patient, many times CatBoost's own prediction.

The matrix goes to CatBoost as `FeaturesData`: float features as one float32 block and the
categorical ones apart, which CatBoost takes without looking at each value from Python.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import is_not

import numpy as np

from ml import features

_N_CATEGORICAL = len(features.CATEGORICAL)
_N_PATIENT = len(features.NUMERIC)
_AGE = features.NUMERIC.index("age_at_diagnosis")
_TRUNCATING_NAMES = frozenset(
    n for n, kind in features.VARIANT_CLASSES.items() if kind == features.TRUNCATING
)


class Layout:
    """One spec's column offsets and lookup tables, made once per model (or training frame).

    Offsets count from the first numeric column: the matrix holds everything after CATEGORICAL.
    """

    def __init__(self, spec: dict):
        self.names = features.feature_names(spec)
        self.gene_index = {g: i for i, g in enumerate(spec["genes"])}
        self.hotspot_index = {h: i for i, h in enumerate(spec["hotspots"])}
        # {gene: {protein change: column}}: hotspot keys are features.hotspot_key's GENE:p.X
        self.hotspot_by_gene: dict[str, dict] = {}
        for key, i in self.hotspot_index.items():
            gene, _, change = key.partition(":p.")
            self.hotspot_by_gene.setdefault(gene, {})["p." + change] = i
        self.substitution_index = {a: i for i, a in enumerate(spec.get("substitutions", []))}
        self.codon_index = {c: i for i, c in enumerate(spec.get("codons", []))}
        # {gene: {codon number: column}} from features.codon_key's GENE:288
        self.codon_by_gene: dict[str, dict] = {}
        for key, i in self.codon_index.items():
            gene, _, codon = key.rpartition(":")
            self.codon_by_gene.setdefault(gene, {})[int(codon)] = i
        table = spec.get("site_scores") or {}
        self.site_classes = list(table.get("classes", []))
        self.site_rows = {g: i for i, g in enumerate(table.get("genes", {}))}
        self.site_table = np.array(list(table.get("genes", {}).values()), dtype=float).reshape(
            len(self.site_rows), len(self.site_classes)
        )
        self.gene_at = _N_PATIENT
        self.hotspot_at = self.gene_at + len(self.gene_index)
        self.substitution_at = self.hotspot_at + len(self.hotspot_index)
        self.codon_at = self.substitution_at + len(self.substitution_index)
        self.site_at = self.codon_at + len(self.codon_index)
        self.width = self.site_at + len(self.site_classes)
        assert _N_CATEGORICAL + self.width == len(self.names)


@dataclass
class FeatureMatrix:
    """Feature rows of a batch: categorical values apart, every number in one float block."""

    names: list[str]
    categorical: list[list[str]]  # one [sex, race, prior_malignancy] per patient
    numeric: np.ndarray  # float64, NaN where a value is missing
    patient_rows: list[list]  # features.patient_columns per patient (None where missing)

    def __len__(self) -> int:
        return len(self.categorical)

    def rows(self) -> list[list]:
        """Plain rows in feature_names order: categoricals as str, numbers as float or None."""
        return [
            cats + [None if math.isnan(v) else v for v in values]
            for cats, values in zip(self.categorical, self.numeric.tolist(), strict=True)
        ]

    def frame(self):
        """A pandas DataFrame of the rows (training)."""
        import pandas as pd

        frame = pd.DataFrame(self.numeric, columns=self.names[_N_CATEGORICAL:])
        for i, name in enumerate(self.names[:_N_CATEGORICAL]):
            frame.insert(i, name, [c[i] for c in self.categorical])
        return frame

    def expanded(self, missing: Sequence[list[str]], profiles: dict) -> tuple[FeatureMatrix, list[int]]:
        """Each row with facts left out, copied once per training profile (features.with_profiles);
        returns the copies and, per original row, where its copies start."""
        index: list[int] = []
        categorical: list[list[str]] = []
        ages: list[float] = []
        starts: list[int] = []
        for i, (cats, left_out) in enumerate(zip(self.categorical, missing, strict=True)):
            starts.append(len(index))
            clinical = [*cats, self.numeric[i, _AGE]]
            for copy in features.with_profiles(clinical, left_out, profiles):
                index.append(i)
                categorical.append(copy[:_N_CATEGORICAL])
                ages.append(math.nan if copy[_N_CATEGORICAL] is None else copy[_N_CATEGORICAL])
        numeric = self.numeric[index]
        numeric[:, _AGE] = ages
        return FeatureMatrix(self.names, categorical, numeric, []), starts

    def pool(self, min_rows: int = 1):
        """The rows as a CatBoost Pool, the last one repeated up to `min_rows` (predictions past
        len(self) are the caller's to drop)."""
        from catboost import FeaturesData, Pool

        numeric, categorical = self.numeric, self.categorical
        if 0 < len(self) < min_rows:
            extra = min_rows - len(self)
            numeric = np.concatenate([numeric, np.repeat(numeric[-1:], extra, axis=0)])
            categorical = categorical + [categorical[-1]] * extra
        return Pool(
            FeaturesData(
                num_feature_data=np.ascontiguousarray(numeric, dtype=np.float32),
                cat_feature_data=np.array(categorical, dtype=object).reshape(
                    len(categorical), _N_CATEGORICAL
                ),
                num_feature_names=self.names[_N_CATEGORICAL:],
                cat_feature_names=self.names[:_N_CATEGORICAL],
            )
        )


# One reading per line of the batch's distinct protein changes joined by newlines, in one C pass:
# (letters before the first codon, the codon, the rest), or ('', '', '') for anything without a
# codon. features.codon_position and features.substitution say the same of one string.
_READING = re.compile(r"^(?:p\.([A-Z*]*)(\d+)(.*)|.*)$", re.MULTILINE)
_FROM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_TO = _FROM | {"*"}


def _readings(proteins: list) -> tuple[dict, dict]:
    """{protein: codon (str of digits)} and {protein: "R>H"} for the distinct protein changes."""
    plain = [p for p in proteins if "\n" not in p]
    found = _READING.findall("\n".join(plain)) if plain else []
    if len(found) != len(plain):  # cannot happen with one match per line; never trust it blindly
        found = [(None, None, None)] * len(plain)
        plain = []
    codons = {p: r[1] for p, r in zip(plain, found, strict=True) if r[1]}
    changes = {
        p: f"{r[0]}>{r[2]}"
        for p, r in zip(plain, found, strict=True)
        if len(r[0]) == 1 and len(r[2]) == 1 and r[0] in _FROM and r[2] in _TO and r[0] != r[2]
    }
    for p in set(proteins) - set(plain):  # the rare string a line-by-line reading cannot take
        position, change = features.codon_position(p), features.substitution(p)
        if position is not None:
            codons[p] = str(position)
        if change is not None:
            changes[p] = change
    return codons, changes


def _in_genes(by_gene: dict, genes: list) -> list[int]:
    """Positions of the mutations whose gene is a key of `by_gene`."""
    if not by_gene:
        return []
    return np.flatnonzero(np.fromiter(map(by_gene.__contains__, genes), bool, len(genes))).tolist()


def build(patients: list[dict], layout: Layout) -> FeatureMatrix:
    """The feature rows of `patients`, in feature_names order."""
    n = len(patients)
    numeric = np.zeros((n, layout.width))
    categorical: list[list[str]] = []
    patient_rows: list[list] = []
    genes: list[str] = []
    classes: list = []
    proteins: list = []
    lengths: list[int] = []
    site_owner: list[int] = []
    site_rows: list[int] = []
    for i, patient in enumerate(patients):
        columns, hit = features.patient_columns(patient)
        categorical.append(columns[:_N_CATEGORICAL])
        patient_rows.append(columns)
        mutations = patient.get("mutations") or []
        extra = patient.get("mutated_genes") or []
        genes += [m["gene"] for m in mutations]
        genes += extra
        classes += [m.get("variant_class") for m in mutations]
        proteins += [m.get("protein_change") for m in mutations]
        classes += repeat(None, len(extra))
        proteins += repeat(None, len(extra))
        lengths.append(len(mutations) + len(extra))
        if layout.site_rows:
            rows = [layout.site_rows[g] for g in hit if g in layout.site_rows]
            site_rows += rows
            site_owner += repeat(i, len(rows))
    if not n:
        return FeatureMatrix(layout.names, categorical, numeric, patient_rows)
    numeric[:, :_N_PATIENT] = np.array([c[_N_CATEGORICAL:] for c in patient_rows], dtype=float)
    owner = np.repeat(np.arange(n), lengths)
    count = len(genes)

    # genes: the worst thing seen in each (features.GENE_TRUNCATING over GENE_MUTATED)
    column = np.fromiter(map(layout.gene_index.get, genes, repeat(-1)), np.intp, count)
    worst = np.where(
        np.fromiter(map(_TRUNCATING_NAMES.__contains__, classes), bool, count),
        float(features.GENE_TRUNCATING),
        float(features.GENE_MUTATED),
    )
    chosen = column >= 0
    np.maximum.at(numeric, (owner[chosen], layout.gene_at + column[chosen]), worst[chosen])

    codons, changes = _readings([p for p in set(proteins) if p])
    # hotspots and codons: only the few mutations in a gene that has any are looked at one by one
    for k in _in_genes(layout.hotspot_by_gene, genes):
        index = layout.hotspot_by_gene[genes[k]].get(proteins[k])
        if index is not None:
            numeric[owner[k], layout.hotspot_at + index] = 1.0
    for k in _in_genes(layout.codon_by_gene, genes):
        codon = codons.get(proteins[k]) if proteins[k] else None
        index = None if codon is None else layout.codon_by_gene[genes[k]].get(int(codon))
        if index is not None:
            numeric[owner[k], layout.codon_at + index] = 1.0

    # the spectrum: each listed substitution's share of the patient's single amino-acid changes
    change = list(map(changes.get, proteins))
    substitutions = np.bincount(
        owner[np.fromiter(map(is_not, change, repeat(None)), bool, count)], minlength=n
    ).astype(float)
    if layout.substitution_index:
        column = np.fromiter(map(layout.substitution_index.get, change, repeat(-1)), np.intp, count)
        chosen = column >= 0
        block = np.zeros((n, len(layout.substitution_index)))
        np.add.at(block, (owner[chosen], column[chosen]), 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            block /= substitutions[:, None]
        block[substitutions == 0] = np.nan
        numeric[:, layout.substitution_at : layout.codon_at] = block

    # site scores: per site, the mean of the table's rows over the distinct genes hit
    if layout.site_classes:
        sums = np.zeros((n, len(layout.site_classes)))
        np.add.at(sums, np.asarray(site_owner, dtype=np.intp), layout.site_table[site_rows])
        hits = np.bincount(np.asarray(site_owner, dtype=np.intp), minlength=n).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            numeric[:, layout.site_at :] = sums / hits[:, None]
        numeric[hits == 0, layout.site_at :] = np.nan
    return FeatureMatrix(layout.names, categorical, numeric, patient_rows)
