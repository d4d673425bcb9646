"""The typing index built from a reference: per-gene MSAs, and one minimap2 index of
representative alleles (CDS and genomic, one per first-field group) plus every decoy sequence.

Built once per reference content and cached under a user cache directory keyed by the
reference checksum, never inside the reference directory (the shipped one is read-only).
"""

from __future__ import annotations

import functools
import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import mappy
import numpy as np

from gems.config import Config

from . import exons, names
from . import msa as msa_mod
from .reference import Allele, HlaReference, load_sequences

log = logging.getLogger(__name__)
INDEX_VERSION = "10"  # 10: DPA1, DRB3, DRB4, DRB5 typed, no longer decoys
# Hits kept per read: one representative per allele lineage means few equal hits per gene,
# and only the best hit of each gene is used.
BEST_N = 16


def cache_root() -> Path:
    return Config.from_env().hla_cache


def _first_field_reps(alleles: list[Allele], preferred: set[str] | None = None) -> list[Allele]:
    """One allele per first-field group, so every allele lineage has a close sequence to align
    reads to: the first preferred one (alleles are in tie-break order), else the longest."""
    groups: dict[tuple[int, ...], list[Allele]] = {}
    for a in alleles:
        groups.setdefault(names.parse(a.name)[1][:1], []).append(a)
    reps = []
    for members in groups.values():
        pick = next((a for a in members if a.name in preferred), None) if preferred else None
        reps.append(pick or max(members, key=lambda a: len(a.seq)))
    return reps


def _write_fasta(path: Path, records: list[tuple[str, str]]) -> None:
    with path.open("w") as fh:
        for name, seq in records:
            fh.write(f">{name}\n{seq}\n")


@dataclass
class TypingIndex:
    release: str
    directory: Path
    genes: list[str]  # classical genes present in the reference
    decoys: list[str]
    aligner: mappy.Aligner  # classical representatives (CDS + genomic) and every decoy sequence
    _msas: dict[str, msa_mod.GeneMSA]

    def msa(self, gene: str) -> msa_mod.GeneMSA:
        if gene not in self._msas:
            self._msas[gene] = _load_msa(self.directory / f"msa_{gene}.npz", gene)
        return self._msas[gene]


@functools.lru_cache(maxsize=65536)
def seq_gene(seq_name: str) -> str:
    """Gene of an index sequence named `ALLELE|kind`."""
    return names.gene_of(seq_name.split("|", 1)[0])


def _save_msa(path: Path, m: msa_mod.GeneMSA, rep_cols_by_seq: dict[str, np.ndarray]) -> None:
    reps = list(rep_cols_by_seq)
    rep_cols = [rep_cols_by_seq[r] for r in reps]
    np.savez(
        path,
        names=np.array(m.names),
        codes=m.codes,
        complete=m.complete,
        rep_names=np.array(reps),
        reference=np.array(m.reference),
        windows=m.windows,
        imputed=np.packbits(m.imputed, axis=1),
        rep_offsets=np.cumsum([0] + [len(c) for c in rep_cols]),
        rep_cols=np.concatenate(rep_cols) if rep_cols else np.zeros(0, dtype=np.int32),
    )


def _load_msa(path: Path, gene: str) -> msa_mod.GeneMSA:
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}  # each access re-reads the member: read once
    offs, cols = arrays["rep_offsets"], arrays["rep_cols"].astype(np.int32)
    pos2col = {str(n): cols[offs[i] : offs[i + 1]] for i, n in enumerate(arrays["rep_names"])}
    codes = arrays["codes"]
    return msa_mod.GeneMSA(
        gene,
        [str(n) for n in arrays["names"]],
        codes,
        arrays["complete"],
        pos2col,
        str(arrays["reference"]),
        arrays["windows"],
        np.unpackbits(arrays["imputed"], axis=1, count=codes.shape[1]).astype(bool),
    )


def _build(ref: HlaReference, target: Path) -> None:
    load_sequences(ref)
    records: list[tuple[str, str]] = []
    for gene in ref.classical_genes:
        m = msa_mod.build(gene, ref.nuc[gene])
        clean = {n for n, ok in zip(m.names, m.clean_complete(), strict=True) if ok}
        rep_cols: dict[str, np.ndarray] = {}
        for a in _first_field_reps(ref.nuc[gene], clean):
            rep_cols[f"{a.name}|nuc"] = m.pos2col[a.name]
            records.append((f"{a.name}|nuc", a.seq))
        nuc_seq = {a.name: a.seq for a in ref.nuc[gene]}
        # genomic representatives: reads with introns align whole, and reach short exons
        with_cds = [a for a in ref.gen.get(gene, []) if a.name in nuc_seq]
        for a in _first_field_reps(with_cds, clean) if with_cds else []:
            cds_pos = exons.cds_positions(a.seq, nuc_seq[a.name])
            cols = m.pos2col[a.name]
            rep_cols[f"{a.name}|gen"] = np.where(cds_pos >= 0, cols[np.maximum(cds_pos, 0)], -1).astype(
                np.int32
            )
            records.append((f"{a.name}|gen", a.seq))
        _save_msa(target / f"msa_{gene}.npz", m, rep_cols)
    for gene in ref.decoy_genes:
        records += [(f"{a.name}|nuc", a.seq) for a in ref.nuc.get(gene, [])]
        records += [(f"{a.name}|gen", a.seq) for a in ref.gen.get(gene, [])]
    _write_fasta(target / "hla.fa", records)
    aligner = mappy.Aligner(str(target / "hla.fa"), preset="sr", fn_idx_out=str(target / "hla.mmi"))
    if not aligner:
        raise RuntimeError("minimap2 could not index the HLA representatives")
    meta = {"release": ref.release, "genes": ref.classical_genes, "decoys": ref.decoy_genes}
    (target / "meta.json").write_text(json.dumps(meta))


def load_index(ref: HlaReference, cache: Path | None = None, shared=None) -> TypingIndex:
    """The typing index of `ref`: from this machine's cache, else from the `shared` store (a
    workers.program.indexstore.S3IndexStore: what another worker built), else built here (and shared)."""
    root = Path(cache) if cache is not None else cache_root()
    name = f"{ref.checksum()}-v{INDEX_VERSION}"
    directory = root / name
    if not (directory / "meta.json").is_file():
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=root))
        try:
            fetched = shared is not None and shared.fetch("hla", name, tmp) and (tmp / "meta.json").is_file()
            if fetched:
                log.info("HLA index for IMGT %s fetched from the shared cache", ref.release)
            else:
                log.info("building HLA index for IMGT %s in %s", ref.release, directory)
                shutil.rmtree(tmp, ignore_errors=True)
                tmp.mkdir()
                _build(ref, tmp)
                if shared is not None:
                    shared.publish("hla", name, tmp)
            try:
                tmp.rename(directory)
            except OSError:
                if not (directory / "meta.json").is_file():  # lost a race to a complete build: fine
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    meta = json.loads((directory / "meta.json").read_text())
    aligner = mappy.Aligner(str(directory / "hla.mmi"), preset="sr", best_n=BEST_N)
    if not aligner:
        raise RuntimeError(f"cannot load the HLA index in {directory}")
    return TypingIndex(meta["release"], directory, meta["genes"], meta["decoys"], aligner, {})
