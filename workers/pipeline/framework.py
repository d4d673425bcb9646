"""The per-sample pipeline: small steps with one signature, composed by a Pipeline object.

A step is any callable `step(ctx: SampleContext) -> dict | None` with a `name` and the
artifacts it `reads` and `writes` (`workers.pipeline.artifacts.Artifact`). It reads its inputs
from `ctx` (reads, options, artifacts of earlier steps), writes its outputs under `ctx.out`,
registers them in `ctx.artifacts`, and returns the metrics that go into the sample's report
under its name. The pipeline refuses, before anything runs, a step that reads what no earlier
step writes, and fails a step that registers what it did not declare. It raises `StepSkipped` when its input is not given
(the report says why) and `gems.errors.InputError` (or any exception) when the sample must fail.
"""

from __future__ import annotations

import resource
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from gems.errors import InputError
from gems.sharding import BATCH_BASES
from gems.states import SampleStatus
from workers.pipeline.artifacts import Artifact


class StepSkipped(Exception):
    """Raised by a step whose input was not given; the message says why."""


class PipelineError(Exception):
    """Steps whose declared artifacts do not fit together: a bug in the pipeline, not the sample."""


class SampleFailed(Exception):
    """Raised by Pipeline.run when a step failed; `reason` is short and user-facing."""

    def __init__(self, step: str, reason: str):
        super().__init__(f"{step}: {reason}")
        self.step = step
        self.reason = reason


@dataclass
class PipelineOptions:
    reference: Path | None = None  # FASTA for alignment and variant calling
    hla_reference: Path | None = None  # directory with IMGT/HLA FASTA files
    hla_class: str | None = None  # "1", "2", "both" or None (no HLA typing)
    targets: Path | None = None  # BED restricting variant calling / coverage
    annotation: Path | None = None  # GFF3 gene models
    threads: int = 1
    # minimap2's batch (-K); the same in a sample's single and sharded runs (workers.genomics.shards)
    batch_bases: int = BATCH_BASES
    # regions of the reference variant calling is scattered over, `threads` at a time (None: one
    # per thread; 1: one pass). The calls are the same whatever the number (workers.pipeline.variants).
    calling_regions: int | None = None
    trim: bool = False  # adapter + quality trimming
    min_read_length: int = 30
    # Where a finished sample's lake tables go (a workers.pipeline.lake.LakeTarget; None: a local lake).
    lake: Any = None
    # A sample's shards (gems.sharding); above 1, its lead splits and gathers in place of align,
    # meeting the shards' workers at `shard_store` (a workers.pipeline.scatter.ShardStore).
    shards: int = 1
    shard_store: Any = None
    # "bam" or "cram": how the alignments are kept (workers.pipeline.cram; None: BAM)
    alignment_format: str | None = None
    # Where workers share built indexes (a workers.program.indexstore.S3IndexStore; None: this disk only).
    index_store: Any = None
    extra: dict[str, Any] = field(default_factory=dict)  # plain settings only (trim_quality, keep_work)


ProgressFn = Callable[[str, float | None], None]


def _no_progress(step: str, fraction: float | None) -> None:
    return None


@dataclass
class SampleContext:
    sample: str
    r1: Path
    r2: Path
    out: Path
    options: PipelineOptions = field(default_factory=PipelineOptions)
    artifacts: dict[Artifact, Path] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)  # step name -> metrics
    on_progress: ProgressFn = _no_progress
    current_step: str = ""
    # Work a step started for a later one, by that step's name (align's mapping while QC streams
    # the reads to it); each has a `cancel()`, which the sample runner calls on whatever is left.
    running: dict[str, Any] = field(default_factory=dict)

    def progress(self, fraction: float | None) -> None:
        """Report progress of the current step (0..1, or None when unknown)."""
        self.on_progress(self.current_step, fraction)


