"""Benchmark: one sample scattered into shards and gathered, measured here and projected to a genome.

    .venv/bin/python -m benchmarks.genome [--copies 20] [--shards 1 2 3 5 7] [--threads 2]
        [--instance c6i.4xlarge] [--workers 16 32 64]

1. Throughput on real reads (HG002's 2x148 reads, repeated `--copies` times with names made
   unique): the split (read pairs per second as it runs here, and each of its threads alone: on
   a worker's cores they run at once, so the slowest sets its pace), a shard's alignment
   (minimap2 | fixmate | sort, one thread: pairs per CPU-second), the windows as the shards'
   workers work them, without calling (merge | markdup with margins, own reads kept, counted,
   samtools stats: pairs per CPU-second, and per wall-second on one thread and at `--threads`,
   so their scaling shows, and what each window costs beside its reads), the lead's assembly of
   the parts, and calling (mpileup | call, one process: CPU-seconds per Mb of reference covered
   at the reads' own ~31x, on the 1x reads; the copies would be 20 stacked duplicates).
2. Scaling on this machine: the single-worker line (align, then variants, at `--threads`)
   against the sharded line for each shard count (split, every shard aligned on one thread with
   `--threads` shards at once, the windows worked `--threads` at once, assembled), wall and CPU
   seconds, the CPU the sharding adds, and whether the BAM and VCF equal the single run's.
3. A projection for a 30x genome (400 M pairs) and an exome (75 M pairs) on N spot workers of
   `--instance`, from the throughputs of (1) and the assumptions printed with it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pysam
from xopen import xopen

from benchmarks.genome_projection import Measured, project, render_assumptions
from benchmarks.pipeline import SAMPLES, repeat_reads
from gems.config import REPO_ROOT
from workers.genomics import bamstats, windows
from workers.genomics.fastqblocks import BLOCK_BYTES, parse
from workers.genomics.reference import prepare_reference
from workers.genomics.shards import SHARD_GZIP_LEVEL, split_pairs
from workers.pipeline import windowphase
from workers.pipeline.align import AlignStep
from workers.pipeline.framework import PipelineOptions, SampleContext
from workers.pipeline.variants import call_variants

OUT = REPO_ROOT / "benchmarks" / "out" / "genome"
# minimap2's batch here: small enough that 7 shards of the repeated reads each hold several.
BATCH_BASES = 1_000_000


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class Clock:
    def __enter__(self) -> Clock:
        self.start, self.cpu0 = time.perf_counter(), _cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.start, _cpu() - self.cpu0


def _records(bam: Path) -> list[tuple]:
    with pysam.AlignmentFile(str(bam)) as fh:
        return [
            (*(f := r.to_string().split("\t"))[:11], frozenset(f[11:]))
            for r in fh.fetch(until_eof=True)
        ]  # fmt: skip


def _calls(vcf: Path) -> list[str]:
    with pysam.VariantFile(str(vcf)) as fh:
        return [str(rec) for rec in fh]


def single_run(ref: Path, r1: Path, r2: Path, out: Path, threads: int) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    opts = PipelineOptions(reference=ref, threads=threads, batch_bases=BATCH_BASES, calling_regions=1)
    ctx = SampleContext("bench", r1, r2, out, opts)
    with Clock() as align:
        AlignStep()(ctx)
    with Clock() as call:
        call_variants(out / "sample.bam", prepare_reference(ref), out / "variants.vcf.gz", out / "work")
    return dict(wall=align.wall + call.wall, cpu=align.cpu + call.cpu, out=out)


def sharded_run(ref: Path, r1: Path, r2: Path, out: Path, shards: int, threads: int) -> dict:
    """The sharded line on this machine; the phases' wall and CPU seconds."""
    shutil.rmtree(out, ignore_errors=True)
    opts = PipelineOptions(reference=ref, threads=1, batch_bases=BATCH_BASES)
    phases = {}
    with Clock() as c:
        parts = split_pairs(r1, r2, out / "split", shards, BATCH_BASES)
    phases["split"] = c
    pairs = sum(p.pairs for p in parts)

    def align(part) -> Path:
        ctx = SampleContext(
            "bench", out / "split" / part.r1, out / "split" / part.r2, out / f"s{part.index}", opts
        )
        AlignStep(shard=True)(ctx)
        return ctx.out / "shard.bam"

    with Clock() as c, ThreadPoolExecutor(threads) as pool:
        bams = list(pool.map(align, [p for p in parts if p.pairs]))
    phases["align"] = c
    fasta = prepare_reference(ref)
    inputs = [str(b) for b in bams]
    with Clock() as c:  # the shards' workers' windows (here: one machine, `threads` at once)
        windows.index_inputs(bams, threads)
        planned = windowphase.plan(fasta.contigs, pairs, shards, threads)
        parts = windowphase.work_windows(
            planned, inputs, fasta.contigs, fasta, out / "windows", threads, None
        )
    phases["windows"] = c
    with Clock() as c:  # the lead: parts, unplaced reads, counts, stats and calls put together
        made = windowphase.assemble(parts, inputs, planned, out / "sample.bam", out / "work", threads, fasta)
        call_variants(out / "sample.bam", fasta, out / "variants.vcf.gz", out / "work", raw_calls=made.calls)
    phases["assemble"] = c
    return dict(
        phases=phases, pairs=pairs, out=out, bams=bams, fasta=fasta,
        wall=sum(p.wall for p in phases.values()), cpu=sum(p.cpu for p in phases.values()),
    )  # fmt: skip


