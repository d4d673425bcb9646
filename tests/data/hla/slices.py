"""How the real-read HLA slices here were cut (kept for provenance; tests only read the files).

    .venv/bin/python tests/data/hla/slices.py

Each slice keeps, in the sample's own order, the read pairs that the typer's mapper (shipped
IMGT 3.32.0 reference) gives to the named genes, counted whether or not they carry coding
evidence: the genes' own reads and the paralog reads that passed for them.
"""

from __future__ import annotations

import gzip
from pathlib import Path

from gems.config import shared_dir
from workers.genomics import fastq
from workers.hla import index, reference
from workers.hla.mapping import ReadMapper

HERE = Path(__file__).resolve().parent
SLICES = {  # name: (shared sample, genes)
    "hg00118_class2": ("HG00118", ("DRB1", "DRB3", "DRB4", "DRB5", "DQA1", "DQB1", "DPA1")),
    "na19141_dqa1": ("NA19141", ("DQA1",)),
}


def cut(sample: str, genes: tuple[str, ...], name: str) -> int:
    src = shared_dir() / "data" / "hla" / "samples"
    idx = index.load_index(reference.scan(None), None, None)
    mapper = ReadMapper(idx, list(genes))
    pairs = list(
        fastq.read_pairs(src / f"{sample}_R1.fastq.gz", src / f"{sample}_R2.fastq.gz", fastq.ReadProgress())
    )
    keep = set()
    for k, (s1, s2) in enumerate(pairs):
        got = mapper.map_pair(s1, s2)
        gene = got[0] if isinstance(got, tuple) else got
        if gene in genes:
            keep.add(k)
    for mate in (1, 2):
        with gzip.open(src / f"{sample}_R{mate}.fastq.gz", "rt") as fin:
            lines = fin.readlines()
        out = [line for k in range(len(lines) // 4) if k in keep for line in lines[4 * k : 4 * k + 4]]
        with gzip.GzipFile(HERE / f"{name}_R{mate}.fastq.gz", "wb", mtime=0) as fout:
            fout.write("".join(out).encode())
    return len(keep)


if __name__ == "__main__":
    for slice_name, (sample_name, gene_names) in SLICES.items():
        print(slice_name, cut(sample_name, gene_names, slice_name), "pairs")
