"""Variant step: germline SNVs and indels from the BAM with bcftools (through pysam).

mpileup -> call -m -> norm (left-align, split multi-allelics) -> bgzipped, tabix-indexed
`variants.vcf.gz`. Settings: bcftools' defaults, plus the changes that won on every fold of a
leave-one-sample-out comparison over the shared GIAB samples (`benchmarks.calling`, folds in
docs/pipeline-calling.md; a change wins when it raises F1, lowers neither type's, and loses no
true call):
  * `-X illumina`: bcftools' Illumina profile (indel-size/gap settings for short reads);
  * `-F 0.2`: an indel candidate needs 20% of reads gapped (a germline het is near 50%),
    which drops polymerase-slippage candidates in homopolymers.
BAQ stays on (bcftools' default): turning it off raised indel F1 on one sample but lost SNPs on
both. No QUAL filter: a LowQual soft filter at QUAL < 20 removed false SNPs and a true one in
HG002's GIAB-confident window (`min_qual` is there for the benchmark to compare).
"""

from __future__ import annotations

import os
from pathlib import Path

import pysam
from pysam import bcftools

from gems.errors import InputError
from workers.genomics.reference import Reference, prepare_reference
from workers.genomics.vcfstats import vcf_metrics
from workers.pipeline.artifacts import Artifact
from workers.pipeline.framework import SampleContext, StepSkipped

MIN_QUAL = 0  # no LowQual filter (see above)
ANNOTATIONS = ("-a", "FORMAT/AD,FORMAT/DP,INFO/AD")  # reported, not used in calling
MPILEUP_ARGS = ("-X", "illumina", "-F", "0.2", *ANNOTATIONS)


# pysam sets both at import; its stubs do not declare them.
def bcftools_version() -> str:
    return pysam.version.__bcftools_version__  # type: ignore[attr-defined]


def htslib_version() -> str:
    return pysam.version.__htslib_version__  # type: ignore[attr-defined]


def _run(tool, *args: str) -> None:
    try:
        tool(*args, catch_stdout=False)
    except pysam.utils.SamtoolsError as exc:
        lines = [ln for ln in str(exc).replace("\\n", "\n").splitlines() if ln.strip()]
        raise RuntimeError(f"bcftools {tool.__name__} failed: {lines[-1][:300] if lines else exc}") from exc


def _targets_bed(targets: Path, ref: Reference, work: Path) -> Path:
    """A validated copy of the targets BED named *.bed (bcftools picks BED coordinates by suffix)."""
    try:
        lines = Path(targets).read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"targets {Path(targets).name}: cannot be read ({exc})") from exc
    kept, unknown = [], set()
    for n, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith(("#", "track", "browser")):
            continue
        parts = line.split("\t")
        try:
            start, end = int(parts[1]), int(parts[2])
        except (IndexError, ValueError):
            raise InputError(
                f"targets {Path(targets).name}: line {n} is not BED (chrom, start, end)"
            ) from None
        if start < 0 or end <= start:
            raise InputError(f"targets {Path(targets).name}: line {n} has an empty or negative interval")
        if parts[0] not in ref.contigs:
            unknown.add(parts[0])
            continue
        kept.append(f"{parts[0]}\t{start}\t{end}")
    if not kept:
        detail = f" (contigs not in the reference: {', '.join(sorted(unknown)[:3])})" if unknown else ""
        raise InputError(f"targets {Path(targets).name}: no usable intervals{detail}")
    bed = work / "targets.bed"
    bed.write_text("\n".join(kept) + "\n")
    return bed


def call_variants(
    bam: Path,
    ref: Reference,
    out_vcf: Path,
    work: Path,
    targets: Path | None = None,
    mpileup_args: tuple[str, ...] = MPILEUP_ARGS,
    min_qual: float = MIN_QUAL,
) -> None:
    """Write `out_vcf` (+ .tbi) from `bam`; nothing appears under that name unless complete.
    `mpileup_args` and `min_qual` are for benchmarks.calling, which compares settings."""
    work.mkdir(parents=True, exist_ok=True)
    fasta = str(ref.fasta)
    pile, raw, norm = work / "mpileup.bcf", work / "calls.bcf", work / "norm.bcf"
    part = Path(str(out_vcf) + ".part")
    region = ("-R", str(_targets_bed(targets, ref, work))) if targets else ()
    try:
        _run(bcftools.mpileup, "-f", fasta, *mpileup_args, *region, "-Ou", "-o", str(pile), str(bam))
        _run(bcftools.call, "-m", "-v", "-a", "GQ", "-Ou", "-o", str(raw), str(pile))
        _run(bcftools.norm, "-f", fasta, "-m", "-any", "-Ou", "-o", str(norm), str(raw))
        # at min_qual 0 nothing is LowQual, and every record says PASS
        _run(
            bcftools.filter, "-s", "LowQual", "-e", f"QUAL<{min_qual}", "-Oz", "-o", str(part), str(norm),
        )  # fmt: skip
        _run(bcftools.index, "-t", "-f", "-o", str(part) + ".tbi", str(part))
        Path(str(part) + ".tbi").replace(Path(str(out_vcf) + ".tbi"))
        part.replace(out_vcf)
    finally:
        for p in (pile, raw, norm, part, Path(str(part) + ".tbi")):
            p.unlink(missing_ok=True)


class VariantStep:
    """Calls germline SNVs/indels from `ctx.artifacts[Artifact.BAM]` into `variants.vcf.gz` (+ .tbi)."""

    name = "variants"
    reads: tuple[Artifact, ...] = (Artifact.BAM,)
    writes: tuple[Artifact, ...] = (Artifact.VCF,)

    def __call__(self, ctx: SampleContext) -> dict:
        if ctx.options.reference is None:
            raise StepSkipped("no reference given")
        bam = ctx.artifacts.get(Artifact.BAM)
        if bam is None or not Path(bam).exists():
            raise StepSkipped("no BAM (alignment did not run)")
        ref = prepare_reference(ctx.options.reference)  # remembered per worker
        out = Path(ctx.out)
        vcf = out / "variants.vcf.gz"
        for stale in (vcf, Path(str(vcf) + ".tbi")):
            stale.unlink(missing_ok=True)
        ctx.progress(0.0)
        call_variants(Path(bam), ref, vcf, out / "work", ctx.options.targets)
        ctx.artifacts[Artifact.VCF] = vcf
        metrics = vcf_metrics(vcf)
        metrics.update(
            caller="bcftools mpileup/call (multiallelic model)",
            tool_versions={"bcftools": bcftools_version(), "htslib": htslib_version()},
            settings={
                "mpileup": " ".join(MPILEUP_ARGS),
                "call": "-m -v",
                "filter": f"LowQual: QUAL<{MIN_QUAL}" if MIN_QUAL > 0 else "none",
            },
            targets=os.path.basename(ctx.options.targets) if ctx.options.targets else None,
            vcf="variants.vcf.gz",
        )
        ctx.progress(1.0)
        return metrics
