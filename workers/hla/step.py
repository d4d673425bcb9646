"""The pipeline step: HLA-type the sample for the job's `hla_class`."""

from __future__ import annotations

from gems.errors import InputError
from workers.pipeline.artifacts import Artifact
from workers.pipeline.framework import SampleContext, StepSkipped

from . import names, output, typer


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
        tsv, js, record = output.write(result, ctx.out, ctx.sample, [ctx.r1.name, ctx.r2.name])
        ctx.artifacts[Artifact.HLA_TSV] = tsv
        ctx.artifacts[Artifact.HLA_JSON] = js
        ctx.artifacts[Artifact.HLA_MIRING] = record
        return result.metrics()