class Step(Protocol):
    """A step may also have `start(ctx)`: the pipeline calls it once the artifacts the step reads
    are there, before its turn, and the step keeps what it started in `ctx.running`."""

    name: str
    reads: tuple[Artifact, ...]  # artifacts of earlier steps it uses (it skips itself if absent)
    writes: tuple[Artifact, ...]  # artifacts it registers

    def __call__(self, ctx: SampleContext) -> dict | None: ...


def _peak_rss_mb() -> float:
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(self_kb, child_kb) / 1024, 1)


class Pipeline:
    """Runs steps in order; records status, timing and peak memory of each in `ctx.report`.

    `finalizers` always run, after success or failure (the report writer is one), so a failed
    sample still gets a report that says which step failed and why.
    """

    def __init__(self, steps: list[Step], finalizers: list[Step] | None = None):
        self.steps = list(steps)
        self.finalizers = list(finalizers or [])

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.steps]

    def check(self, given: set[Artifact] | None = None) -> None:
        """Raise PipelineError when a step reads an artifact that neither `given` (already in the
        context) nor an earlier step writes. Finalizers are not held to it: they run after a
        failure too, over whatever the steps left."""
        made = set(given or ())
        for step in self.steps:
            missing = [a.value for a in step.reads if a not in made]
            if missing:
                raise PipelineError(
                    f"step {step.name!r} reads {', '.join(missing)}, which no step before it writes"
                )
            made.update(step.writes)

    def _run_one(self, step: Step, ctx: SampleContext) -> None:
        steps = ctx.report.setdefault("steps", {})
        ctx.current_step = step.name
        ctx.progress(None)
        start = time.perf_counter()
        entry: dict[str, Any] = {}
        before = set(ctx.artifacts)
        try:
            metrics = step(ctx)
            undeclared = sorted(str(a) for a in set(ctx.artifacts) - before - set(step.writes))
            if undeclared:
                raise PipelineError(
                    f"step {step.name!r} wrote {', '.join(undeclared)}, which it does not declare"
                )
            entry["status"] = "done"
            if metrics is not None:
                ctx.report[step.name] = metrics
        except StepSkipped as exc:
            entry.update(status="skipped", reason=str(exc))
        except InputError as exc:
            entry.update(status="failed", reason=exc.message)
            raise SampleFailed(step.name, exc.message) from exc
        except Exception as exc:
            entry.update(
                status="failed",
                reason=f"{type(exc).__name__}: {exc}",
                traceback=traceback.format_exc(limit=5),
            )
            raise SampleFailed(step.name, f"{type(exc).__name__}: {exc}") from exc
        finally:
            entry["seconds"] = round(time.perf_counter() - start, 3)
            entry["peak_rss_mb"] = _peak_rss_mb()
            steps[step.name] = entry

    @staticmethod
    def _start_early(later: list[Step], ctx: SampleContext) -> None:
        """Start, in the background, a later step that can (`start`) once what it reads is there
        (samtools stats as soon as the BAM is): it finishes its work when its turn comes."""
        for step in later:
            start = getattr(step, "start", None)
            if start is None or step.name in ctx.running or not all(a in ctx.artifacts for a in step.reads):
                continue
            try:
                start(ctx)
            except Exception:  # noqa: BLE001 - the step runs in its turn instead, and says what is wrong
                ctx.running.pop(step.name, None)

    def run(self, ctx: SampleContext) -> dict[str, Any]:
        self.check(set(ctx.artifacts))
        ctx.out.mkdir(parents=True, exist_ok=True)
        ctx.report.setdefault("sample", ctx.sample)
        failure: SampleFailed | None = None
        try:
            for i, step in enumerate(self.steps):
                self._run_one(step, ctx)
                self._start_early(self.steps[i + 1 :], ctx)
        except SampleFailed as exc:
            failure = exc
        ctx.report["status"] = (SampleStatus.FAILED if failure else SampleStatus.COMPLETE).value
        if failure:
            ctx.report["failure"] = {"step": failure.step, "reason": failure.reason}
        for fin in self.finalizers:
            try:
                self._run_one(fin, ctx)
            except SampleFailed as exc:
                failure = failure or exc
        if failure:
            raise failure
        return ctx.report
