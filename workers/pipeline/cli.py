"""`gems run-sample`: the worker's analysis pipeline on one local read pair, without AWS."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from gems import alignments, names, sharding
from gems.errors import ValidationError
from workers.pipeline.framework import PipelineOptions, SampleFailed


def default_sample_name(r1: Path) -> str:
    """The name a job would give these reads (gems.names: HG002_S1_L001_R1_001.fastq.gz -> HG002)."""
    return names.sample_of(Path(r1).name)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gems run-sample",
        description="Run QC, alignment, HLA typing, variant calling, annotation, coverage and the report "
        "on one read pair. Steps whose input is not given are skipped and the report says so.",
    )
    p.add_argument("--r1", required=True, type=Path, help="read 1 FASTQ (gzip or plain)")
    p.add_argument("--r2", required=True, type=Path, help="read 2 FASTQ (gzip or plain)")
    p.add_argument(
        "--reference", type=Path, help="reference FASTA (without it: no alignment, calls or coverage)"
    )
    p.add_argument("--hla-reference", type=Path, help="IMGT/HLA reference folder (enables HLA typing)")
    p.add_argument("--hla-class", choices=["1", "2", "both"], help="HLA classes to type (default: both)")
    p.add_argument("--targets", type=Path, help="BED of target regions for calling and coverage")
    p.add_argument("--annotation", type=Path, help="GFF3 gene models for consequence annotation")
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument("--threads", type=int, default=1, help="threads (default 1)")
    p.add_argument("--sample", help="sample name (default: from the R1 file name)")
    p.add_argument("--trim", action="store_true", help="adapter and quality trimming (cutadapt)")
    p.add_argument(
        "--min-read-length", type=int, default=30, help="drop pairs with a read shorter (default 30)"
    )
    p.add_argument(
        "--shards", type=int, default=1,
        help="split the reads into this many shards, align them apart (--threads at a time) and gather them, as "
        "a sharded job's workers do (default 1: one alignment)",
    )  # fmt: skip
    p.add_argument(
        "--batch-bases", type=int, default=sharding.BATCH_BASES,
        help=f"minimap2's batch in bases (default {sharding.BATCH_BASES:,}; a shard holds whole batches)",
    )  # fmt: skip
    p.add_argument(
        "--alignment-format", choices=alignments.FORMATS,
        help=f"keep the alignments as bam or cram (default: cram over {alignments.CRAM_ABOVE_BYTES >> 30} GiB of reads)",
    )  # fmt: skip
    p.add_argument("--keep-work", action="store_true", help="keep intermediate files under OUT/work")
    return p


def _size(path: Path) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0  # QC says what is wrong with it


def options_from_args(args: argparse.Namespace) -> PipelineOptions:
    if args.threads < 1:
        raise ValidationError("--threads must be at least 1", field="threads")
    if args.min_read_length < 0:
        raise ValidationError("--min-read-length must be >= 0", field="min_read_length")
    sharding.check_count(args.shards, "shards")
    sharding.check_batch(args.batch_bases, "batch_bases")
    hla_class = args.hla_class or ("both" if args.hla_reference else None)
    return PipelineOptions(
        reference=args.reference,
        hla_reference=args.hla_reference,
        hla_class=hla_class,
        targets=args.targets,
        annotation=args.annotation,
        threads=args.threads,
        trim=args.trim,
        min_read_length=args.min_read_length,
        shards=args.shards,
        batch_bases=args.batch_bases,
        alignment_format=alignments.chosen_format(args.alignment_format, _size(args.r1) + _size(args.r2)),
        extra={"keep_work": True} if args.keep_work else {},
    )


def _progress_printer():
    last: dict[str, str | None] = {"step": None}

    def show(step: str, fraction: float | None) -> None:
        if step != last["step"]:
            last["step"] = step
            print(f"  {step} ...", file=sys.stderr, flush=True)

    return show


def run_sample(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    options = options_from_args(args)
    sample = names.check_sample(args.sample or default_sample_name(args.r1), "sample")
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValidationError(f"cannot create --out {args.out}: {exc.strerror}", field="out") from None
    from workers.pipeline.sample import run_sample as run  # the analysis stack loads only here

    if options.shards > 1:
        from workers.pipeline.scatter import LocalShards

        options.shard_store = LocalShards(sample, options, parallel=options.threads)

    print(f"gems run-sample: {sample} -> {args.out}", file=sys.stderr)
    start = time.perf_counter()
    try:
        report = run(sample, args.r1, args.r2, args.out, options, on_progress=_progress_printer())
    except SampleFailed as exc:
        print(f"gems run-sample: sample {sample} FAILED at {exc.step}: {exc.reason}", file=sys.stderr)
        return 1
    took = time.perf_counter() - start
    skipped = ", ".join(f"{s['step']} ({s['reason']})" for s in report.get("skipped", []))
    print(f"gems run-sample: sample {sample} COMPLETE in {took:.1f} s; report: {args.out / 'report.html'}")
    if skipped:
        print(f"  skipped: {skipped}")
    return 0
