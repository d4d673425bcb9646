"""Pipeline step "stats": the field's own QC files of a sample, `samtools stats` of its alignments and
`bcftools stats` of its calls, as MultiQC and every other QC tool read them.

`samtools.stats.txt` is `samtools stats -r <reference>` of the duplicate-marked BAM (the
reference gives the mismatch and GC-depth sections); `bcftools.stats.txt` is `bcftools stats -F
<reference> -s -` of the VCF (per-sample counts too). Both are written next to the sample's
results; the step reports the headline figures (`samtools stats`' SN section) so a check of one
file against the other's figures is possible without opening either.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pysam
from pysam import bcftools

from workers.genomics import children
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


class _Background:
    """`samtools stats` running in a child while the steps before this one run."""

    def __init__(self, bam: Path, fasta: Path, out: Path):
        self.bam, self.out = bam, out
        self._stdout = open(out, "wb")  # noqa: SIM115 - lives as long as the child
        self._stderr = open(Path(str(out) + ".log"), "w+b")  # noqa: SIM115
        code = "import sys, pysam; sys.stdout.write(pysam.samtools.stats(*sys.argv[1:]))"
        self.proc = subprocess.Popen(
            children.command(code, "-r", str(fasta), str(bam)),
            stdout=self._stdout,
            stderr=self._stderr,
            env=children.env(),
        )

    def _close(self) -> str:
        self._stdout.close()
        self._stderr.seek(0)
        lines = [ln for ln in self._stderr.read().decode(errors="replace").splitlines() if ln.strip()]
        self._stderr.close()
        Path(str(self.out) + ".log").unlink(missing_ok=True)
        return lines[-1][:300] if lines else "stopped with no message"

    def result(self) -> str:
        if self.proc.wait() != 0:
            raise RuntimeError(f"samtools stats: {self._close()}")
        self._close()
        text = self.out.read_text()
        self.out.unlink(missing_ok=True)
        return text

    def cancel(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._close()
        self.out.unlink(missing_ok=True)


def _gathered(ctx: SampleContext) -> str | None:
    """The `samtools stats` a sharded sample's gather made from its windows, if it made one."""
    made = ctx.artifacts.get(Artifact.SAMTOOLS_STATS)
    return Path(made).read_text() if made is not None and Path(made).exists() else None


class StatsStep:
    """A sharded sample's gather leaves `samtools stats` merged from its windows (run on every
    core beside the gather); otherwise samtools stats starts as soon as the BAM is there (`start`,
    in a child: it reads the whole BAM on one thread, while calling, annotation and coverage
    run). bcftools stats of the calls (seconds) runs in the step's turn."""

    name = "stats"
    reads: tuple[Artifact, ...] = (Artifact.BAM,)
    writes: tuple[Artifact, ...] = (Artifact.SAMTOOLS_STATS, Artifact.BCFTOOLS_STATS)

    def start(self, ctx: SampleContext) -> None:
        bam = ctx.artifacts.get(Artifact.BAM)
        if ctx.options.reference is None or bam is None or not Path(bam).exists() or _gathered(ctx):
            return
        ref = prepare_reference(ctx.options.reference)
        (Path(ctx.out) / "work").mkdir(parents=True, exist_ok=True)
        ctx.running[self.name] = _Background(
            Path(bam), ref.fasta, Path(ctx.out) / "work" / "samtools.stats.early"
        )

    def __call__(self, ctx: SampleContext) -> dict:
        early: _Background | None = ctx.running.pop(self.name, None)
        bam = ctx.artifacts.get(Artifact.BAM)
        if ctx.options.reference is None or bam is None or not Path(bam).exists():
            if early is not None:
                early.cancel()
            raise StepSkipped("no alignments (alignment did not run)")
        ref = prepare_reference(ctx.options.reference)
        out = Path(ctx.out)
        threads = str(max(1, int(ctx.options.threads or 1)))
        gathered = _gathered(ctx)
        if gathered is not None:  # the gather's windows' stats, merged: no pass over the BAM
            text = gathered
        elif early is not None and early.bam == Path(bam):
            text = early.result()
        else:
            if early is not None:
                early.cancel()
            text = str(pysam.samtools.stats("-@", threads, "-r", str(ref.fasta), str(bam)))
        _write(out / SAMTOOLS_STATS, text)
        ctx.artifacts[Artifact.SAMTOOLS_STATS] = out / SAMTOOLS_STATS
        metrics: dict = {
            "samtools_stats": SAMTOOLS_STATS,
            **summary(text),
            "started_early": early is not None,
            "from_windows": gathered is not None,
        }
        vcf = ctx.artifacts.get(Artifact.VCF)
        if vcf is not None and Path(vcf).exists():
            _write(out / BCFTOOLS_STATS, str(bcftools.stats("-F", str(ref.fasta), "-s", "-", str(vcf))))
            ctx.artifacts[Artifact.BCFTOOLS_STATS] = out / BCFTOOLS_STATS
            metrics["bcftools_stats"] = BCFTOOLS_STATS
        return metrics
