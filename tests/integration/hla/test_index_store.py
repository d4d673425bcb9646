"""Built HLA indexes shared through the state bucket (moto): the first worker builds and
publishes, a fresh worker (an empty disk) fetches instead of building, and a broken or missing
archive only means building again."""

from __future__ import annotations

import json

import boto3
import mappy
import pytest
from moto import mock_aws

from gems import statekeys
from workers.hla import index
from workers.program.indexstore import S3IndexStore

BUCKET = "gems-test-state"


class Ref:
    release = "3.99.0"

    def checksum(self) -> str:
        return "0123456789abcdef"


@pytest.fixture
def store():
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        yield S3IndexStore(s3, BUCKET), s3


@pytest.fixture
def builds(monkeypatch):
    """A small stand-in for the 25-second build: a real minimap2 index of two sequences."""
    done = []

    def build(ref, target):
        done.append(target)
        (target / "msa_A.npz").write_bytes(b"npz")  # names as the real build writes them
        (target / "hla.fa").write_text(
            ">A*01:01|cds\n" + "ACGT" * 60 + "\n>B*07:02|cds\n" + "TTGCA" * 50 + "\n"
        )
        assert mappy.Aligner(str(target / "hla.fa"), preset="sr", fn_idx_out=str(target / "hla.mmi"))
        (target / "meta.json").write_text(
            json.dumps({"release": ref.release, "genes": ["A", "B"], "decoys": []})
        )

    monkeypatch.setattr(index, "_build", build)
    return done


def test_a_fresh_worker_fetches_what_the_first_one_built(store, builds, tmp_path):
    shared, s3 = store
    first = index.load_index(Ref(), tmp_path / "worker1", shared)
    assert len(builds) == 1
    key = statekeys.index_cache_key("hla", f"{Ref().checksum()}-v{index.INDEX_VERSION}")
    assert s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"] > 0
    second = index.load_index(Ref(), tmp_path / "worker2", shared)
    assert len(builds) == 1  # fetched, not built
    assert (second.genes, second.release) == (first.genes, first.release) == (["A", "B"], "3.99.0")
    assert (second.directory / "hla.mmi").read_bytes() == (first.directory / "hla.mmi").read_bytes()
    assert list(second.aligner.map("ACGT" * 30))  # the fetched index aligns


def test_a_broken_archive_means_building_again(store, builds, tmp_path):
    shared, s3 = store
    key = statekeys.index_cache_key("hla", f"{Ref().checksum()}-v{index.INDEX_VERSION}")
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"not a tar archive")
    idx = index.load_index(Ref(), tmp_path / "w", shared)
    assert len(builds) == 1 and idx.genes == ["A", "B"]


def test_an_archive_with_paths_is_refused(store, builds, tmp_path):
    import io
    import tarfile

    shared, s3 = store
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        data = b"{}"
        info = tarfile.TarInfo("../meta.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    key = statekeys.index_cache_key("hla", f"{Ref().checksum()}-v{index.INDEX_VERSION}")
    s3.put_object(Bucket=BUCKET, Key=key, Body=buf.getvalue())
    assert not shared.fetch("hla", f"{Ref().checksum()}-v{index.INDEX_VERSION}", tmp_path / "x")
    assert not (tmp_path / "meta.json").exists()


def test_without_a_store_or_with_an_unreachable_one_the_index_is_built_here(builds, tmp_path):
    index.load_index(Ref(), tmp_path / "alone")
    assert len(builds) == 1

    class Down:
        def download_file(self, *a, **k):
            raise OSError("no route to S3")

        def upload_file(self, *a, **k):
            raise OSError("no route to S3")

    index.load_index(Ref(), tmp_path / "offline", S3IndexStore(Down(), BUCKET))
    assert len(builds) == 2


def test_names_are_checked_before_they_become_keys(store):
    shared, _ = store
    with pytest.raises(ValueError):
        shared.fetch("hla", "../../jobs/x", __import__("pathlib").Path("/tmp/never"))
