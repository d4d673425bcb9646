"""ReportStep as the Pipeline's finalizer: report.json keys and report.html content, also on failure."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from gems.errors import InputError
from workers.pipeline.artifacts import Artifact
from workers.pipeline.framework import Pipeline, PipelineOptions, SampleContext, SampleFailed, StepSkipped
from workers.pipeline.report import ReportStep

DATA = Path(__file__).resolve().parents[2] / "data" / "annotation"


class _Fake:
    """A step that returns fixed metrics (or raises), standing in for the real ones."""

    reads = ()

    def __init__(self, name, metrics=None, raises=None, artifacts=None):
        self.name, self.metrics, self.raises, self.artifacts = name, metrics, raises, artifacts or {}
        self.writes = tuple(Artifact(k) for k in self.artifacts)

    def __call__(self, ctx):
        if self.raises:
            raise self.raises
        for key, make in self.artifacts.items():
            ctx.artifacts[key] = make(ctx)
        return self.metrics


def _tsv(ctx):
    dst = ctx.out / "variants.tsv"
    shutil.copy(DATA / "NA12878_truth.variants.golden.tsv", dst)
    return dst


QC = {"pairs": 4949, "reads": 9898, "mean_quality": 35.2}
ALIGN = {
    "mapping_rate": 0.9906,
    "duplicate_rate": 0.008,
    "reference": {"fasta": "ref.fa", "sha256": "ab" * 32},
}
HLA = {
    "imgt_release": "3.55.0",
    "calls": [
        {
            "gene": "A",
            "allele1": "A*01:01",
            "allele2": "A*02:01",
            "confidence": 0.98,
            "flag": "low_confidence",
            "reads": 120,
        },
        {"gene": "B", "allele1": "B*07:02", "allele2": "B*08:01", "confidence": 0.61},
    ],
}
COVERAGE = {
    "over": "targets",
    "bases": 1000,
    "mean_depth": 31.5,
    "median_depth": 31,
    "fraction_at_least": {"1x": 1.0, "10x": 0.99, "20x": 0.9, "30x": 0.5},
    "profile": {
        "bin_bases": 2,
        "columns": ["chrom", "start", "mean"],
        "bins": [["c1", 1 + 2 * i, 20 + i % 20] for i in range(500)],
    },
}
ANNOTATE = {"by_type": {"snv": 70, "insertion": 5, "deletion": 8}, "by_consequence": {"missense_variant": 1}}


def _ctx(tmp_path, sample="NA12878", **opts) -> SampleContext:
    return SampleContext(
        sample, tmp_path / "r1.fq.gz", tmp_path / "r2.fq.gz", tmp_path / "out", PipelineOptions(**opts)
    )


class _Html(HTMLParser):
    """Collects text and checks that the markup nests properly."""

    VOID = {"meta", "br", "wbr", "line", "polyline", "polygon", "img", "input", "link"}

    def __init__(self):
        super().__init__()
        self.stack, self.text, self.tags = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        assert self.stack and self.stack[-1] == tag, (
            f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        )
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def _parse(path: Path) -> _Html:
    p = _Html()
    p.feed(path.read_text())
    p.close()
    assert p.stack == []
    return p


def test_complete_report(tmp_path):
    steps = [
        _Fake("qc", QC),
        _Fake("align", ALIGN),
        _Fake("hla", HLA),
        _Fake("variants", None),
        _Fake("annotate", ANNOTATE, artifacts={"variants_tsv": _tsv}),
        _Fake("coverage", COVERAGE),
    ]
    ctx = _ctx(
        tmp_path,
        reference=DATA / "chr22_16570000_16610000.fa",
        annotation=DATA / "chr22_16570000_16610000.ensembl.gff3",
    )
    Pipeline(steps, finalizers=[ReportStep()]).run(ctx)
    report = json.loads((ctx.out / "report.json").read_text())
    for key in [
        "schema",
        "sample",
        "status",
        "inputs",
        "summary",
        "steps",
        "skipped",
        "timing",
        "tools",
        "checksums",
        "outputs",
    ]:
        assert key in report
    assert report["status"] == "COMPLETE" and report["failure"] is None
    s = report["summary"]
    assert (s["mapping_rate"], s["duplicate_rate"], s["mean_coverage"], s["variants"]) == (
        0.9906,
        0.008,
        31.5,
        83,
    )
    assert s["hla_calls"][0] == {
        "gene": "A",
        "allele1": "A*01:01",
        "allele2": "A*02:01",
        "confidence": 0.98,
        "flag": "low_confidence",
    }
    assert report["hla"]["imgt_release"] == "3.55.0" and report["coverage"]["profile"]["bins"][0] == [
        "c1",
        1,
        20,
    ]
    assert {"pysam", "mappy", "cutadapt", "samtools", "bcftools", "python"} <= set(report["tools"])
    assert report["checksums"]["reference"]["sha256"] == "ab" * 32  # the align step's figure is reused
    assert len(report["checksums"]["annotation"]["sha256"]) == 64
    assert set(report["steps"]) == {"qc", "align", "hla", "variants", "annotate", "coverage"}
    assert all("seconds" in v and "peak_rss_mb" in v for v in report["steps"].values())
    assert report["outputs"] == [{"name": "variants.tsv", "bytes": (ctx.out / "variants.tsv").stat().st_size}]

    page = _parse(ctx.out / "report.html")
    text = " ".join(page.text)
    assert "COMPLETE" in text and "FAILED" not in text
    assert "A*01:01" in text and "B*08:01" in text and "IMGT/HLA 3.55.0" in text
    assert "Confidence (posterior)" in text and "low confidence" in text
    assert "p.W320R" in text and "splice_donor_variant" in text
    assert (
        text.index("splice_donor_variant") < text.index("p.W320R") < text.index("intron_variant")
    )  # by severity
    svg = [a for t, a in page.tags if t == "svg"]
    assert svg and svg[0]["role"] == "img"
    assert any(t == "meta" and a.get("name") == "viewport" for t, a in page.tags)
    assert all(t != "script" for t, _ in page.tags)  # self-contained, nothing to run
    assert [a.get("scope") for t, a in page.tags if t == "th"].count("col") > 10
    assert not [p for p in ctx.out.iterdir() if p.name.startswith(".")]


def test_failed_report_says_where_and_why(tmp_path):
    steps = [
        _Fake("qc", QC),
        _Fake("align", None, raises=InputError("reference ref.fa: no read permission")),
        _Fake("coverage", COVERAGE),
    ]
    ctx = _ctx(tmp_path)
    with pytest.raises(SampleFailed):
        Pipeline(steps, finalizers=[ReportStep()]).run(ctx)
    report = json.loads((ctx.out / "report.json").read_text())
    assert report["status"] == "FAILED"
    assert report["failure"] == {"step": "align", "reason": "reference ref.fa: no read permission"}
    assert report["steps"]["align"]["status"] == "failed" and "coverage" not in report["steps"]
    page = _parse(ctx.out / "report.html")
    alerts = [a for t, a in page.tags if a.get("role") == "alert"]
    assert alerts and "failed" in alerts[0]["class"]
    text = " ".join(page.text)
    assert "FAILED at step" in text and "no read permission" in text
    assert "<title>NA12878: FAILED" in (ctx.out / "report.html").read_text()


def test_skips_are_listed_and_text_is_escaped(tmp_path):
    steps = [_Fake("qc", QC), _Fake("hla", None, raises=StepSkipped("no HLA reference given"))]
    ctx = _ctx(tmp_path, sample="<script>x</script>")
    Pipeline(steps, finalizers=[ReportStep()]).run(ctx)
    report = json.loads((ctx.out / "report.json").read_text())
    assert report["skipped"] == [{"step": "hla", "reason": "no HLA reference given"}]
    html = (ctx.out / "report.html").read_text()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "HLA typing did not run: no HLA reference given" in html


def test_variant_counts_fall_back_to_the_vcf(tmp_path):
    def vcf(ctx):
        dst = ctx.out / "variants.vcf.gz"
        shutil.copy(DATA / "NA12878_GIAB_truth.local.vcf.gz", dst)
        return dst

    ctx = _ctx(tmp_path)
    Pipeline([_Fake("variants", {"records": 81}, artifacts={"vcf": vcf})], finalizers=[ReportStep()]).run(ctx)
    report = json.loads((ctx.out / "report.json").read_text())
    assert report["summary"]["variant_counts"] == {"deletion": 8, "insertion": 5, "snv": 70}


def test_a_broken_report_still_leaves_status_and_reason(tmp_path):
    ctx = _ctx(tmp_path)
    bad_tsv = _Fake(
        "annotate", ANNOTATE, artifacts={"variants_tsv": lambda c: c.out / "missing_dir" / "x.tsv"}
    )
    # A variants.tsv whose rows do not parse: the report step fails, but report.json says so.
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "missing_dir").mkdir()
    (tmp_path / "out" / "missing_dir" / "x.tsv").write_text("chrom\tpos\tconsequence\nc1\tnot-a-number\tx\n")
    with pytest.raises(SampleFailed) as err:
        Pipeline([_Fake("qc", QC), bad_tsv], finalizers=[ReportStep()]).run(ctx)
    assert err.value.step == "report"
    report = json.loads((ctx.out / "report.json").read_text())
    assert report["status"] == "FAILED" and report["steps"]["qc"]["status"] == "done"
    assert report["failure"]["step"] == "report" and report["report_error"].startswith("ValueError")
