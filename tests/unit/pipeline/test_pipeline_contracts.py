"""Steps declare the artifacts they read and write; the pipeline refuses, before anything runs,
a step that reads what no earlier step writes, and fails a step that writes what it did not
declare (workers.pipeline.framework, workers.pipeline.artifacts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.pipeline.annotate import AnnotateStep
from workers.pipeline.artifacts import Artifact
from workers.pipeline.framework import Pipeline, PipelineError, PipelineOptions, SampleContext, SampleFailed
from workers.pipeline.sample import build_pipeline
from workers.pipeline.variants import VariantStep


def _ctx(tmp_path: Path) -> SampleContext:
    return SampleContext("s1", tmp_path / "r1.fq", tmp_path / "r2.fq", tmp_path / "out")


class _Step:
    def __init__(self, name, reads=(), writes=(), registers=()):
        self.name, self.reads, self.writes, self.registers = name, reads, writes, registers
        self.ran = False

    def __call__(self, ctx):
        self.ran = True
        for artifact in self.registers:
            ctx.artifacts[artifact] = ctx.out / str(artifact)


def test_the_real_pipeline_fits_together_and_says_what_flows():
    pipeline = build_pipeline(PipelineOptions())
    pipeline.check()
    flow = {s.name: ([a.value for a in s.reads], [a.value for a in s.writes]) for s in pipeline.steps}
    assert flow == {
        "qc": ([], ["r1", "r2"]),
        "align": (["r1", "r2"], ["bam"]),
        "hla": ([], ["hla_tsv", "hla_json", "hla_miring"]),  # the sample's own reads, on purpose
        "variants": (["bam"], ["vcf"]),
        "annotate": (["vcf"], ["variants_tsv"]),
        "coverage": (["bam"], []),
        "stats": (["bam"], ["samtools_stats", "bcftools_stats"]),
    }
    kept_as_cram = build_pipeline(PipelineOptions(alignment_format="cram"))
    kept_as_cram.check()
    assert kept_as_cram.names[-2:] == ["stats", "cram"]


def test_a_sharded_samples_lead_splits_and_gathers_in_place_of_align():
    pipeline = build_pipeline(PipelineOptions(shards=4))
    pipeline.check()
    flow = {s.name: ([a.value for a in s.reads], [a.value for a in s.writes]) for s in pipeline.steps}
    assert list(flow)[:4] == ["qc", "split", "hla", "gather"]
    assert flow["split"] == (["r1", "r2"], ["shards"])
    assert flow["gather"] == (["shards"], ["bam", "samtools_stats", "raw_calls"])


def test_a_step_asking_for_what_no_earlier_step_makes_fails_before_anything_runs(tmp_path):
    first = _Step("first")
    ctx = _ctx(tmp_path)
    with pytest.raises(PipelineError, match="step 'annotate' reads vcf, which no step before it writes"):
        Pipeline([first, AnnotateStep()]).run(ctx)
    assert not first.ran and not ctx.out.exists() and ctx.report == {}


def test_order_matters_and_an_artifact_already_given_counts(tmp_path):
    with pytest.raises(PipelineError, match="'variants' reads bam"):
        Pipeline([VariantStep(), _Step("align", writes=(Artifact.BAM,))]).check()
    Pipeline([VariantStep()]).check(given={Artifact.BAM})


def test_a_step_that_writes_what_it_did_not_declare_fails_the_sample(tmp_path):
    sneaky = _Step("sneaky", writes=(Artifact.BAM,), registers=(Artifact.BAM, Artifact.VCF))
    with pytest.raises(SampleFailed) as err:
        Pipeline([sneaky]).run(_ctx(tmp_path))
    assert err.value.step == "sneaky"
    assert "wrote vcf, which it does not declare" in err.value.reason


def test_finalizers_read_whatever_the_steps_left():
    report = _Step("report", reads=(Artifact.VCF,))
    Pipeline([_Step("qc")], finalizers=[report]).check()
