"""One sample through the whole analysis: the pipeline the worker and `gems run-sample` both run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from workers.pipeline.framework import (
    Pipeline,
    PipelineOptions,
    ProgressFn,
    SampleContext,
    SampleFailed,
    Step,
)

WORK_DIR = "work"  # intermediates (trimmed reads, sort spill) that steps keep under ctx.out


def build_pipeline(options: PipelineOptions) -> Pipeline:
    """qc -> align -> hla -> variants -> annotate -> coverage -> stats (-> cram, when the alignments are
    kept as CRAM), with the report and the lake as finalizers (a sharded sample's lead: qc -> split ->
    hla -> gather -> variants -> ...).

    Every step is always present: one whose input was not given (no reference, no HLA reference,
    no annotation, ...) raises StepSkipped, so the report says what did not run and why.
    """
    from workers.hla.step import HlaStep
    from workers.pipeline.align import AlignStep
    from workers.pipeline.annotate import AnnotateStep
    from workers.pipeline.coverage import CoverageStep
    from workers.pipeline.cram import CramStep
    from workers.pipeline.lake import LakeStep
    from workers.pipeline.qc import QcStep
    from workers.pipeline.qcstats import StatsStep
    from workers.pipeline.report import ReportStep
    from workers.pipeline.variants import VariantStep

    hla = HlaStep(shared=options.index_store)
    rest: list[Step] = [VariantStep(), AnnotateStep(), CoverageStep(), StatsStep()]
    if options.alignment_format == "cram":  # after every step that reads the BAM
        rest.append(CramStep())
    finalizers: list[Step] = [ReportStep(), LakeStep(options.lake)]
    if options.shards > 1:  # a sharded sample's lead: split, and gather the shards' alignments
        from workers.hla.step import ShardedHlaStep
        from workers.pipeline.scatter import GatherStep, SplitStep

        sharded_hla = ShardedHlaStep(shared=options.index_store)
        return Pipeline(
            [QcStep(defer=True), SplitStep(), sharded_hla, GatherStep(), *rest], finalizers=finalizers
        )
    align = AlignStep()
    # QC streams the reads into the aligner as it reads them: one decompression, one pass.
    return Pipeline([QcStep(stream_to=align), align, hla, *rest], finalizers=finalizers)


def run_sample(
    sample: str,
    r1: Path,
    r2: Path,
    out: Path,
    options: PipelineOptions,
    on_progress: ProgressFn | None = None,
) -> dict[str, Any]:
    """Run the pipeline on one read pair into `out`; returns the report (as written to report.json).

    Raises SampleFailed (with `.step` and `.reason`) when a step failed; report.json and
    report.html are written before it is raised.
    """
    out = Path(out)
    for stale in ("report.json", "report.html"):  # a report present afterwards must be this run's
        (out / stale).unlink(missing_ok=True)
    ctx = SampleContext(sample=sample, r1=Path(r1), r2=Path(r2), out=out, options=options)
    if on_progress is not None:
        ctx.on_progress = on_progress
    pipeline = build_pipeline(options)
    failure: SampleFailed | None = None
    try:
        pipeline.run(ctx)
    except SampleFailed as exc:
        failure = exc
    finally:
        for started in ctx.running.values():  # a step that failed before the one it started for
            started.cancel()
        ctx.running.clear()
        if not options.extra.get("keep_work"):
            shutil.rmtree(out / WORK_DIR, ignore_errors=True)
    report = _written_report(out, ctx)
    if failure is not None:
        raise failure
    return report


def _written_report(out: Path, ctx: SampleContext) -> dict[str, Any]:
    """report.json as written, plus the report step's own timing (known only after it ran)."""
    path = out / "report.json"
    if not path.exists():  # the report step itself failed; ctx.report says why
        return ctx.report
    report = json.loads(path.read_text(encoding="utf-8"))
    report["steps"] = ctx.report.get("steps", report.get("steps", {}))
    return report