def window_rates(run: dict, threads: int) -> tuple[float, float, float, float, float]:
    """The windows' work without calling (merge | markdup with margins, own reads kept, counted,
    samtools stats: calling is measured per Mb apart) over the shard BAMs of `run`, as many
    windows as threads: one window at a time and `threads` at once (wall pairs a second), its
    pairs per CPU-second, the fixed CPU-seconds each window adds (from a run with four times the
    windows), and the lead's assembly of the parts (pairs a second at `threads`)."""
    pairs, out, ref = run["pairs"], run["out"] / "rates", run["fasta"]
    inputs = [str(b) for b in run["bams"]]
    clocks, parts, planned = [], [], []
    for n, w in ((1, threads), (threads, threads), (threads, 4 * threads)):
        shutil.rmtree(out, ignore_errors=True)
        planned = windows.plan(ref.contigs, w)
        with Clock() as c:
            parts = windowphase.work_windows(planned, inputs, ref.contigs, ref, out, n, [])
        clocks.append(c)
    per_window = (clocks[2].cpu - clocks[1].cpu) / (3 * threads)
    with Clock() as a:
        windowphase.assemble(parts, inputs, planned, out / "sample.bam", out / "work", threads, ref)
    return pairs / clocks[0].wall, pairs / clocks[1].wall, pairs / clocks[1].cpu, per_window, pairs / a.wall


def shard_bam_bytes(ref: Path, r1: Path, r2: Path, out: Path) -> float:
    """Bytes per pair of a shard's BAM (level 1, sorted) of the 1x reads: the copies, sorted side
    by side, would compress far better than a genome's shard."""
    shutil.rmtree(out, ignore_errors=True)
    ctx = SampleContext(
        "bench", r1, r2, out, PipelineOptions(reference=ref, threads=1, batch_bases=BATCH_BASES)
    )
    AlignStep(shard=True)(ctx)
    return (out / "shard.bam").stat().st_size / (bamstats.count(out / "shard.bam").reads / 2)


def index_rate(bam: Path) -> float:
    """`samtools index` on one thread (it decompresses the whole BAM): pairs per CPU-second."""
    pairs = bamstats.count(bam).reads / 2
    with Clock() as c:
        pysam.samtools.index("-o", str(bam) + ".rate.bai", str(bam), catch_stdout=False)
    Path(str(bam) + ".rate.bai").unlink()
    return pairs / c.cpu


