"""prepare_reference: validation, index placement (next to the FASTA or in the cache), checksum."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from gems.errors import InputError
from workers.genomics import reference as reference_mod
from workers.genomics.reference import prepare_reference

DATA = Path(__file__).resolve().parents[2] / "data" / "variants"
FASTA = DATA / "chr22_16570000_16610000.fa"


@pytest.fixture
def fasta(tmp_path) -> Path:
    folder = tmp_path / "ref"
    folder.mkdir()
    return Path(shutil.copy(FASTA, folder / FASTA.name))


def test_indexes_next_to_a_writable_fasta(fasta):
    ref = prepare_reference(fasta)
    assert ref.fasta == fasta and ref.source == fasta
    assert ref.fai == Path(str(fasta) + ".fai") and ref.fai.stat().st_size > 0
    assert ref.mmi == Path(str(fasta) + ".sr.mmi") and ref.mmi.stat().st_size > 0
    assert ref.checksum == "sha256:" + hashlib.sha256(fasta.read_bytes()).hexdigest()
    assert ref.contigs == {"chr22_16570000_16610000": 40001}
    assert not list(fasta.parent.glob(".*"))  # no temporary files left behind
    mtime = ref.mmi.stat().st_mtime
    assert prepare_reference(fasta).mmi.stat().st_mtime == mtime  # built once, then reused


def test_read_only_folder_indexes_into_the_cache(fasta, tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("GEMS_HOME", str(home))
    fasta.parent.chmod(0o555)
    try:
        ref = prepare_reference(fasta)
    finally:
        fasta.parent.chmod(0o755)
    assert sorted(p.name for p in fasta.parent.iterdir()) == [fasta.name]
    assert home in ref.fasta.parents and ref.fasta.resolve() == fasta.resolve()
    assert ref.fai.exists() and ref.mmi.exists() and ref.source == fasta


def test_threads_preparing_one_read_only_reference_at_once(fasta, tmp_path, monkeypatch):
    """gems run-sample --shards aligns shards in threads: each prepares the reference, and a
    read-only one is indexed once into the cache (the threads shared temporary names before)."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setenv("GEMS_HOME", str(tmp_path / "home"))
    fasta.parent.chmod(0o555)
    try:
        with ThreadPoolExecutor(4) as pool:
            refs = list(pool.map(lambda _: prepare_reference(fasta), range(4)))
    finally:
        fasta.parent.chmod(0o755)
    assert len({(r.fasta, r.mmi, r.checksum) for r in refs}) == 1 and refs[0].mmi.exists()


def test_missing_reference(tmp_path):
    with pytest.raises(InputError, match="not found"):
        prepare_reference(tmp_path / "nope.fa")


def test_directory_instead_of_fasta(tmp_path):
    with pytest.raises(InputError, match="not a file"):
        prepare_reference(tmp_path)


def test_reference_without_read_permission(fasta, monkeypatch):
    # Tests run as root, which reads anything: make the permission check say no.
    real = os.access
    monkeypatch.setattr(
        reference_mod.os, "access", lambda p, mode: False if Path(p) == fasta else real(p, mode)
    )
    with pytest.raises(InputError, match="no read permission"):
        prepare_reference(fasta)


def test_not_a_fasta(tmp_path):
    bad = tmp_path / "x.fa"
    bad.write_text("this is not a reference\n")
    with pytest.raises(InputError, match="not a FASTA"):
        prepare_reference(bad)
    empty = tmp_path / "empty.fa"
    empty.write_text("")
    with pytest.raises(InputError, match="empty"):
        prepare_reference(empty)


def test_plain_gzip_fasta_is_refused_with_a_hint(tmp_path):
    import gzip

    gz = tmp_path / "ref.fa.gz"
    with gzip.open(gz, "wb") as fh:
        fh.write(FASTA.read_bytes())
    with pytest.raises(InputError, match="bgzip"):
        prepare_reference(gz)


def test_bgzipped_fasta_gets_its_block_index(tmp_path):
    import pysam

    bgz = tmp_path / "ref.fa.gz"
    pysam.tabix_compress(str(FASTA), str(bgz))
    ref = prepare_reference(bgz)
    assert ref.fai.exists() and Path(str(bgz) + ".gzi").exists() and ref.mmi.exists()
    with pysam.FastaFile(str(ref.fasta)) as fa:
        assert fa.fetch("chr22_16570000_16610000", 0, 10) == FASTA.read_text().splitlines()[1][:10]
