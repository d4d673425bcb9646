"""A sample scattered into shards and gathered gives the single run's answer, on real reads.

Each real sample is aligned once whole (today's path) and then split into 1, 2 and 7 shards that
are aligned apart, merged and duplicate-marked once (the gather, in windows of the reference that
cut through the reads), and called over as many regions of the reference. The BAM must hold the same records (reads, flags, duplicate marks,
positions, tags) in the same order, and the VCF the same records. minimap2's batch is set small
(as a genome's 100 Mb batch is small beside its 120 Gb) so that every shard holds several.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pysam
import pytest
from na12878_slice import DATA
from samstats_check import assert_merged_like_whole, crossing_pairs
from window_gather import gather

from gems.errors import InputError
from workers.genomics import bamstats, windows
from workers.genomics.fastq import CHUNK_PAIRS
from workers.genomics.reference import prepare_reference
from workers.genomics.shards import check_split, split_pairs
from workers.pipeline.align import AlignStep
from workers.pipeline.framework import PipelineOptions, SampleContext, SampleFailed
from workers.pipeline.qc import QcStep
from workers.pipeline.variants import call_variants

SAMPLES = {
    # name: (reads folder, R1 name, reference name, minimap2 batch in bases)
    "HG002": ("shared:hg002", "HG002_chr20_10Mb_R1.fastq.gz", "chr20_9995001_11095000.fa", 100_000),
    "NA12878": ("tests", "NA12878_chr22_R1.fastq.gz", "chr22_16570000_16610000.fa", 30_000),
}


def _records(bam: Path) -> list[tuple]:
    """Every record; its tags as a set (samtools merge rewrites RG:Z last)."""
    with pysam.AlignmentFile(str(bam)) as fh:
        return [
            (*(fields := read.to_string().split("\t"))[:11], frozenset(fields[11:]))
            for read in fh.fetch(until_eof=True)
        ]


def _calls(vcf: Path) -> list[str]:
    with pysam.VariantFile(str(vcf)) as fh:
        return [str(rec) for rec in fh]


@pytest.fixture(scope="module", params=sorted(SAMPLES))
def sample(request, shared, tmp_path_factory):
    folder, r1_name, ref_name, batch = SAMPLES[request.param]
    reads = shared / "data/variants/hg002" if folder == "shared:hg002" else DATA
    refs = shared / "data/variants/ref" if folder == "shared:hg002" else DATA
    root = tmp_path_factory.mktemp(request.param)
    fasta = Path(shutil.copy(refs / ref_name, root / ref_name))
    r1 = reads / r1_name
    r2 = reads / r1_name.replace("_R1", "_R2")
    options = PipelineOptions(reference=fasta, threads=2, batch_bases=batch)
    single = SampleContext(request.param, r1, r2, root / "single", options)
    metrics = AlignStep()(single)
    ref = prepare_reference(fasta)
    call_variants(single.out / "sample.bam", ref, single.out / "variants.vcf.gz", single.out / "work")
    return dict(
        name=request.param, r1=r1, r2=r2, root=root, options=options, ref=ref, single=single, metrics=metrics
    )


@pytest.mark.parametrize("n", [1, 2, 7])
def test_sharded_run_equals_the_single_run(sample, n):
    root = sample["root"] / f"shards-{n}"
    shards = split_pairs(sample["r1"], sample["r2"], root / "split", n, sample["options"].batch_bases)
    assert len(shards) == n
    check_split(shards, sample["metrics"]["reads"] // 2)
    assert all(s.pairs > 0 and s.batches >= 2 for s in shards)  # every shard holds whole batches
    bams = []
    for shard in shards:
        ctx = SampleContext(
            sample["name"], root / "split" / shard.r1, root / "split" / shard.r2, root / f"s{shard.index}",
            sample["options"],
        )  # fmt: skip
        AlignStep(shard=True)(ctx)
        bams.append(ctx.out / "shard.bam")
    # duplicates marked, kept and called in windows (more of them than shards, so windows cut
    # through dense reads), each of the n shards' workers working its share; the lead assembles
    done = gather(bams, root / "sample.bam", root / "work", sample["ref"], 3 * n + 2, units=n)
    counts = done.counts
    call_variants(
        root / "sample.bam", sample["ref"], root / "variants.vcf.gz", root / "work", raw_calls=done.calls
    )
    single = sample["single"].out
    expected, got = _records(single / "sample.bam"), _records(root / "sample.bam")
    assert got == expected
    assert counts == bamstats.count(root / "sample.bam")  # the windows' counts, added up
    assert counts.markdup()["DUPLICATE TOTAL"] == sample["metrics"]["duplicates"] > 0
    dup = counts.markdup()
    assert round(dup["DUPLICATE TOTAL"] / dup["EXAMINED"], 4) == sample["metrics"]["duplicate_rate"]
    assert sum(int(r[1]) & 0x400 > 0 for r in got) == sample["metrics"]["duplicates"]
    with pysam.AlignmentFile(str(root / "sample.bam")) as fh:
        assert fh.header["HD"]["SO"] == "coordinate" and len(fh.header["RG"]) == 1
        assert fh.check_index()
    calls = _calls(root / "variants.vcf.gz")
    assert calls == _calls(single / "variants.vcf.gz") and len(calls) > 50
    # `samtools stats` from the windows' own stats, beside the whole BAM's
    whole = pysam.samtools.stats("-r", str(sample["ref"].fasta), str(single / "sample.bam"))
    with pysam.AlignmentFile(str(single / "sample.bam")) as fh:
        planned = windows.plan(dict(zip(fh.references, fh.lengths, strict=True)), 3 * n + 2)
    crossing = crossing_pairs(single / "sample.bam", planned)
    assert_merged_like_whole(whole, done.stats, crossing, len(planned))


def _first_pairs(path: Path, n: int, prefix: bytes) -> bytes:
    with gzip.open(path, "rb") as fh:
        lines = [fh.readline() for _ in range(4 * n)]
    return b"".join(b"@" + prefix + line[1:] if i % 4 == 0 else line for i, line in enumerate(lines))


def test_duplicates_are_found_across_shards(sample):
    """Pairs in one shard and their exact copies in another: the gather marks one of each."""
    root = sample["root"] / "copied"
    bams = []
    for shard, prefix in enumerate((b"", b"copy.")):
        folder = root / f"shard{shard}"
        folder.mkdir(parents=True)
        for name, reads in (("R1", sample["r1"]), ("R2", sample["r2"])):
            (folder / f"{name}.fastq.gz").write_bytes(gzip.compress(_first_pairs(reads, 20, prefix)))
        ctx = SampleContext(
            sample["name"], folder / "R1.fastq.gz", folder / "R2.fastq.gz", folder / "out", sample["options"]
        )
        AlignStep(shard=True)(ctx)
        bams.append(ctx.out / "shard.bam")
    gather(bams, root / "sample.bam", root / "work", sample["ref"], 4)
    dup = bamstats.count(root / "sample.bam").markdup()
    records = [r for r in _records(root / "sample.bam") if not int(r[1]) & 0x900]  # primary only
    pairs = {r[0].removeprefix("copy.") for r in records if not int(r[1]) & 0xC}  # both mates mapped
    marked = [r[0] for r in records if int(r[1]) & 0x400]
    assert len(pairs) >= 15
    assert int(dup["DUPLICATE TOTAL"]) == len(marked) == 2 * len(pairs)
    # each copied pair: exactly one of the two copies is marked (markdup picks by base quality)
    assert sorted(name.removeprefix("copy.") for name in set(marked)) == sorted(pairs)


def test_a_sample_with_fewer_batches_than_shards_leaves_the_last_shards_empty(sample, tmp_path):
    shards = split_pairs(sample["r1"], sample["r2"], tmp_path, 4, batch_bases=10**9)
    assert [s.pairs > 0 for s in shards] == [True, False, False, False]
    assert shards[0].batches == 1 and shards[1].first_pair == shards[0].pairs
    check_split(shards, sample["metrics"]["reads"] // 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shard-000_R1.fastq.gz", "shard-000_R2.fastq.gz"]


def test_shards_hold_the_reads_byte_for_byte_when_records_straddle_blocks(sample, tmp_path, monkeypatch):
    """The reader cuts decompressed text into blocks anywhere; the shards, joined, are the input."""
    from workers.genomics import fastqblocks

    monkeypatch.setattr(fastqblocks, "BLOCK_BYTES", 997)  # a record straddles nearly every block
    shards = split_pairs(sample["r1"], sample["r2"], tmp_path, 5, batch_bases=20_000)
    check_split(shards, sample["metrics"]["reads"] // 2)
    for mate, name in ((0, "r1"), (1, "r2")):
        joined = b"".join(
            gzip.decompress((tmp_path / (s.r1, s.r2)[mate]).read_bytes()) for s in shards if s.pairs
        )
        assert joined == gzip.decompress(sample[name].read_bytes())


def test_a_broken_input_leaves_no_shards(sample, tmp_path):
    broken = tmp_path / "r1.fastq.gz"
    data = sample["r1"].read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated or corrupt gzip"):
        split_pairs(broken, sample["r2"], tmp_path / "out", 3, sample["options"].batch_bases)
    assert not list((tmp_path / "out").glob("shard-*"))
    with pytest.raises(ValueError, match="shards must be 1-256"):
        split_pairs(sample["r1"], sample["r2"], tmp_path / "out", 257)


@pytest.mark.parametrize(
    "r1_text, r2_text, reason",
    [
        (b"@a\nACGT\n+\nIIII\n@b\nACGT\n+\nIIII\n", b"@a\nACGT\n+\nIIII\n", "one file holds more reads"),
        (b"@a\nACGT\n+\nIIII\n", b"@z\nACGT\n+\nIIII\n", "do not pair"),
        (b"@a\nACGT\n+\nIII\n", b"@a\nACGT\n+\nIIII\n", "not as long as its sequence"),
        (b">a\nACGT\n>b\nACGT\n", b">a\nACGT\n>b\nACGT\n", "does not start with '@'"),
        (b"@a\nACGT\n+\n", b"@a\nACGT\n+\nIIII\n", "ends inside a FASTQ record"),
        (b"", b"", "no reads"),
    ],
)
def test_the_split_refuses_reads_it_cannot_cut(tmp_path, r1_text, r2_text, reason):
    r1, r2 = tmp_path / "a_R1.fastq.gz", tmp_path / "a_R2.fastq.gz"
    r1.write_bytes(gzip.compress(r1_text))
    r2.write_bytes(gzip.compress(r2_text))
    with pytest.raises(InputError, match=reason):
        split_pairs(r1, r2, tmp_path / "out", 2, batch_bases=4)
    assert not list((tmp_path / "out").glob("shard-*"))


def test_the_sharded_pipeline_on_one_machine_gives_the_single_runs_report(sample, tmp_path):
    """`gems run-sample --shards 3`: the lead's pipeline (qc, split, gather, ...) with this machine
    aligning the shards, against the single run's pipeline."""
    from workers.pipeline.sample import run_sample
    from workers.pipeline.scatter import LocalShards

    def run(shards: int) -> dict:
        opts = PipelineOptions(
            reference=sample["options"].reference, threads=2, batch_bases=sample["options"].batch_bases,
            shards=shards,
        )  # fmt: skip
        if shards > 1:
            opts.shard_store = LocalShards(sample["name"], opts, parallel=2)
        return run_sample(sample["name"], sample["r1"], sample["r2"], tmp_path / str(shards), opts)

    single, sharded = run(1), run(3)
    assert list(sharded["steps"])[:7] == ["qc", "split", "hla", "gather", "variants", "annotate", "coverage"]
    assert (
        sharded["split"]["shards"] == 3
        and sum(sharded["split"]["pairs_per_shard"]) == single["qc"]["pairs_used"] == sharded["qc"]["pairs"]
    )
    for key in ("reads", "mapped", "duplicates", "properly_paired", "insert_size_median"):
        assert sharded["gather"][key] == single["align"][key], key
    # QC measured on the shards and added up at the gather: the figures of one pass over the sample
    assert sharded["qc"] == {k: v for k, v in single["qc"].items() if k != "streamed_to"}
    assert {k: v for k, v in sharded["variants"].items() if k != "settings"} == {
        k: v for k, v in single["variants"].items() if k != "settings"
    }
    assert _calls(tmp_path / "3" / "variants.vcf.gz") == _calls(tmp_path / "1" / "variants.vcf.gz")
    assert (
        "Mapping" in (tmp_path / "3" / "report.html").read_text()
        or "mapped" in (tmp_path / "3" / "report.html").read_text()
    )


