"""From throughputs measured on real reads to a genome's wall time and dollars on a spot fleet.

The model follows the sharded line as built: every worker is launched at once; the sample's lead
worker streams the reads from S3 and splits them in one process, uploading each shard as it is
cut; shard worker i maps its shard once it is uploaded (and once it has the index), hands its
BAM back, and once every shard's BAM is in S3 works its share of the windows of the reference
(marks duplicates, keeps its own reads, counts them, samtools stats, calls their regions),
reading every shard's stretch by range; the lead downloads the parts, concatenates and indexes
them, normalises the calls, then runs coverage and the CRAM conversion. Every figure that is not
measured by benchmarks.genome is an assumption below, printed with the table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gems import volumes
from gems.billing.cost import hourly, volume_hourly

# Assumptions (named; change them here and the printed list follows).
VCPUS = {
    "c6i.2xlarge": 8,
    "c6i.4xlarge": 16,
    "c5.4xlarge": 16,
    "c5.9xlarge": 36,
    "m5.4xlarge": 16,
    "r5.4xlarge": 16,
}
CPU_PER_VCPU = 1.0  # one vCPU does what one core of the measuring machine (itself a cloud vCPU) did
BOOT_S = 90.0  # launch to a running worker from the worker image (a custom AMI), not a cold pip install
S3_MB_PER_S = 800.0  # one instance's sustained S3 throughput with parallel ranged requests
INDEX_GB = 7.0  # GRCh38's minimap2 short-read index, fetched from the index store by every shard worker
FASTA_GB = 3.1  # GRCh38's FASTA, fetched by the lead for calling
DISK_MB_PER_S = 1000.0  # the lead's root volume: gp3 at its highest throughput, as gems.volumes asks
SAMPLES = {
    # name: (read pairs, Mb of reference called, calling cost per Mb relative to the measured ~31x)
    "30x genome": (400e6, 3100.0, 1.0),
    "exome": (75e6, 60.0, 3.5),  # 60 Mb of padded targets at ~100x
}


@dataclass
class Measured:
    split_pairs_per_s: float  # the split as it ran here: its five threads on this machine's cores
    split_read_pairs_per_s: float  # each of its threads alone: decompress one mate's file,
    split_cut_pairs_per_s: float  # find the records and batch ends of both,
    split_write_pairs_per_s: float  # compress one mate's shards (level 1)
    align_pairs_per_cpu_s: float
    gather_pairs_per_cpu_s: float
    gather_pairs_per_s: float  # windows at gather_threads at once (wall)
    gather_one_pairs_per_s: float  # windows one at a time (wall)
    gather_threads: int
    gather_cpu_s_per_window: float  # what a window costs beside its reads (its processes' start)
    assemble_pairs_per_s: float  # the lead puts the windows' parts together (at gather_threads)
    final_bam_bytes_per_pair: float  # the gathered BAM (level 2): the windows' parts
    index_pairs_per_cpu_s: float  # samtools index of the gathered BAM
    call_cpu_s_per_mb: float  # at ~31x
    gz_bytes_per_pair: float  # the sample's FASTQ.gz
    shard_bytes_per_pair: float  # the split's level-1 shards
    bam_bytes_per_pair: float  # the shards' level-1 BAMs
    # The other passes over the whole sample (pairs/s): qc (on the shards, as they align), hla (the
    # shards, after aligning: the lead adds it up), stats (one thread over the whole BAM, as a
    # single worker runs it; not projected: a sharded gather runs it in its windows); coverage and cram (the lead after calling, windows in child
    # processes): <pass>@cpu pairs per CPU-s, <pass>@window CPU-s each window adds.
    lead_pairs_per_s: dict[str, float] = field(default_factory=dict)

    def table(self) -> str:
        rows = [
            ("split as run here (read, cut at batch ends, write level-1 gzip: 5 threads)", f"{self.split_pairs_per_s:,.0f} pairs/s"),
            (
                "split, each thread alone: read one mate / cut both / write one mate",
                f"{self.split_read_pairs_per_s:,.0f} / {self.split_cut_pairs_per_s:,.0f} / "
                f"{self.split_write_pairs_per_s:,.0f} pairs/s",
            ),
            ("align a shard (minimap2 | fixmate | sort)", f"{self.align_pairs_per_cpu_s:,.0f} pairs per CPU-s"),
            (
                f"windows without calling (merge | markdup with margins, keep own, count, stats: 1 / {self.gather_threads} at once)",
                f"{self.gather_one_pairs_per_s:,.0f} / {self.gather_pairs_per_s:,.0f} pairs/s "
                f"({self.gather_pairs_per_s / self.gather_one_pairs_per_s:.2f}x), "
                f"{self.gather_pairs_per_cpu_s:,.0f} pairs per CPU-s",
            ),
            ("windows: CPU a window adds beside its reads", f"{self.gather_cpu_s_per_window:.2f} CPU-s"),
            (
                f"assemble here (concatenate parts, index, unplaced reads, stats merged: {self.gather_threads} "
                "threads; fixed costs rule at this size)",
                f"{self.assemble_pairs_per_s:,.0f} pairs/s",
            ),
            ("index the gathered BAM (samtools index, one thread)", f"{self.index_pairs_per_cpu_s:,.0f} pairs per CPU-s"),
            ("call (mpileup | call, one process, ~31x)", f"{self.call_cpu_s_per_mb:.1f} CPU-s per Mb"),
            (
                "bytes per pair: FASTQ.gz, shard FASTQ.gz, shard BAM, gathered BAM",
                f"{self.gz_bytes_per_pair:.0f}, {self.shard_bytes_per_pair:.0f}, {self.bam_bytes_per_pair:.0f}, "
                f"{self.final_bam_bytes_per_pair:.0f}",
            ),
        ]  # fmt: skip
        for step, rate in self.lead_pairs_per_s.items():
            name, _, how = step.partition("@")
            if how == "window":
                rows.append((f"{name}: CPU a window adds beside its reads", f"{rate:.2f} CPU-s"))
            elif how == "cpu":
                rows.append(
                    (f"{name} pass over the sample (one window, one thread)", f"{rate:,.0f} pairs per CPU-s")
                )
            else:
                label = (
                    " (whole BAM, one thread: a single worker's; sharded, its windows run it)"
                    if name == "stats"
                    else ""
                )
                rows.append((f"{name} pass over the sample{label}", f"{rate:,.0f} pairs/s"))
        return "| phase | throughput |\n|---|---|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)


@dataclass
class Projection:
    split_s: float
    align_s: float  # one shard: QC as the reads stream into minimap2 (the slower of the two), then HLA
    windows_s: float  # one worker's windows: marked, kept, counted, stats, called; read and uploaded
    collect_s: float  # the lead: the parts downloaded, concatenated and indexed
    after_s: float  # coverage and CRAM, one after the other on the lead's vCPUs
    wall_s: float
    usd: float


def _on(rates: dict[str, float], step: str, vcpus: float, pairs: float) -> float:
    """Seconds of a pass whose windows (four a vCPU) are child processes: its work spread over the
    vCPUs, plus what starting each window costs."""
    return pairs / (rates[f"{step}@cpu"] * vcpus) + 4 * rates[f"{step}@window"]


def _io_s(gb: float) -> float:
    return gb * 1000 / S3_MB_PER_S


def project_one(
    m: Measured, instance: str, workers: int, pairs: float, call_mb: float, call_factor: float
) -> Projection:
    vcpus = VCPUS[instance] * CPU_PER_VCPU
    per_shard = pairs / workers
    # The split's threads (a decompressor and a compressor per mate, one cutter) run at once on
    # the lead's cores: it goes at its slowest thread's pace, or as fast as S3 delivers.
    split_rate = min(
        m.split_read_pairs_per_s,
        m.split_cut_pairs_per_s,
        m.split_write_pairs_per_s,
        S3_MB_PER_S * 1e6 / m.gz_bytes_per_pair,
    )
    split_s = pairs / split_rate
    lead = m.lead_pairs_per_s
    after_s = sum(_on(lead, step, vcpus, pairs) for step in ("coverage", "cram") if f"{step}@cpu" in lead)
    # QC reads a shard on one thread while minimap2 maps it on the others: the slower sets the pace
    align_s = per_shard / (m.align_pairs_per_cpu_s * (vcpus - 1))
    if "qc" in lead:
        align_s = max(align_s, per_shard / lead["qc"])
    if "hla" in lead:  # the typer maps the shard's reads after; the lead adds the evidence up
        align_s += per_shard / lead["hla"]
    # every shard worker fetches the index to map and the FASTA for its windows (stats, calling)
    ready_index = BOOT_S + _io_s(INDEX_GB + FASTA_GB)
    ends = []
    for i in range(workers):
        cut = (
            BOOT_S + (i + 1) / workers * split_s + _io_s(per_shard * m.shard_bytes_per_pair / 1e9)
        )  # uploaded
        fetched = max(cut, ready_index) + _io_s(per_shard * m.shard_bytes_per_pair / 1e9)
        ends.append(fetched + align_s + _io_s(per_shard * m.bam_bytes_per_pair / 1e9))
    # Once every shard's BAM is in S3, each worker works its share of the windows (four a vCPU,
    # independent processes) at the measured CPU rates, calling its share of the reference, having
    # read its windows' reads from every shard by range and uploading its parts as they are done.
    per_unit_windows = min(4 * vcpus, max(1, per_shard // 250_000))
    window_cpu = (
        per_shard / m.gather_pairs_per_cpu_s
        + call_mb / workers * m.call_cpu_s_per_mb * call_factor
        + per_unit_windows * m.gather_cpu_s_per_window
    )
    windows_s = window_cpu / vcpus + _io_s(
        per_shard * (m.bam_bytes_per_pair + m.final_bam_bytes_per_pair) / 1e9
    )
    # The lead downloads every part (at S3's rate), concatenates them (blocks copied: read and
    # written at its disk's rate) and indexes the result (decompressed on all its vCPUs).
    final_gb = pairs * m.final_bam_bytes_per_pair / 1e9
    collect_s = (
        _io_s(final_gb) + 2 * final_gb * 1000 / DISK_MB_PER_S + pairs / (m.index_pairs_per_cpu_s * vcpus)
    )
    windows_end = max(ends) + windows_s
    wall = windows_end + collect_s + after_s
    price = hourly(instance, "spot") or 0.0
    sizes, shards = {"S": pairs * m.gz_bytes_per_pair}, {"S": workers}
    lead_disk, shard_disk = (
        volumes.for_units(["S"], sizes, shards),
        volumes.for_units(["S+shard000"], sizes, shards),
    )
    # the volumes at the cost view's EBS prices (gems/billing/prices.json)
    shard_s = workers * windows_end  # every shard worker lives until its windows are done
    usd = (shard_s + wall) * price / 3600 + (
        wall * volume_hourly(lead_disk.to_dict()) + shard_s * volume_hourly(shard_disk.to_dict())
    ) / 3600
    return Projection(split_s, align_s, windows_s, collect_s, after_s, wall, usd)


def project(m: Measured, instance: str, worker_counts: list[int]) -> str:
    lines = [
        "| sample | shard workers | split | QC + align + HLA (one shard) | windows: mark, stats, call (one worker) | lead: collect | coverage, CRAM | wall (goal 20 min) | spot $ (goal $3) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, (pairs, call_mb, factor) in SAMPLES.items():
        for n in worker_counts:
            p = project_one(m, instance, n, pairs, call_mb, factor)
            lines.append(
                f"| {name} | {n} | {p.split_s / 60:.1f} min | {p.align_s / 60:.1f} min "
                f"| {p.windows_s / 60:.1f} min | {p.collect_s / 60:.1f} min | {p.after_s / 60:.1f} min "
                f"| **{p.wall_s / 60:.0f} min** | ${p.usd:.2f} |"
            )
    return "\n".join(lines)


def render_assumptions(instance: str) -> str:
    price = hourly(instance, "spot")
    items = [
        f"{instance}: {VCPUS[instance]} vCPUs at ${price}/h spot (gems/billing/prices.json); one vCPU = one core "
        f"of the measuring machine (x{CPU_PER_VCPU})",
        f"boot {BOOT_S:.0f} s from the worker image; S3 {S3_MB_PER_S:.0f} MB/s per instance; GRCh38 index "
        f"{INDEX_GB} GB and the FASTA ({FASTA_GB} GB) to every shard worker",
        "bytes per pair of the FASTQ.gz and the shards as measured on HG002, of the BAMs on its 1x reads (older "
        "HiSeq qualities; binned NovaSeq qualities compress better)",
        "the lead splits (its threads at once on the lead's cores, at the slowest one's pace, streaming and "
        "uploading shards as it cuts them; shard workers wait for theirs); a shard runs QC (one thread) as its reads "
        "stream into minimap2 (the other vCPUs), then maps them for HLA typing, which the lead adds up",
        "QC and HLA at the rates measured here on --threads threads; coverage and CRAM (windows in child "
        "processes on the lead, four a vCPU) at their measured work per CPU-second spread over its vCPUs, plus "
        "each window's start",
        "each shard worker's windows (four a vCPU, independent processes) fill its vCPUs at the CPU rate "
        "measured here without calling (they scaled from one at a time to --threads here: the table), plus "
        "its share of calling at the measured CPU per Mb; it reads its windows' reads from every shard's BAM "
        "and uploads its parts at S3's rate",
        "the lead downloads the parts at S3's rate, concatenates them at its disk's rate (read and write) and "
        "indexes the BAM at the measured rate on all its vCPUs; the gathered BAM's bytes per pair are the 1x "
        "reads' (the copies compress better than a genome would), and so are a shard BAM's",
        "genome: 400 M pairs, 3,100 Mb called at the measured per-Mb cost; exome: 75 M pairs, 60 Mb at 3.5x it "
        "(~100x depth)",
        "every worker bills from launch (60 s minimum ignored), with its root volume as gems.volumes sizes it "
        "(gp3 at us-east-1 prices: the lead's at 1,000 MB/s); not modelled: annotation and the report "
        "(seconds on a VCF), retries",
    ]
    return "\n".join(f"- {item}" for item in items)
