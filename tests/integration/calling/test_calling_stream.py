"""QC streaming the reads into minimap2: same numbers as separate passes, nothing left behind."""

from __future__ import annotations

import gzip
import os
import subprocess
import time
from pathlib import Path

import pysam
import pytest
from na12878_slice import R1, R2, copy_reference, truncated_r1

from gems.errors import InputError
from workers.genomics.readfeed import ReadFeed
from workers.pipeline.align import AlignStep
from workers.pipeline.framework import PipelineOptions, SampleContext, SampleFailed
from workers.pipeline.qc import QcStep
from workers.pipeline.sample import run_sample


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    return copy_reference(tmp_path_factory.mktemp("ref"))


def _children(name: str) -> list[int]:
    """Live processes called `name` that this test process started (directly or below)."""
    me, found = os.getpid(), []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        comm, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
        if comm == name and rest[0] != "Z" and int(rest[1]) == me:
            found.append(int(pid))
    return found


def _qc_align(reference: Path, out: Path, r1: Path, r2: Path, streamed: bool, **options):
    ctx = SampleContext("s", r1, r2, out, PipelineOptions(reference=reference, **options))
    align = AlignStep()
    ctx.report["qc"] = (QcStep(stream_to=align) if streamed else QcStep())(ctx)
    ctx.report["align"] = align(ctx)
    return ctx


def test_streamed_qc_and_alignment_measure_what_separate_passes_do(reference, tmp_path):
    streamed = _qc_align(reference, tmp_path / "a", R1, R2, streamed=True)
    separate = _qc_align(reference, tmp_path / "b", R1, R2, streamed=False)
    assert streamed.report["qc"].pop("streamed_to") == "align"
    assert streamed.report["qc"] == separate.report["qc"]
    a, b = streamed.report["align"], separate.report["align"]
    assert {k: v for k, v in a.items() if k != "reference"} == {
        k: v for k, v in b.items() if k != "reference"
    }
    assert a["reads"] == 2 * 4949
    assert not streamed.running and not _children("minimap2")


def test_truncated_reads_stop_the_aligner_and_leave_no_bam(reference, tmp_path):
    ctx = SampleContext(
        "s", truncated_r1(tmp_path), R2, tmp_path / "out", PipelineOptions(reference=reference)
    )
    with pytest.raises(InputError, match="truncated"):
        QcStep(stream_to=AlignStep())(ctx)
    assert not ctx.running
    assert not _children("minimap2") and not _children("python")
    left = [p.name for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert not [n for n in left if "bam" in n], left


def test_phred64_reads_are_rewritten_before_the_aligner_reads_them(reference, tmp_path):
    # Old Illumina qualities must reach the BAM as Phred+33: QC stops the stream and rewrites.
    paths = []
    for src in (R1, R2):
        with gzip.open(src, "rt") as fh:
            lines = fh.read().splitlines()
        for i in range(3, len(lines), 4):
            lines[i] = "".join(chr(ord(c) + 31) for c in lines[i])
        dst = tmp_path / src.name
        with gzip.open(dst, "wt") as out:
            out.write("\n".join(lines) + "\n")
        paths.append(dst)
    ctx = _qc_align(reference, tmp_path / "out", paths[0], paths[1], streamed=True)
    assert ctx.report["qc"]["quality_encoding"] == "phred+64" and "streamed_to" not in ctx.report["qc"]
    with gzip.open(R1, "rt") as fh:
        first = fh.read().splitlines()[:4]
    name, quals = first[0][1:].split()[0], first[3]
    with pysam.AlignmentFile(str(ctx.out / "sample.bam")) as bam:
        read = next(r for r in bam.fetch(until_eof=True) if r.query_name == name and r.is_read1)
    got = read.qual if not read.is_reverse else read.qual[::-1]
    assert got == quals
    assert not _children("minimap2")


def test_a_sample_failing_after_qc_started_the_aligner_leaves_no_process(reference, tmp_path):
    options = PipelineOptions(reference=reference, min_read_length=1000)
    with pytest.raises(SampleFailed) as failed:
        run_sample("s", R1, R2, tmp_path / "out", options)
    assert failed.value.step == "qc" and "shorter than the minimum length" in failed.value.reason
    time.sleep(0.2)
    assert not _children("minimap2") and not _children("python")
    assert not list((tmp_path / "out").glob("sample.bam*"))


def test_a_feed_passes_every_byte_on_and_survives_a_consumer_that_stops_early(tmp_path):
    feed = ReadFeed()
    outs = [tmp_path / "1", tmp_path / "2"]
    cmd = f"cat {feed.paths[0]} > {outs[0]} & cat {feed.paths[1]} > {outs[1]}; wait"
    consumer = subprocess.Popen(["bash", "-c", cmd], pass_fds=feed.fds)  # noqa: S603
    feed.consumer_started()
    for opened in (feed.opener(R1), feed.opener(R2)):
        while opened.read(1 << 16):
            pass
        opened.close()
    feed.end()
    assert consumer.wait(30) == 0 and feed.error is None
    for src, out in zip((R1, R2), outs, strict=True):
        assert out.read_bytes() == gzip.decompress(src.read_bytes())
    # A consumer that stops after a few bytes: the reader goes on, the error is kept.
    feed = ReadFeed()
    consumer = subprocess.Popen(
        ["head", "-c", "10", str(feed.paths[0])], pass_fds=feed.fds, stdout=subprocess.DEVNULL
    )  # noqa: S603
    feed.consumer_started()
    for f in (feed.opener(R1), feed.opener(R2)):
        while f.read(1 << 16):
            pass
    assert consumer.wait(30) == 0
    feed.end()  # returns: what could not be written is dropped, not waited on
    assert isinstance(feed.error, OSError)


def test_a_missing_reference_is_the_align_steps_failure_not_qcs(tmp_path):
    ctx = SampleContext("s", R1, R2, tmp_path, PipelineOptions(reference=tmp_path / "nope.fa"))
    align = AlignStep()
    ctx.report["qc"] = QcStep(stream_to=align)(ctx)  # QC makes its own pass
    assert "streamed_to" not in ctx.report["qc"] and not ctx.running
    with pytest.raises(InputError, match="not found"):
        align(ctx)