def _fastq(path: Path, pairs: list[tuple[str, str, str]]) -> Path:
    path.write_bytes(gzip.compress("".join(f"@{n}\n{s}\n+\n{q}\n" for n, s, q in pairs).encode()))
    return path


def _lead_qc(tmp_path: Path, r1: Path, r2: Path, **options) -> tuple[dict, QcStep]:
    step = QcStep(defer=True)
    ctx = SampleContext("s", r1, r2, tmp_path / "out", PipelineOptions(shards=2, **options))
    return step(ctx), step


def test_a_leads_qc_is_deferred_to_its_shards_only_when_it_need_not_rewrite_the_reads(tmp_path):
    good = [(f"p{i}", "ACGT" * 10, "I" * 40) for i in range(50)]
    r1, r2 = _fastq(tmp_path / "a_R1.fastq.gz", good), _fastq(tmp_path / "a_R2.fastq.gz", good)
    deferred, _ = _lead_qc(tmp_path, r1, r2)
    assert deferred["deferred_to_shards"] and deferred["quality_encoding"] == "phred+33"
    trimmed, step = _lead_qc(tmp_path, r1, r2, trim=True)  # the split must cut the trimmed reads
    assert "deferred_to_shards" not in trimmed and trimmed["trimmed"] and trimmed["pairs"] == 50
    old = [(f"p{i}", "ACGT" * 10, "h" * 40) for i in range(50)]  # Phred+64: rewritten before the split
    p64 = _lead_qc(
        tmp_path, _fastq(tmp_path / "b_R1.fastq.gz", old), _fastq(tmp_path / "b_R2.fastq.gz", old)
    )[0]
    assert "deferred_to_shards" not in p64 and p64["quality_encoding"] == "phred+64"


