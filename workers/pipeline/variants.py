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

bcftools mpileup and call use one core. With `calling_regions` above 1 the reference is cut
into that many regions (workers.genomics.regions), mpileup | call runs on each in its own
process (up to `threads` at once), and the calls are concatenated in order before norm, so the
VCF is the one pass's, record for record (tests/integration/calling/test_calling_shards.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pysam
from pysam import bcftools

from gems.errors import InputError
from workers.genomics import children, regions
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


def run_tool(tool, *args: str) -> None:
    """A bcftools tool in this process; RuntimeError with its last line when it fails."""
    try:
        tool(*args, catch_stdout=False)
    except pysam.utils.SamtoolsError as exc:
        lines = [ln for ln in str(exc).replace("\\n", "\n").splitlines() if ln.strip()]
        name = getattr(tool, "__name__", None) or getattr(tool, "dispatch", "tool")
        raise RuntimeError(f"bcftools {name} failed: {lines[-1][:300] if lines else exc}") from exc


def target_intervals(targets: Path, ref: Reference) -> list[regions.Interval]:
    """The targets BED's intervals on the reference's contigs; InputError when it is not BED."""
    try:
        lines = Path(targets).read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"targets {Path(targets).name}: cannot be read ({exc})") from exc
    kept: list[regions.Interval] = []
    unknown: set[str] = set()
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
        kept.append((parts[0], start, end))
    if not kept:
        detail = f" (contigs not in the reference: {', '.join(sorted(unknown)[:3])})" if unknown else ""
        raise InputError(f"targets {Path(targets).name}: no usable intervals{detail}")
    return kept


_CHILD = "from workers.pipeline.variants import _region_main; _region_main()"


def _region_main() -> None:
    """mpileup | call over one region, in a child process (pysam's bcftools holds the GIL while
    it runs, so regions called at once need processes); argv: JSON settings."""
    cfg = json.loads(sys.argv[1])
    pile = cfg["out"] + ".pileup.bcf"
    try:
        args = ["-f", cfg["fasta"], *cfg["args"], "-R", cfg["bed"], "-Ou", "-o", pile, cfg["bam"]]
        run_tool(bcftools.mpileup, *args)
        called = cfg["out"] + ".called.bcf"
        run_tool(bcftools.call, "-m", "-v", "-a", "GQ", "-Ou", "-o", called, pile)
        try:  # the region's own sites: it was called from before its start (workers.genomics.regions)
            run_tool(bcftools.view, "-T", cfg["keep"], "-Ou", "-o", cfg["out"], called)
        finally:
            Path(called).unlink(missing_ok=True)
    except RuntimeError as exc:
        sys.stderr.write(f"{exc}\n")
        sys.exit(1)
    finally:
        Path(pile).unlink(missing_ok=True)


def call_region_child(cfg: dict) -> None:
    done = subprocess.run(
        children.command(_CHILD, json.dumps(cfg)), capture_output=True, text=True, env=children.env()
    )
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.splitlines() if ln.strip() and not ln.startswith("[W::")]
        raise RuntimeError(
            lines[-1][:300] if lines else f"bcftools over {cfg['bed']} stopped (exit {done.returncode})"
        )


def region_call(
    ref: Reference, bam: Path, group: list[regions.Interval], wanted: list[regions.Interval] | None,
    out: Path, args: tuple[str, ...] = MPILEUP_ARGS,
) -> dict[str, Any]:  # fmt: skip
    """The settings of one region's call (`call_region_child`): `group`'s sites, from `bam`;
    its BED files are written next to `out` (*.bed: bcftools reads BED coordinates by suffix)."""
    bed, keep = Path(str(out) + ".calling.bed"), Path(str(out) + ".keep.bed")
    bed.write_text(regions.to_bed(regions.calling(group, wanted)))
    keep.write_text(regions.to_bed(group))
    return dict(fasta=str(ref.fasta), bam=str(bam), bed=str(bed), keep=str(keep), out=str(out), args=args)


def call_region(
    ref: Reference, bam: Path, group: list[regions.Interval], wanted: list[regions.Interval] | None, out: Path
) -> None:
    """Raw calls (BCF) of `group`'s sites into `out`, in a child process."""
    cfg = region_call(ref, bam, group, wanted, out)
    try:
        call_region_child(cfg)
    finally:
        Path(cfg["bed"]).unlink(missing_ok=True)
        Path(cfg["keep"]).unlink(missing_ok=True)


