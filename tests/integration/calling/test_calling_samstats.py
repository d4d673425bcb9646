"""`samtools stats` merged from parts, on a real BAM: one part (the whole BAM, its whole insert
table) gives back samtools' own file line for line; the windows' parts are held to the whole
in tests/integration/calling/test_calling_shards.py (samstats_check)."""

from __future__ import annotations

import pysam
from na12878_slice import R1, R2, copy_reference

from workers.genomics import samstats
from workers.pipeline.align import AlignStep
from workers.pipeline.framework import PipelineOptions, SampleContext


def test_one_part_merged_is_samtools_own_file(tmp_path):
    ref = copy_reference(tmp_path)
    ctx = SampleContext("NA12878", R1, R2, tmp_path / "out", PipelineOptions(reference=ref, threads=2))
    AlignStep()(ctx)
    bam = str(ctx.out / "sample.bam")
    whole = pysam.samtools.stats("-r", str(ref), bam)
    merged = samstats.merge(
        [pysam.samtools.stats("-m", "1", "-r", str(ref), bam)], "stats (merged)", [40_000]
    )
    expected = [ln for ln in whole.splitlines() if not ln.startswith("# The command line was:")]
    got = merged.splitlines()
    assert got.pop(2) == "# The command line was:  stats (merged)"
    assert got == expected
    assert any(ln.startswith("GCD\t") for ln in got) and any(ln.startswith("IS\t") for ln in got)