def test_a_bad_read_past_the_leads_first_look_fails_the_sample_at_its_shard(sample, tmp_path):
    """The lead reads only the head of the files; QC on the shard that holds a bad read fails the
    sample with QC's reason, and nothing is gathered."""
    from workers.pipeline.sample import run_sample
    from workers.pipeline.scatter import LocalShards

    pairs = [(f"p{i}", "ACGT" * 30, "I" * 120) for i in range(CHUNK_PAIRS + 500)]
    bad = list(pairs)
    bad[-10] = (bad[-10][0], "ACGZ" * 30, "I" * 120)
    r1, r2 = _fastq(tmp_path / "c_R1.fastq.gz", bad), _fastq(tmp_path / "c_R2.fastq.gz", pairs)
    opts = PipelineOptions(reference=sample["options"].reference, threads=2, batch_bases=20_000, shards=2)
    opts.shard_store = LocalShards("c", opts)
    with pytest.raises(SampleFailed, match="invalid base character 'Z'"):
        run_sample("c", r1, r2, tmp_path / "run", opts)
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["steps"]["qc"]["status"] == "done" and report["steps"]["split"]["status"] == "done"
    assert report["steps"]["gather"]["status"] == "failed"
    assert "invalid base character 'Z'" in report["steps"]["gather"]["reason"]
    assert not (tmp_path / "run" / "sample.bam").exists()