def split_threads(r1: Path, r2: Path, pairs: int, out: Path) -> tuple[float, float, float]:
    """Each of the split's threads alone, in pairs a second: decompressing one mate's file (the
    slower mate), finding both mates' records, compressing one mate's text at the shards' level."""
    text, read_s, write_s = {}, 0.0, 0.0
    for path in (r1, r2):
        with Clock() as c, xopen(path, "rb", threads=1) as fh:
            text[path] = fh.read()
        read_s = max(read_s, c.wall)
    with Clock() as cut:
        for path in (r1, r2):
            rest = b""
            for at in range(0, len(text[path]), BLOCK_BYTES):
                _, rest = parse(rest + text[path][at : at + BLOCK_BYTES], path)
    for path in (r1, r2):
        with (
            Clock() as c,
            xopen(out / "write-test.gz", "wb", compresslevel=SHARD_GZIP_LEVEL, threads=1) as fh,
        ):
            fh.write(text[path])
        write_s = max(write_s, c.wall)
    (out / "write-test.gz").unlink()
    return pairs / read_s, pairs / cut.wall, pairs / write_s


def lead_passes(ref: Path, r1: Path, r2: Path, pairs: int, out: Path, threads: int) -> dict[str, float]:
    """The other passes over the whole sample in pairs a second: QC alone (as a sharded lead runs
    its part of it; a single worker streams it into the aligner) and HLA class I typing, as the
    pipeline runs them at `threads` (its report's seconds per step); then, over the pipeline's
    BAM, samtools stats (one thread, as it runs beside calling on a single worker; a sharded
    sample's gather runs it in its windows), and coverage and the CRAM
    conversion: pairs per CPU-second of one window (`<pass>@cpu`) and the CPU-seconds each
    further window adds (`<pass>@window`, not a rate)."""
    from workers.pipeline.coverage import WINDOW, coverage  # the whole pipeline loads only here
    from workers.pipeline.qc import QcStep
    from workers.pipeline.qcstats import _Background
    from workers.pipeline.sample import run_sample

    shutil.rmtree(out, ignore_errors=True)
    opts = PipelineOptions(reference=ref, hla_class="1", threads=threads, batch_bases=BATCH_BASES)
    with Clock() as qc:
        QcStep()(SampleContext("bench", r1, r2, out / "qc", opts))
    steps = run_sample("bench", r1, r2, out, opts)["steps"]
    rates = {"qc": pairs / qc.wall, "hla": pairs / steps["hla"]["seconds"]}
    bam, fasta = out / "sample.bam", prepare_reference(ref).fasta
    with Clock() as c:  # as StatsStep starts it once the BAM is there
        _Background(bam, fasta, out / "stats.txt").result()
    rates["stats"] = pairs / c.wall
    # Coverage and CRAM fan out over windows in child processes, which on a genome are long and
    # on this slice short: each pass's work (pairs per CPU-second, one window on one thread) and
    # the CPU-seconds each further window adds, from a run with as many as the pipeline makes.
    groups = min(4 * threads, -(-sum(prepare_reference(ref).contigs.values()) // WINDOW))
    runs = {
        "coverage": (lambda: coverage(bam), lambda: coverage(bam, threads=threads), groups),
        "cram": (
            lambda: windows.to_cram(bam, fasta, out / "sample.cram", out / "cram", 1, windows=1),
            lambda: windows.to_cram(
                bam, fasta, out / "sample.cram", out / "cram", threads, windows=4 * threads
            ),
            4 * threads,
        ),
    }
    for name, (one, many, n) in runs.items():
        with Clock() as c1:
            one()
        with Clock() as cn:
            many()
        rates[f"{name}@cpu"] = pairs / c1.cpu
        rates[f"{name}@window"] = max(0.0, (cn.cpu - c1.cpu) / max(1, n - 1))
    return rates


def calling_rate(ref: Path, bam: Path, out: Path, window_mb: float) -> float:
    """CPU-seconds per Mb of covered reference for one mpileup | call pass (best of three)."""
    best = float("inf")
    for _ in range(3):
        with Clock() as c:
            call_variants(bam, prepare_reference(ref), out / "rate.vcf.gz", out / "work")
        best = min(best, c.cpu)
    return best / window_mb


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--copies", type=int, default=20)
    ap.add_argument("--shards", type=int, nargs="+", default=[1, 2, 3, 5, 7])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--instance", default="c6i.4xlarge")
    ap.add_argument("--workers", type=int, nargs="+", default=[16, 32, 64])
    args = ap.parse_args(argv)
    sample = SAMPLES["HG002"]
    OUT.mkdir(parents=True, exist_ok=True)
    ref = Path(shutil.copy(sample["ref"], OUT / Path(sample["ref"]).name))
    prepare_reference(ref)
    r1 = repeat_reads(sample["r1"], OUT / f"x{args.copies}_R1.fastq.gz", args.copies)
    r2 = repeat_reads(sample["r2"], OUT / f"x{args.copies}_R2.fastq.gz", args.copies)
    load = os.getloadavg()[0]
    print(
        f"# benchmarks.genome: HG002 x{args.copies}, {os.cpu_count()} cores, load {load:.1f} at the start\n"
    )

    single = single_run(ref, r1, r2, OUT / "single", args.threads)
    expected_bam, expected_vcf = (
        _records(single["out"] / "sample.bam"),
        _calls(single["out"] / "variants.vcf.gz"),
    )
    rows, runs = [], {}
    for n in args.shards:
        run = runs[n] = sharded_run(ref, r1, r2, OUT / f"sharded-{n}", n, args.threads)
        same = (
            _records(run["out"] / "sample.bam") == expected_bam
            and _calls(run["out"] / "variants.vcf.gz") == expected_vcf
        )
        ph = run["phases"]
        rows.append(
            f"| {n} | {ph['split'].wall:.1f} | {ph['align'].wall:.1f} | {ph['windows'].wall:.1f} | {ph['assemble'].wall:.1f} "
            f"| {run['wall']:.1f} ({run['wall'] / single['wall']:.2f}x) | {run['cpu']:.1f} "
            f"| {run['cpu'] / single['cpu'] - 1:+.0%} | {'yes' if same else 'NO'} |"
        )
    print(
        f"Scaling on this machine: single-worker line {single['wall']:.1f} s wall, {single['cpu']:.1f} CPU-s\n"
    )
    print(
        "| shards | split s | align s | windows s (mark, keep, stats, call) | assemble s (+ normalise) | wall s (vs single) | CPU-s | CPU added | BAM+VCF identical |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))

    # Throughput, from the largest sharded run (one-thread shards) and the 1x reads for calling.
    run = runs[max(args.shards)]
    pairs, ph = run["pairs"], run["phases"]
    one_x = OUT / "single-1x"
    single_run(ref, sample["r1"], sample["r2"], one_x, 1)
    read, cut, write = split_threads(r1, r2, pairs, OUT)
    gather_at = window_rates(run, args.threads)
    measured = Measured(
        split_pairs_per_s=pairs / ph["split"].wall,
        split_read_pairs_per_s=read,
        split_cut_pairs_per_s=cut,
        split_write_pairs_per_s=write,
        align_pairs_per_cpu_s=pairs / ph["align"].cpu,
        gather_pairs_per_cpu_s=gather_at[2],
        gather_pairs_per_s=gather_at[1],
        gather_one_pairs_per_s=gather_at[0],
        gather_threads=args.threads,
        gather_cpu_s_per_window=gather_at[3],
        assemble_pairs_per_s=gather_at[4],
        # the 1x reads' BAM: the copies, sorted side by side, would compress far better than a genome
        final_bam_bytes_per_pair=(one_x / "sample.bam").stat().st_size
        / (bamstats.count(one_x / "sample.bam").reads / 2),
        index_pairs_per_cpu_s=index_rate(one_x / "sample.bam"),
        call_cpu_s_per_mb=calling_rate(ref, one_x / "sample.bam", one_x, window_mb=0.1),
        gz_bytes_per_pair=(r1.stat().st_size + r2.stat().st_size) / pairs,
        shard_bytes_per_pair=sum(f.stat().st_size for f in (run["out"] / "split").glob("shard-*")) / pairs,
        bam_bytes_per_pair=shard_bam_bytes(ref, sample["r1"], sample["r2"], OUT / "shard-1x"),
        lead_pairs_per_s=lead_passes(ref, r1, r2, pairs, OUT / "lead", args.threads),
    )
    print("\nThroughput on real reads (HG002, 2x148):\n")
    print(measured.table())
    print(f"\nProjection on spot {args.instance} workers:\n")
    print(project(measured, args.instance, args.workers))
    print("\nAssumptions:\n")
    print(render_assumptions(args.instance))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
