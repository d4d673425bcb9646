"""The lake finalizer in a pipeline: local lake without a job, skipped for a failed sample."""

from __future__ import annotations

import json

from lakehelpers import context, sample_out

from lake.engine import Engine
from lake.store import LocalStore
from workers.pipeline.artifacts import Artifact
from workers.pipeline.framework import Pipeline, PipelineOptions, SampleContext
from workers.pipeline.lake import LOCAL_JOB, LakeStep
from workers.pipeline.report import ReportStep


class Fails:
    name = "variants"
    reads = ()
    writes = (Artifact.VCF,)

    def __call__(self, ctx):
        raise ValueError("caller crashed")


def test_without_a_job_the_tables_go_to_a_local_lake_in_the_out_folder(tmp_path):
    out = sample_out(tmp_path, "NA12878", "S1")
    metrics = LakeStep()(context(out, "S1", None, {}))
    assert metrics["lake"] == str(out / "lake") and metrics["job"] == LOCAL_JOB
    rows = (
        Engine(LocalStore(out / "lake")).query("SELECT job, sample, count(*) FROM variants GROUP BY ALL").rows
    )
    n_tsv = len((out / "variants.tsv").read_text().splitlines()) - 1
    assert rows == [(LOCAL_JOB, "S1", n_tsv)]  # every annotated allele, once
    assert metrics["tables"]["hla"]["rows"] == 0  # HLA did not run: an empty partition


def test_a_failed_sample_never_reaches_the_lake(tmp_path):
    ctx = SampleContext(sample="S9", r1=tmp_path / "r1", r2=tmp_path / "r2", out=tmp_path / "out")
    pipeline = Pipeline([Fails()], finalizers=[ReportStep(), LakeStep()])
    try:
        pipeline.run(ctx)
    except Exception as exc:  # SampleFailed from the failing step
        assert "caller crashed" in str(exc)
    assert ctx.report["steps"]["lake"]["status"] == "skipped"
    assert "did not complete" in ctx.report["steps"]["lake"]["reason"]
    assert not (tmp_path / "out" / "lake").exists()
    assert json.loads((tmp_path / "out" / "report.json").read_text())["status"] == "FAILED"


def test_the_pipeline_runs_the_lake_last(tmp_path):
    from workers.pipeline.sample import build_pipeline

    assert [f.name for f in build_pipeline(PipelineOptions()).finalizers] == ["report", "lake"]
