"""Pipeline step "cram": the sample's alignments kept as CRAM instead of BAM, when asked or when large.

`options.alignment_format`: `bam` keeps `sample.bam`; `cram` writes `sample.cram` (+ `.crai`)
with `samtools view -C` against the job's reference, in windows of the reference at once on
`threads` (workers.genomics.windows.to_cram: the parts concatenated hold the BAM's records in
its order), and removes the BAM, so only the CRAM is
uploaded; unset, CRAM for a sample whose reads are over 4 GiB of FASTQ.gz (gems.alignments). CRAM
stores bases as differences from the reference, so it can only be read with that reference:
every @SQ line carries the contig's MD5 (M5, which htslib adds from the reference), and the
report records the reference's SHA-256, its source and those MD5s. The step runs after every
step that reads the alignments (calling, coverage, stats), which read the BAM.
"""

from __future__ import annotations

from pathlib import Path

import pysam

from workers.genomics import windows
from workers.genomics.reference import prepare_reference
from workers.pipeline.artifacts import Artifact
from workers.pipeline.framework import SampleContext, StepSkipped


class CramStep:
    name = "cram"
    reads: tuple[Artifact, ...] = (Artifact.BAM,)
    writes: tuple[Artifact, ...] = (Artifact.CRAM,)

    def __call__(self, ctx: SampleContext) -> dict:
        fmt = ctx.options.alignment_format or "bam"
        if fmt != "cram":
            raise StepSkipped("alignments kept as BAM (alignment_format bam)")
        bam = ctx.artifacts.get(Artifact.BAM)
        if ctx.options.reference is None or bam is None or not Path(bam).exists():
            raise StepSkipped("no alignments (alignment did not run)")
        ref = prepare_reference(ctx.options.reference)
        out = Path(ctx.out)
        cram = out / "sample.cram"
        threads = max(1, int(ctx.options.threads or 1))
        windows.to_cram(Path(bam), ref.fasta, cram, out / "work" / "cram", threads)
        with pysam.AlignmentFile(str(cram), reference_filename=str(ref.fasta)) as fh:
            md5 = {sq["SN"]: sq.get("M5") for sq in fh.header.to_dict().get("SQ", [])}
        bam_bytes = Path(bam).stat().st_size
        for stale in (Path(bam), Path(str(bam) + ".bai")):
            stale.unlink(missing_ok=True)
        ctx.artifacts.pop(Artifact.BAM, None)
        ctx.artifacts[Artifact.CRAM] = cram
        return {
            "format": "cram",
            "cram": cram.name,
            "bytes": cram.stat().st_size,
            "bam_bytes": bam_bytes,
            "ratio_to_bam": round(cram.stat().st_size / bam_bytes, 3) if bam_bytes else None,
            "reference": {**ref.to_report(), "md5": md5},
        }
