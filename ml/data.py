"""Load a directory laid out like ../shared/data/tcga/ into patient dicts for the feature builder.

Label columns (`label_site`, `label_cohort`, and the variant tables' `cohort`) are read only when
`labels=True`: pandas is told exactly which columns to read, so predicting on a directory that
lacks them (or holds anything in them) cannot see them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from gems.errors import InputError

MATRICES = {"Firehose": "tcga_firehose_mut.csv.gz", "MC3": "tcga_mc3_mut.csv.gz"}
VARIANT_TABLES = {
    "Firehose": ("variants/firehose_nonsilent.tsv.gz", "variants/firehose_silent.tsv.gz"),
    "MC3": ("variants/mc3_nonsilent.tsv.gz", "variants/mc3_silent.tsv.gz"),
}
CLINICAL = ["patient_id", "source", "age_at_diagnosis", "sex", "race", "prior_malignancy"]
LABEL = "label_site"
LABEL_COLUMNS = ("label_site", "label_cohort", "cohort")
OTHER = "Other"
# The variant columns the builder may see; `cohort` and the caller-only columns are never read.
_VARIANT_COLUMNS = {
    "Tumor_Sample_Barcode",
    "Hugo_Symbol",
    "Variant_Classification",
    "Protein_Change",
    "HGVSp_Short",
    "FILTER",
}
_MATRIX_META = {
    "patient_id",
    "source",
    "label_cohort",
    "label_site",
    "age_at_diagnosis",
    "sex",
    "race",
    "deceased",
    "prior_malignancy",
    "n_nonsilent",
    "n_silent",
}


@dataclass
class Dataset:
    """Patients (feature-builder dicts, with patient_id and source) and, when asked for, labels."""

    patients: list[dict]
    labels: list[str] | None = None
    checksum: str = ""
    files: list[str] = field(default_factory=list)
    # Every gene symbol in the variant tables (all rows, silent too): what /predict accepts.
    genes: set[str] = field(default_factory=set)

    def subset(self, keep: list[int]) -> Dataset:
        labels = None if self.labels is None else [self.labels[i] for i in keep]
        return Dataset([self.patients[i] for i in keep], labels, self.checksum, self.files, self.genes)


def _protein(frame: pd.DataFrame) -> pd.Series:
    # Some MC3 rows lack their FILTER field, so HGVSp_Short shifts into FILTER; accept only p.-strings.
    out = pd.Series(None, index=frame.index, dtype=object)
    for column in ("FILTER", "HGVSp_Short", "Protein_Change"):
        if column in frame:
            values = frame[column].astype("string")
            ok = values.str.startswith("p.", na=False)
            out[ok] = values[ok]
    return out


def _read_variants(path: Path, silent: bool) -> pd.DataFrame:
    frame = pd.read_csv(
        path,
        sep="\t",
        dtype=str,
        usecols=lambda c: c in _VARIANT_COLUMNS,
        keep_default_na=False,
        na_values=[""],
    )
    missing = {"Tumor_Sample_Barcode", "Hugo_Symbol", "Variant_Classification"} - set(frame.columns)
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
    out = pd.DataFrame(
        {
            "patient_id": frame["Tumor_Sample_Barcode"].str.slice(0, 12),
            "gene": frame["Hugo_Symbol"],
            "variant_class": frame["Variant_Classification"],
        }
    )
    if silent:
        return out[out["variant_class"] == "Silent"]
    out["protein_change"] = _protein(frame)
    return out


def _mutations_by_patient(frame: pd.DataFrame) -> dict[str, list[dict]]:
    frame = frame.sort_values("patient_id", kind="stable")
    grouped: dict[str, list[dict]] = {}
    columns = [frame[c].tolist() for c in ("patient_id", "gene", "variant_class", "protein_change")]
    for pid, gene, kind, protein in zip(*columns, strict=True):
        entry = {"gene": gene, "variant_class": kind}
        if isinstance(protein, str):
            entry["protein_change"] = protein
        grouped.setdefault(pid, []).append(entry)
    return grouped


def _checksum(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        with open(path, "rb") as handle:
            for block in iter(lambda h=handle: h.read(1 << 20), b""):
                digest.update(block)
    return "sha256:" + digest.hexdigest()


def _clinical(path: Path, labels: bool) -> pd.DataFrame:
    wanted = set(CLINICAL) | ({LABEL} if labels else set())
    frame = pd.read_csv(
        path, dtype={"sex": str, "race": str, "patient_id": str, "source": str}, usecols=lambda c: c in wanted
    )
    missing = ({"patient_id"} | ({LABEL} if labels else set())) - set(frame.columns)
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
    return frame


def _matrix_genes(path: Path) -> pd.DataFrame:
    """Fallback when a directory has no variant tables: the 0/1 gene columns and n_nonsilent."""
    frame = pd.read_csv(path, usecols=lambda c: c not in _MATRIX_META or c in ("patient_id", "n_nonsilent"))
    return frame


def load(data_dir: str | Path, *, labels: bool = False, drop_other: bool = True) -> Dataset:
    """Every patient row of every matrix found in `data_dir` (one row per patient and source)."""
    root = Path(data_dir)
    patients: list[dict] = []
    targets: list[str] = []
    read: list[Path] = []
    genes: set[str] = set()
    for source, name in MATRICES.items():
        matrix = root / name
        if not matrix.exists():
            continue
        read.append(matrix)
        clinical = _clinical(matrix, labels)
        if labels and drop_other:
            clinical = clinical[clinical[LABEL] != OTHER]
        nonsilent_path, silent_path = (root / p for p in VARIANT_TABLES[source])
        if nonsilent_path.exists():
            read += [nonsilent_path] + ([silent_path] if silent_path.exists() else [])
            nonsilent = _read_variants(nonsilent_path, silent=False)
            genes.update(nonsilent["gene"].dropna().unique())
            mutations = _mutations_by_patient(nonsilent)
            silent_counts = None
            if silent_path.exists():
                silent = _read_variants(silent_path, silent=True)
                genes.update(silent["gene"].dropna().unique())
                silent_counts = silent.groupby("patient_id").size().to_dict()
            extra = {}
        else:
            genes = _matrix_genes(matrix).set_index("patient_id")
            gene_columns = [c for c in genes.columns if c != "n_nonsilent"]
            mutations = {
                pid: [{"gene": g} for g in gene_columns if row[g] == 1] for pid, row in genes.iterrows()
            }
            silent_counts = None
            extra = genes["n_nonsilent"].to_dict() if "n_nonsilent" in genes else {}
        for record in clinical.to_dict("records"):
            pid = record["patient_id"]
            patient = {
                "patient_id": pid,
                "source": record.get("source") if isinstance(record.get("source"), str) else source,
                "age_at_diagnosis": record.get("age_at_diagnosis"),
                "sex": record.get("sex"),
                "race": record.get("race"),
                "prior_malignancy": record.get("prior_malignancy"),
                "mutations": mutations.get(pid, []),
                "n_nonsilent": extra.get(pid),
                "n_silent": None if silent_counts is None else float(silent_counts.get(pid, 0)),
            }
            patients.append(patient)
            if labels:
                targets.append(record[LABEL])
    if not read:
        raise InputError(f"{root}: no {' or '.join(MATRICES.values())} found")
    return Dataset(
        patients,
        targets if labels else None,
        _checksum(read),
        [str(p.relative_to(root)) for p in read],
        {g for g in genes if isinstance(g, str) and g and g != "Unknown"},
    )
