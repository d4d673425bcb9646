"""The model's features: their names and order, and the columns read from each patient's facts.

`feature_names(spec)` is the column order. `patient_columns(patient)` reads the clinical facts and
the mutation counts (the first columns of a row); ml.feature_matrix adds the mutation columns (genes,
hotspots, spectrum, codons, site scores) for a whole batch at once and is the one row builder of
training, the inference server and the benchmarks, so the three can never drift. Pure Python on
purpose: the Lambda app imports this module (vocabulary, drift counts), so it must not pull in
numpy, pandas or catboost.

A patient dict:
    {"age_at_diagnosis": 61.0, "sex": "female", "race": "white", "prior_malignancy": 0,
     "mutations": [{"gene": "TP53", "variant_class": "Missense_Mutation", "protein_change": "p.R175H"}],
     "mutated_genes": ["KRAS"],          # non-silent, class unknown
     "n_nonsilent": 120, "n_silent": 40}  # optional; n_nonsilent defaults to the listed mutations

What the caller does not know is None (a missing value to the model), never a guess. Nothing here
says which caller (Firehose or MC3) produced a row: only coding classes both callers report are
counted, and silent mutations are counted only as `Silent` (UTR/intron/flank calls differ by caller).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from itertools import repeat

# MAF Variant_Classification -> the class the model sees. Short names are accepted for API users.
TRUNCATING = "truncating"
MISSENSE = "missense"
INFRAME = "inframe"
UNKNOWN = "unknown"
VARIANT_CLASSES: dict[str, str] = {
    "Missense_Mutation": MISSENSE,
    "Nonsense_Mutation": TRUNCATING,
    "Frame_Shift_Del": TRUNCATING,
    "Frame_Shift_Ins": TRUNCATING,
    "Splice_Site": TRUNCATING,
    "Nonstop_Mutation": TRUNCATING,
    "Translation_Start_Site": TRUNCATING,
    "In_Frame_Del": INFRAME,
    "In_Frame_Ins": INFRAME,
    "missense": MISSENSE,
    "truncating": TRUNCATING,
    "nonsense": TRUNCATING,
    "frameshift": TRUNCATING,
    "splice_site": TRUNCATING,
    "inframe": INFRAME,
    "unknown": UNKNOWN,
}
FRAMESHIFT = frozenset({"Frame_Shift_Del", "Frame_Shift_Ins", "frameshift"})
# Per-gene value: the worst thing seen in that gene.
GENE_NONE, GENE_MUTATED, GENE_TRUNCATING = 0, 1, 2

SEXES = ("female", "male")
RACES = ("white", "black", "asian", "other")
CATEGORICAL = ("sex", "race", "prior_malignancy")
NUMERIC = (
    "age_at_diagnosis",
    "n_nonsilent",
    "n_silent",
    "n_missense",
    "n_truncating",
    "n_inframe",
    "n_frameshift",
    "n_genes_mutated",
    "frac_truncating",
    "frac_frameshift",
    "frac_silent",
)
_PROTEIN = re.compile(r"^p\.[A-Za-z*]+\d+")
# The first position of a protein change (p.R132H, p.WQ288fs, p.W288Cfs*12, p.599_600insDFREYEY):
# a codon-level hotspot that both callers spell the same way (their frameshift and insertion
# notations differ, so NPM1's exact Firehose and MC3 strings never match, but its codon 288 does).
_POSITION = re.compile(r"^p\.[A-Z*]*(\d+)")
# A single amino-acid change (p.R175H): its ref>alt pair is a caller-neutral proxy for the
# nucleotide spectrum (smoking C>A gives G>V/G>C, APOBEC and MSI give E>K, R>H, A>T ...).
_SUBSTITUTION = re.compile(r"^p\.([A-Z])\d+([A-Z*])$")
MISSING_CATEGORY = "unknown"


def feature_names(spec: dict) -> list[str]:
    """Column names, in the order ml.feature_matrix fills a row."""
    return (
        list(CATEGORICAL)
        + list(NUMERIC)
        + [f"gene:{g}" for g in spec["genes"]]
        + [f"hotspot:{h}" for h in spec["hotspots"]]
        + [f"aa:{a}" for a in spec.get("substitutions", [])]
        + [f"codon:{c}" for c in spec.get("codons", [])]
        + [f"site_score:{c}" for c in (spec.get("site_scores") or {}).get("classes", [])]
    )


def categorical_indices(spec: dict) -> list[int]:
    return list(range(len(CATEGORICAL)))


def hotspot_key(gene: str, protein_change: str | None) -> str | None:
    """`GENE:p.V600E`, or None when the protein change is absent or not HGVS-like."""
    if not protein_change or not _PROTEIN.match(protein_change):
        return None
    return f"{gene}:{protein_change}"


def codon_position(protein_change: str | None) -> int | None:
    """288 for p.W288Cfs*12 (the first codon a change touches); None when there is no position."""
    match = _POSITION.match(protein_change or "")
    return None if match is None else int(match.group(1))


def codon_key(gene: str, protein_change: str | None) -> str | None:
    """`NPM1:288` for any change starting at codon 288; None when there is no position."""
    position = codon_position(protein_change)
    return None if position is None else f"{gene}:{position}"


def site_scores(genes: set[str], site_score_table: dict | None) -> list[float | None]:
    """Per site, the mean over the patient's mutated genes of that gene's centred log-frequency there.

    `site_score_table` is the spec's `site_scores`: {"classes": [...], "genes": {gene: [one number
    per class]}}, built from every mutated gene of the training patients (ml.train.site_score_table),
    so the thousands of genes too rare to be a column of their own still say something together.
    None per site when no mutated gene is in the table (a missing value, not a zero).
    """
    if not site_score_table:
        return []
    table = site_score_table["genes"]
    hits = [table[g] for g in genes if g in table]
    if not hits:
        return [None] * len(site_score_table["classes"])
    return [sum(column) / len(hits) for column in zip(*hits, strict=True)]


def substitution(protein_change: str | None) -> str | None:
    """`R>H` for p.R175H; None for anything that is not one amino acid changed into another."""
    match = _SUBSTITUTION.match(protein_change or "")
    if match is None or match.group(1) == match.group(2):
        return None
    return f"{match.group(1)}>{match.group(2)}"


def _category(value, allowed: tuple[str, ...] | None = None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING_CATEGORY
    text = str(value).strip().lower()
    if allowed is not None and text not in allowed:
        return MISSING_CATEGORY
    return text or MISSING_CATEGORY


def _prior(value) -> str:
    if value is None or value == -1 or (isinstance(value, float) and math.isnan(value)):
        return MISSING_CATEGORY
    if isinstance(value, str):
        return {"yes": "yes", "true": "yes", "1": "yes", "no": "no", "false": "no", "0": "no"}.get(
            value.strip().lower(), MISSING_CATEGORY
        )
    return "yes" if int(value) == 1 else "no"


def _number(value) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _ratio(part: float | None, whole: float | None) -> float | None:
    if part is None or not whole:
        return None
    return part / whole


def patient_columns(patient: dict) -> tuple[list, set[str]]:
    """The patient-level columns (CATEGORICAL, then NUMERIC) and the set of genes hit.

    The first columns of every feature row; the web app's drift counts read these alone, so they
    stay pure Python. The per-mutation loops run in C (map, Counter, set and list builders).
    """
    mutations = patient.get("mutations") or []
    extra = patient.get("mutated_genes") or []
    # genes first: a mutation that is not an object is a TypeError here (a 400 from the server)
    genes_hit = {m["gene"] for m in mutations}
    genes_hit.update(extra)
    raw = [m.get("variant_class") for m in mutations]
    # the class the model sees: VARIANT_CLASSES', UNKNOWN for a missing or unlisted name
    counts = Counter(map(VARIANT_CLASSES.get, raw, repeat(UNKNOWN)))
    counts[UNKNOWN] += len(extra)  # a gene named without a class
    frameshifts = float(sum(map(FRAMESHIFT.__contains__, raw)))

    listed = float(len(mutations) + len(extra))
    n_nonsilent = _number(patient.get("n_nonsilent"))
    n_nonsilent = listed if n_nonsilent is None else max(n_nonsilent, listed)
    n_silent = _number(patient.get("n_silent"))
    total = None if n_silent is None else n_nonsilent + n_silent
    truncating = float(counts[TRUNCATING])
    columns = [
        _category(patient.get("sex"), SEXES),
        _category(patient.get("race"), RACES),
        _prior(patient.get("prior_malignancy")),
        _number(patient.get("age_at_diagnosis")),
        n_nonsilent,
        n_silent,
        float(counts[MISSENSE]),
        truncating,
        float(counts[INFRAME]),
        frameshifts,
        float(len(genes_hit)),
        _ratio(truncating, listed),
        _ratio(frameshifts, listed),
        _ratio(n_silent, total),
    ]
    return columns, genes_hit


# Slots of the clinical facts in a row (CATEGORICAL, then age first among NUMERIC).
CLINICAL_SLOTS = {"sex": 0, "race": 1, "prior_malignancy": 2, "age_at_diagnosis": 3}


def not_given(patient: dict) -> list[str]:
    """Clinical facts a caller left out (None or NaN): these are averaged over, never read as unknown.

    TCGA's own "unknown" is not neutral: whole studies left a field blank (97-100% of ovarian
    patients have no prior-malignancy answer, MC3's breast rows have no clinical facts at all), so
    a model reads "unknown" as a hint to the site. A clinician who skips a field must not get that.
    """
    missing = []
    for name in CLINICAL_SLOTS:
        value = patient.get(name)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            missing.append(name)
    return missing


def with_profiles(row: list, missing: list[str], profiles: dict) -> list[list]:
    """Copies of `row` with each missing fact taken from a training profile of the same sex.

    `profiles` is config.json's `clinical_profiles`: {"female": [{sex, race, prior_malignancy,
    age_at_diagnosis}, ...], "male": [...]}, real training patients spread over age. Averaging the
    model over these copies estimates P(site | what was given) without the "unknown" shortcut.
    """
    if not missing or not profiles:
        return [row]
    sex = row[CLINICAL_SLOTS["sex"]]
    chosen = profiles.get(sex) if sex in profiles else [p for group in profiles.values() for p in group]
    out = []
    for profile in chosen:
        copy = list(row)
        for name in missing:
            value = profile[name]
            copy[CLINICAL_SLOTS[name]] = value if name == "age_at_diagnosis" else _category(value)
        out.append(copy)
    return out or [row]