def test_the_pipelines_child_processes_never_import_from_the_callers_folder(sample, tmp_path, monkeypatch):
    """`gems run-sample` run in a folder that holds a `workers/` of its own (an old checkout, a
    user's project): the samtools and bcftools children must import gems's code, not that."""
    from workers.pipeline.sample import run_sample

    decoy = tmp_path / "caller"
    (decoy / "workers").mkdir(parents=True)
    (decoy / "workers" / "__init__.py").write_text("raise ImportError('the decoy in the caller folder')\n")
    monkeypatch.chdir(decoy)
    opts = PipelineOptions(
        reference=sample["options"].reference, threads=2, batch_bases=sample["options"].batch_bases
    )
    report = run_sample(sample["name"], sample["r1"], sample["r2"], tmp_path / "out", opts)
    assert report["steps"]["align"]["status"] == "done" and report["steps"]["variants"]["status"] == "done"


@pytest.mark.parametrize("regions", [5, 7])
def test_calls_scattered_over_regions_equal_one_pass(sample, regions, tmp_path):
    """A single worker's calls over `regions` regions (its cores) are one pass's: NA12878's slice
    cut in 5 has an indel 83 bases into a region, which a pileup started at the region's start
    scores differently (BQBZ); each region is called from before its start."""
    single = sample["single"].out
    out = tmp_path / "scattered.vcf.gz"
    call_variants(single / "sample.bam", sample["ref"], out, tmp_path / "work", scatter=regions, processes=2)
    assert _calls(out) == _calls(single / "variants.vcf.gz")
