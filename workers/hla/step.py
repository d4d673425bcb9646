"""The pipeline step: HLA-type the sample for the job's `hla_class`."""

from __future__ import annotations

from pathlib import Path

from gems.errors import InputError
from workers.genomics.shards import load_split
from workers.pipeline.artifacts import Artifact
from workers.pipeline.framework import SampleContext, StepSkipped

from . import names, output, shardmap, typer


class HlaStep:
    name = "hla"
    # The sample's own reads, not QC's: the typer soft-clips adapters and poor tails as it aligns,
    # and every read of an HLA gene is evidence; trimming would only shorten informative reads.
    reads: tuple[Artifact, ...] = ()
    writes: tuple[Artifact, ...] = (Artifact.HLA_TSV, Artifact.HLA_JSON, Artifact.HLA_MIRING)

    def __init__(self, cache=None, shared=None):
        self.cache = cache  # index cache directory (None: the user cache)
        self.shared = shared  # where workers share built indexes (workers.program.indexstore), or None

    def __call__(self, ctx: SampleContext) -> dict:
        hla_class = ctx.options.hla_class
        if hla_class in (None, ""):
            raise StepSkipped("no hla_class requested")
        try:
            genes = names.genes_for_class(hla_class)
        except ValueError as exc:
            raise InputError(str(exc)) from exc
        result = typer.type_sample(
            ctx.r1,
            ctx.r2,
            genes,
            reference_dir=ctx.options.hla_reference,
            threads=ctx.options.threads,
            progress=ctx.progress,
            cache=self.cache,
            shared=self.shared,
        )
        return self.finish(ctx, result)

    @staticmethod
    def finish(ctx: SampleContext, result: typer.TypingResult) -> dict:
        """The typing's files and the step's metrics."""
        tsv, js, record = output.write(result, ctx.out, ctx.sample, [ctx.r1.name, ctx.r2.name])
        ctx.artifacts[Artifact.HLA_TSV] = tsv
        ctx.artifacts[Artifact.HLA_JSON] = js
        ctx.artifacts[Artifact.HLA_MIRING] = record
        return result.metrics()


class ShardedHlaStep(HlaStep):
    """A sharded sample's lead: the shards' workers map their own reads (workers.hla.shardmap), and
    the lead adds their evidence up, in shard order, and calls. That is the whole sample's typing
    where the split cut the sample's own reads; where QC rewrote them first (trimming, Phred+64)
    the shards hold the rewritten ones, and the lead types the sample's own reads itself, as a
    single worker does."""

    reads: tuple[Artifact, ...] = (Artifact.SHARDS,)

    def __call__(self, ctx: SampleContext) -> dict:
        hla_class = ctx.options.hla_class
        own = Path(ctx.artifacts.get(Artifact.READS_R1, ctx.r1)) == Path(ctx.r1)
        if hla_class in (None, "") or not own:
            return super().__call__(ctx)
        try:
            genes = names.genes_for_class(hla_class)
        except ValueError as exc:
            raise InputError(str(exc)) from exc
        prep = typer.prepare(genes, ctx.options.hla_reference, self.cache, self.shared)
        if isinstance(prep, typer.TypingResult):
            return self.finish(ctx, prep)
        shards = load_split(ctx.artifacts[Artifact.SHARDS])
        parts = [shardmap.from_bytes(data) for data in ctx.options.shard_store.hla(shards)]
        stats, evidence = shardmap.merged(parts, prep.typed)
        if stats.pairs != sum(s.pairs for s in shards):
            raise InputError(
                f"the shards' HLA mapping saw {stats.pairs} read pairs where the split cut {sum(s.pairs for s in shards)}"
            )
        return self.finish(ctx, typer.call(prep, genes, stats, evidence, ctx.progress))
