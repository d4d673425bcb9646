"""Submitting a job whose samples are sharded (moto): shards asked for need the reference's indexes in
S3 (a 400 naming `reference` and nothing launched); shards chosen by size give way to one worker
per sample while the indexes are not there, and are used once they are."""

from __future__ import annotations

import os

import pytest
from jobhelpers import LAB, bearer, instances

from gems import sharding

REF = f"s3://{LAB}/refs/genome.fa"


def _submit(client, prefix: str, **extra):
    body = {
        "bucket": LAB,
        "prefix": prefix,
        "hla_class": 1,
        "reference": REF,
        "options": {"batch_bases": 10_000},
    }
    return client.post("/job", json={**body, **extra}, headers=bearer())


@pytest.fixture
def runs(lab):
    """Two runs of one sample each, 40 kB of reads: about 8 batches of 10 kb by the planner's estimate."""
    lab.put_object(Bucket=LAB, Key="refs/genome.fa", Body=b">c\nACGT\n")
    for run in ("big1/", "big2/"):
        for mate in (1, 2):
            lab.put_object(Bucket=LAB, Key=f"{run}BIG_S1_L001_R{mate}_001.fastq.gz", Body=os.urandom(20_000))
    return lab


def _index(lab):
    for suffix in (".fai", ".sr.mmi"):
        lab.put_object(Bucket=LAB, Key=f"refs/genome.fa{suffix}", Body=b"x")


def _units(answer) -> list[list[str]]:
    return [w["samples"] for w in answer.json["workers"]]


def test_shards_asked_for_need_the_references_indexes(client, services, runs):
    answer = _submit(client, "big1/", shards=2)
    assert answer.status_code == 400 and answer.json["field"] == "reference"
    assert "refs/genome.fa.sr.mmi" in answer.json["message"]
    assert instances(services.clients.ec2) == []
    _index(runs)
    answer = _submit(client, "big1/", shards=2)
    assert answer.status_code == 201, answer.json
    assert _units(answer) == [["BIG"], ["BIG+shard000"], ["BIG+shard001"]]


def test_shards_chosen_by_size_give_way_until_the_reference_is_indexed(client, runs, monkeypatch):
    monkeypatch.setattr(sharding, "BYTES_PER_SHARD", 20_000)  # 40 kB of reads count as two shards' worth
    first = _submit(client, "big1/")
    assert first.status_code == 201 and _units(first) == [["BIG"]]
    _index(runs)
    second = _submit(client, "big2/")
    assert second.status_code == 201 and _units(second) == [["BIG"], ["BIG+shard000"], ["BIG+shard001"]]
