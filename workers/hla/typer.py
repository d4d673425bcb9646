"""Type one sample: read pairs -> per-gene evidence -> pair selection -> calls."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gems.errors import InputError
from workers.genomics import fastq

from . import calls as calls_mod
from . import drb, dropout, groups, index, reference
from .calls import GeneCall
from .gene import call_gene
from .mapping import MappingStats, ReadMapper

BATCH_PAIRS = 20_000
MAPPING_SHARE = 0.8  # share of the progress bar spent reading and mapping


@dataclass
class TypingResult:
    release: str
    reference: str
    genes: list[str]
    calls: list[GeneCall]
    stats: MappingStats
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def gl_string(self) -> str:
        """The sample's typing as one GL String (loci joined by ^; uncalled loci left out)."""
        return groups.sample_gl(c.gl_string for c in self.calls)

    @property
    def hla_reads(self) -> int:
        """Read pairs with coding-sequence evidence for a typed gene (pairs that only touch an
        intron or UTR, such as repeats shared with the rest of the genome, do not count)."""
        return int(sum(self.stats.informative[g] for g in self.genes))

    def metrics(self) -> dict:
        """The step's metrics for the sample report."""
        return {
            "imgt_release": self.release,
            "reference": self.reference,
            "genes": self.genes,
            "calls": [
                {
                    k: c.to_dict()[k]
                    for k in (
                        "gene",
                        "allele1",
                        "allele2",
                        "confidence",
                        "flag",
                        "margin",
                        "reads1",
                        "reads2",
                        "pairs",
                        "ambiguous",
                        "note",
                        *calls_mod.LAB_FIELDS,
                        "set_aside",
                    )
                }
                for c in self.calls
            ],
            "hla_reads": self.hla_reads,
            "gl_string": self.gl_string,
            "read_pairs": self.stats.pairs,
            "called_genes": sum(1 for c in self.calls if c.called),
        }


@dataclass
class Prepared:
    """The reference and its typing index, ready to map reads and call."""

    ref: reference.HlaReference
    idx: index.TypingIndex
    typed: list[str]
    seconds: dict[str, float]


def prepare(genes, reference_dir: Path | None, cache: Path | None, shared) -> Prepared | TypingResult:
    """The reference scanned and indexed, or the result of a sample that cannot be typed (an
    unusable reference is reported per gene, like a reference missing some genes: the sample's
    other results are kept)."""
    t0 = time.perf_counter()
    try:
        ref = reference.scan(reference_dir)
    except InputError as exc:
        return TypingResult(
            release="unknown",
            reference=str(reference_dir),
            genes=list(genes),
            calls=[calls_mod.no_call(g, f"no usable HLA reference: {exc.message}") for g in genes],
            stats=MappingStats(),
        )
    idx = index.load_index(ref, cache, shared)
    typed = [g for g in genes if g in idx.genes]
    return Prepared(ref, idx, typed, {"index": round(time.perf_counter() - t0, 3)})


def map_reads(
    prep: Prepared, r1: Path, r2: Path, threads: int = 1, progress: Callable[[float], None] | None = None
) -> ReadMapper:
    """Every pair of the files mapped to its gene and columns (the evidence `call` types from)."""
    report = progress or (lambda f: None)
    mapper = ReadMapper(prep.idx, prep.typed, threads=threads)
    reading = fastq.ReadProgress()
    batch: list[tuple[str, str]] = []
    for pair in fastq.read_pairs(Path(r1), Path(r2), reading):
        batch.append(pair)
        if len(batch) >= BATCH_PAIRS:
            mapper.add_batch(batch)
            batch = []
            report(MAPPING_SHARE * reading.fraction())
    mapper.add_batch(batch)
    report(MAPPING_SHARE)
    return mapper


def call(
    prep: Prepared,
    genes,
    stats: MappingStats,
    evidence: dict,
    progress: Callable[[float], None] | None = None,
) -> TypingResult:
    """Each gene called from its evidence (`GeneEvidence` by gene)."""
    report = progress or (lambda f: None)
    t_map = time.perf_counter()
    total_hla = sum(stats.informative[g] for g in prep.typed)
    results: list[GeneCall] = []
    for k, gene in enumerate(genes):
        if gene not in prep.idx.genes:
            results.append(
                calls_mod.no_call(gene, f"reference {prep.ref.directory} has no HLA-{gene} sequences")
            )
            continue
        ev = evidence[gene]
        if total_hla == 0:
            results.append(calls_mod.no_call(gene, calls_mod.NO_READS))
        elif ev.n_pairs < calls_mod.MIN_PAIRS:
            note = (
                f"{calls_mod.INSUFFICIENT}: {ev.n_pairs} informative read pairs (need {calls_mod.MIN_PAIRS})"
            )
            results.append(calls_mod.no_call(gene, note, ev.n_pairs))
        else:
            results.append(call_gene(gene, ev, prep.idx.msa(gene)))
        report(MAPPING_SHARE + (1 - MAPPING_SHARE) * (k + 1) / len(genes))
    found = groups.Groups.load(prep.ref.directory, prep.ref.release)
    for one in results:
        groups.resolve(one, found)
    drb.resolve(results)
    dropout.resolve(results)
    return TypingResult(
        release=prep.ref.release,
        reference=str(prep.ref.directory),
        genes=list(genes),
        calls=results,
        stats=stats,
        seconds={**prep.seconds, "typing": round(time.perf_counter() - t_map, 3)},
    )


def type_sample(
    r1: Path,
    r2: Path,
    genes: tuple[str, ...] | list[str],
    reference_dir: Path | None = None,
    threads: int = 1,
    progress: Callable[[float], None] | None = None,
    cache: Path | None = None,
    shared=None,
) -> TypingResult:
    prep = prepare(genes, reference_dir, cache, shared)
    if isinstance(prep, TypingResult):
        return prep
    t_map = time.perf_counter()
    mapper = map_reads(prep, r1, r2, threads, progress)
    prep.seconds["mapping"] = round(time.perf_counter() - t_map, 3)
    return call(prep, genes, mapper.stats, mapper.evidence, progress)
