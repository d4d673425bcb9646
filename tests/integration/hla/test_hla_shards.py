"""A sharded sample's HLA typing: each shard's worker maps its own reads, the lead adds their
evidence up in shard order and calls (workers.hla.shardmap). On real reads the calls and the
report's figures are one pass's over the whole sample."""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.genomics.shards import split_pairs
from workers.hla import names, shardmap, typer

VARIANTS = Path(__file__).resolve().parents[2] / "data" / "variants"


@pytest.mark.parametrize(
    ("stem", "genes"),
    [("hg00118_class2", names.CLASS_II), ("crc81n", names.CLASS_I), ("na19141_dqa1", names.CLASS_II)],
)
def test_shards_mapped_apart_and_added_up_call_what_one_pass_calls(tmp_path, hla_data, stem, genes):
    r1, r2 = hla_data / f"{stem}_R1.fastq.gz", hla_data / f"{stem}_R2.fastq.gz"
    whole = typer.type_sample(r1, r2, list(genes), threads=2)
    prep = typer.prepare(list(genes), None, None, None)
    assert isinstance(prep, typer.Prepared)
    shards = [s for s in split_pairs(r1, r2, tmp_path, 3, batch_bases=20_000) if s.pairs]
    assert len(shards) == 3
    parts = [
        shardmap.from_bytes(
            shardmap.to_bytes(typer.map_reads(prep, tmp_path / s.r1, tmp_path / s.r2, threads=2))
        )
        for s in shards
    ]  # through the bytes a shard's worker uploads
    stats, evidence = shardmap.merged(parts, prep.typed)
    sharded = typer.call(prep, list(genes), stats, evidence)
    assert sharded.metrics() == whole.metrics()
    assert [c.to_dict() for c in sharded.calls] == [c.to_dict() for c in whole.calls]
    assert sharded.hla_reads > 0


def test_a_sharded_lead_types_hla_from_its_shards_as_a_single_worker_does(tmp_path, hla_data):
    """`gems run-sample --shards 3 --hla-class 2` on a real WGS slice: the report's hla (calls,
    figures) and hla.tsv are the single run's, though the lead mapped no read itself."""
    import shutil

    from workers.pipeline.framework import PipelineOptions
    from workers.pipeline.sample import run_sample
    from workers.pipeline.scatter import LocalShards

    ref = Path(shutil.copy(VARIANTS / "chr22_16570000_16610000.fa", tmp_path / "ref.fa"))
    r1, r2 = hla_data / "hg00118_class2_R1.fastq.gz", hla_data / "hg00118_class2_R2.fastq.gz"

    def run(shards: int) -> dict:
        opts = PipelineOptions(reference=ref, hla_class="2", threads=2, batch_bases=20_000, shards=shards)
        if shards > 1:
            opts.shard_store = LocalShards("s", opts, parallel=2)
        return run_sample("s", r1, r2, tmp_path / str(shards), opts)

    single, sharded = run(1), run(3)
    assert sharded["steps"]["hla"]["status"] == "done" and sharded["split"]["shards"] == 3
    assert sharded["hla"] == single["hla"] and sharded["hla"]["hla_reads"] > 0
    assert (tmp_path / "3" / "hla.tsv").read_text() == (tmp_path / "1" / "hla.tsv").read_text()
