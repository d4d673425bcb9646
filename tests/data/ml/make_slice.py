"""Rebuild tests/data/ml/tcga_slice/ from ../shared/data/tcga (a small real slice for fast tests).

    .venv/bin/python tests/data/ml/make_slice.py

Per source: 8 patients of each site (plus 4 "Other"), lowest-burden first among patients with at
least 5 non-silent mutations, picked with a fixed seed; their matrix rows and variant-table rows.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd

from gems.config import shared_dir

OUT = Path(__file__).resolve().parent / "tcga_slice"


def main() -> None:
    src = shared_dir() / "data" / "tcga"
    (OUT / "variants").mkdir(parents=True, exist_ok=True)
    for source, matrix_name, prefix in (
        ("Firehose", "tcga_firehose_mut.csv.gz", "firehose"),
        ("MC3", "tcga_mc3_mut.csv.gz", "mc3"),
    ):
        matrix = pd.read_csv(src / matrix_name, dtype={"sex": str})
        pool = matrix[(matrix.n_nonsilent >= 5) & (matrix.n_nonsilent <= 400)]
        picked = []
        for site, group in pool.groupby("label_site"):
            n = 4 if site == "Other" else 8
            picked.append(group.sample(n=min(n, len(group)), random_state=7))
        rows = pd.concat(picked).sort_values("patient_id")
        with gzip.open(OUT / matrix_name, "wt") as handle:
            rows.to_csv(handle, index=False)
        keep = set(rows.patient_id)
        for kind in ("nonsilent", "silent"):
            path = src / "variants" / f"{prefix}_{kind}.tsv.gz"
            with gzip.open(path, "rt") as inp, gzip.open(OUT / "variants" / path.name, "wt") as out:
                out.write(inp.readline())
                for line in inp:
                    if line[:12] in keep:
                        out.write(line)
        print(source, len(rows), "patients")


if __name__ == "__main__":
    main()