def _scattered_calls(
    bam: Path, ref: Reference, groups: list[list[regions.Interval]], wanted: list[regions.Interval] | None,
    work: Path, out: Path, args: tuple[str, ...], processes: int,
) -> None:  # fmt: skip
    """Raw calls of every region, concatenated in the reference's order into `out`."""
    parts = [
        region_call(ref, bam, g, wanted, work / f"region-{i:04d}.bcf", args) for i, g in enumerate(groups)
    ]
    try:
        with ThreadPoolExecutor(max(1, processes)) as pool:  # each thread waits on one child
            list(pool.map(call_region_child, parts))
        run_tool(bcftools.concat, "-Ou", "-o", str(out), *[part["out"] for part in parts])
    finally:
        for part in parts:
            for name in ("bed", "keep", "out"):
                Path(part[name]).unlink(missing_ok=True)


def call_variants(
    bam: Path,
    ref: Reference,
    out_vcf: Path,
    work: Path,
    targets: Path | None = None,
    mpileup_args: tuple[str, ...] = MPILEUP_ARGS,
    min_qual: float = MIN_QUAL,
    scatter: int = 1,
    processes: int = 1,
    raw_calls: Path | None = None,
) -> None:
    """Write `out_vcf` (+ .tbi) from `bam`; nothing appears under that name unless complete.
    `scatter` regions are called by up to `processes` children at once. `mpileup_args` and
    `min_qual` are for benchmarks.calling, which compares settings. `raw_calls`: the calls are
    made already (a sharded sample's windows, workers.pipeline.windowphase), in order: only
    normalised and filtered here."""
    work.mkdir(parents=True, exist_ok=True)
    fasta = str(ref.fasta)
    pile, raw, norm = work / "mpileup.bcf", work / "calls.bcf", work / "norm.bcf"
    part = Path(str(out_vcf) + ".part")
    wanted = regions.merged(target_intervals(targets, ref), ref.contigs) if targets else None
    try:
        source = raw if raw_calls is None else Path(raw_calls)  # a sharded sample's windows called
        if raw_calls is None and scatter > 1:
            groups = regions.scatter(wanted or regions.whole(ref.contigs), scatter)
            _scattered_calls(bam, ref, groups, wanted, work, raw, mpileup_args, processes)
        elif raw_calls is None:
            region: tuple[str, ...] = ()
            if wanted:
                bed = work / "targets.bed"  # named *.bed: bcftools picks BED coordinates by suffix
                bed.write_text(regions.to_bed(wanted))
                region = ("-R", str(bed))
            run_tool(bcftools.mpileup, "-f", fasta, *mpileup_args, *region, "-Ou", "-o", str(pile), str(bam))
            run_tool(bcftools.call, "-m", "-v", "-a", "GQ", "-Ou", "-o", str(raw), str(pile))
        run_tool(bcftools.norm, "-f", fasta, "-m", "-any", "-Ou", "-o", str(norm), str(source))
        # at min_qual 0 nothing is LowQual, and every record says PASS
        run_tool(
            bcftools.filter, "-s", "LowQual", "-e", f"QUAL<{min_qual}", "-Oz", "-o", str(part), str(norm),
        )  # fmt: skip
        run_tool(bcftools.index, "-t", "-f", "-o", str(part) + ".tbi", str(part))
        Path(str(part) + ".tbi").replace(Path(str(out_vcf) + ".tbi"))
        part.replace(out_vcf)
    finally:
        for p in (pile, raw, norm, part, Path(str(part) + ".tbi"), work / "targets.bed"):
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
        scatter = max(1, ctx.options.calling_regions or ctx.options.threads)
        raw = ctx.artifacts.get(Artifact.RAW_CALLS)  # a sharded sample's windows called already
        call_variants(
            Path(bam),
            ref,
            vcf,
            out / "work",
            ctx.options.targets,
            scatter=scatter,
            processes=ctx.options.threads,
            raw_calls=Path(raw) if raw is not None else None,
        )
        ctx.artifacts[Artifact.VCF] = vcf
        metrics = vcf_metrics(vcf)
        metrics.update(
            caller="bcftools mpileup/call (multiallelic model)",
            tool_versions={"bcftools": bcftools_version(), "htslib": htslib_version()},
            settings={
                "mpileup": " ".join(MPILEUP_ARGS),
                "call": "-m -v",
                "filter": f"LowQual: QUAL<{MIN_QUAL}" if MIN_QUAL > 0 else "none",
                "regions": scatter if raw is None else "the gather's windows",
            },
            targets=os.path.basename(ctx.options.targets) if ctx.options.targets else None,
            vcf="variants.vcf.gz",
        )
        ctx.progress(1.0)
        return metrics
