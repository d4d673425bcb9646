"""The typer's read mapping over a sharded sample's shards: each shard's worker maps its own
pairs, and the lead adds their evidence up, shard by shard, and calls.

A pair's gene and column evidence depend on that pair alone. `GeneEvidence` keeps the distinct
column patterns in the order they first appear, with integer counts; the shards hold the
sample's pairs contiguous and in read order, so adding the shards' evidence up in shard order
gives the evidence one pass over the whole sample gives, pattern for pattern and in the same
order, and so the same calls. (`MappingStats.distinct_pairs`, the pairs a mapper had not seen
before, is each shard's own; the report does not show it.)
"""

from __future__ import annotations

import io
import json
from collections import Counter

import numpy as np

from .mapping import GeneEvidence, MappingStats, ReadMapper


def to_bytes(mapper: ReadMapper) -> bytes:
    """A shard's mapping: its counts and every gene's evidence, in order."""
    st = mapper.stats
    stats = {
        "pairs": st.pairs, "distinct_pairs": st.distinct_pairs, "assigned": dict(st.assigned),
        "informative": dict(st.informative), "unmapped": st.unmapped, "ambiguous_gene": st.ambiguous_gene,
    }  # fmt: skip
    arrays: dict[str, np.ndarray] = {"stats": np.frombuffer(json.dumps(stats).encode(), np.uint8)}
    genes = list(mapper.evidence)
    arrays["genes"] = np.frombuffer(json.dumps(genes).encode(), np.uint8)
    for i, gene in enumerate(genes):
        ev = mapper.evidence[gene]
        lengths = np.array([len(c) for c in ev.cols], np.int64)
        arrays[f"{i}.lengths"] = lengths
        arrays[f"{i}.cols"] = np.concatenate(ev.cols) if ev.cols else np.zeros(0, np.int32)
        arrays[f"{i}.codes"] = np.concatenate(ev.codes) if ev.codes else np.zeros(0, np.uint8)
        arrays[f"{i}.counts"] = np.array(ev.counts, np.int64)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]  # numpy types a name the same as allow_pickle
    return buf.getvalue()


def from_bytes(data: bytes) -> tuple[MappingStats, dict[str, GeneEvidence]]:
    with np.load(io.BytesIO(data)) as found:
        raw = json.loads(found["stats"].tobytes())
        stats = MappingStats(
            pairs=raw["pairs"], distinct_pairs=raw["distinct_pairs"], assigned=Counter(raw["assigned"]),
            informative=Counter(raw["informative"]), unmapped=raw["unmapped"], ambiguous_gene=raw["ambiguous_gene"],
        )  # fmt: skip
        evidence = {}
        for i, gene in enumerate(json.loads(found["genes"].tobytes())):
            ev = evidence[gene] = GeneEvidence(gene)
            if not len(found[f"{i}.lengths"]):
                continue
            ends = np.cumsum(found[f"{i}.lengths"])
            cols, codes = np.split(found[f"{i}.cols"], ends[:-1]), np.split(found[f"{i}.codes"], ends[:-1])
            for c, v, n in zip(cols, codes, found[f"{i}.counts"].tolist(), strict=True):
                ev.add(c, v, n)
    return stats, evidence


def merged(
    parts: list[tuple[MappingStats, dict[str, GeneEvidence]]], genes: list[str]
) -> tuple[MappingStats, dict[str, GeneEvidence]]:
    """The shards' mappings added up, in shard order."""
    stats, evidence = MappingStats(), {g: GeneEvidence(g) for g in genes}
    for st, ev in parts:
        stats.pairs += st.pairs
        stats.distinct_pairs += st.distinct_pairs
        stats.assigned.update(st.assigned)
        stats.informative.update(st.informative)
        stats.unmapped += st.unmapped
        stats.ambiguous_gene += st.ambiguous_gene
        for gene, part in ev.items():
            into = evidence.setdefault(gene, GeneEvidence(gene))
            for c, v, n in zip(part.cols, part.codes, part.counts, strict=True):
                into.add(c, v, n)
    return stats, evidence


def map_shard(r1, r2, hla_class: str, reference_dir, threads: int, shared=None, progress=None) -> bytes:
    """A shard worker's share of its sample's HLA typing: its pairs mapped, as bytes for the lead
    (`from_bytes`). InputError when the HLA reference is unusable: the lead, reading the same
    one, would wait for evidence no shard sends."""
    from gems.errors import InputError

    from . import names, typer

    prep = typer.prepare(names.genes_for_class(hla_class), reference_dir, None, shared)
    if isinstance(prep, typer.TypingResult):
        raise InputError(
            f"HLA typing of a shard: {prep.calls[0].note}" if prep.calls else "no usable HLA reference"
        )
    return to_bytes(typer.map_reads(prep, r1, r2, threads, progress))
