"""Pipeline step "stats": the field's own QC files of a sample, `samtools stats` of its alignments and
`bcftools stats` of its calls, as MultiQC and every other QC tool read them.

`samtools.stats.txt` is `samtools stats -r <reference>` of the duplicate-marked BAM (the
reference gives the mismatch and GC-depth sections); `bcftools.stats.txt` is `bcftools stats -F
<reference> -s -` of the VCF (per-sample counts too). Both are written next to the sample's
results; the step reports the headline figures (`samtools stats`' SN section) so a check of one
file against the other's figures is possible without opening either.
"""

from __future__ import annotations

from pathlib import Path

import pysam
from pysam import bcftools

from workers.genomics.reference import prepare_reference
from workers.pipeline.artifacts import Artifact
from workers.pipeline.framework import SampleContext, StepSkipped

SAMTOOLS_STATS = "samtools.stats.txt"
BCFTOOLS_STATS = "bcftools.stats.txt"
# samtools stats' summary numbers the report keeps (the rest is in the file)
KEPT = {
    "raw total sequences": "sequences",
    "reads mapped": "reads_mapped",
    "reads duplicated": "reads_duplicated",
    "reads properly paired": "reads_properly_paired",
    "error rate": "error_rate",
    "average length": "average_length",
    "insert size average": "insert_size_average",
}


def summary(stats_text: str) -> dict[str, float]:
    """The SN lines of `samtools stats` output that KEPT names, as numbers."""
    out: dict[str, float] = {}
    for line in stats_text.splitlines():
        if not line.startswith("SN\t"):
            continue
        parts = line.split("\t")
        name = parts[1].rstrip(":")
        if name in KEPT:
            value = float(parts[2])
            out[KEPT[name]] = int(value) if value.is_integer() else value
    return out


def _write(path: Path, text: str) -> None:
    part = path.with_name(path.name + ".part")
    part.write_text(text)
    part.replace(path)


class StatsStep:
    name = "stats"
    reads: tuple[Artifact, ...] = (Artifact.BAM,)
    writes: tuple[Artifact, ...] = (Artifact.SAMTOOLS_STATS, Artifact.BCFTOOLS_STATS)

    def __call__(self, ctx: SampleContext) -> dict:
        bam = ctx.artifacts.get(Artifact.BAM)
        if ctx.options.reference is None or bam is None or not Path(bam).exists():
            raise StepSkipped("no alignments (alignment did not run)")
        ref = prepare_reference(ctx.options.reference)
        out = Path(ctx.out)
        threads = str(max(1, int(ctx.options.threads or 1)))
        text = str(pysam.samtools.stats("-@", threads, "-r", str(ref.fasta), str(bam)))
        _write(out / SAMTOOLS_STATS, text)
        ctx.artifacts[Artifact.SAMTOOLS_STATS] = out / SAMTOOLS_STATS
        metrics: dict = {"samtools_stats": SAMTOOLS_STATS, **summary(text)}
        vcf = ctx.artifacts.get(Artifact.VCF)
        if vcf is not None and Path(vcf).exists():
            _write(out / BCFTOOLS_STATS, str(bcftools.stats("-F", str(ref.fasta), "-s", "-", str(vcf))))
            ctx.artifacts[Artifact.BCFTOOLS_STATS] = out / BCFTOOLS_STATS
            metrics["bcftools_stats"] = BCFTOOLS_STATS
        return metrics
