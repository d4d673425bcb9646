"""The reference genome of a job: checked, indexed once per worker, checksummed for the report.

`prepare_reference(fasta)` validates the FASTA, makes sure a `.fai` (samtools faidx) and a
minimap2 short-read index (`<fasta>.sr.mmi`) exist, and returns their paths with a sha256 of the
FASTA. Indexes are written next to the FASTA when its folder is writable, otherwise into a cache
folder (under GEMS_HOME) holding a link to the FASTA, so a read-only reference still works.
Every index is written under a temporary name and renamed, so a crash never leaves a
half-written index that a later run would trust.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import mappy
import pysam

from gems import sharding
from gems.config import Config
from gems.errors import InputError

MMI_SUFFIX = sharding.MMI_SUFFIX  # built with minimap2's short-read preset; other presets need other k/w


@dataclass(frozen=True)
class Reference:
    fasta: Path  # the path tools should open (a link in the cache when the original is read-only)
    fai: Path
    mmi: Path
    checksum: str  # "sha256:<hex>" of the FASTA bytes
    contigs: dict[str, int] = field(default_factory=dict)
    source: Path | None = None  # the FASTA as given

    def to_report(self) -> dict:
        return {
            "fasta": str(self.source or self.fasta),
            "sha256": self.checksum.split(":", 1)[1],
            "contigs": len(self.contigs),
            "length": sum(self.contigs.values()),
        }


def _cache_root() -> Path:
    return Config.from_env().home / "cache" / "reference"


def _check_fasta(fasta: Path) -> None:
    if not fasta.exists():
        raise InputError(f"reference {fasta} not found")
    if not fasta.is_file():
        raise InputError(f"reference {fasta} is not a file")
    if not os.access(fasta, os.R_OK):
        raise InputError(f"reference {fasta}: no read permission")
    try:
        with open(fasta, "rb") as fh:
            head = fh.read(2)
    except OSError as exc:
        raise InputError(f"reference {fasta} cannot be read ({exc.strerror})") from exc
    if not head:
        raise InputError(f"reference {fasta} is empty")
    if head == b"\x1f\x8b":
        return  # bgzip-compressed FASTA; faidx tells plain gzip apart below
    if head[:1] != b">":
        raise InputError(f"reference {fasta} is not a FASTA file (does not start with '>')")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()


def _fresh(index: Path, fasta: Path) -> bool:
    try:
        return index.stat().st_size > 0 and index.stat().st_mtime >= fasta.stat().st_mtime
    except OSError:
        return False


def _writable_dir(folder: Path) -> bool:
    # Root passes os.access everywhere; a folder without write bits is meant to stay untouched.
    if not os.access(folder, os.W_OK | os.X_OK) or not folder.stat().st_mode & stat.S_IWUSR:
        return False
    try:  # os.access says yes to root even on read-only mounts; try for real.
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".gems-probe-"):
            return True
    except OSError:
        return False


def _home_for(fasta: Path, checksum: str) -> Path:
    """Where the indexed copy lives: next to the FASTA, or a cache folder with a link to it."""
    if _writable_dir(fasta.parent):
        return fasta
    cache = _cache_root() / checksum.split(":", 1)[1][:16]
    cache.mkdir(parents=True, exist_ok=True)
    link = cache / fasta.name
    if not link.exists():
        tmp = cache / f".{fasta.name}.{os.getpid()}.lnk"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(fasta.resolve())
        tmp.replace(link)
    return link


def _build_fai(fasta: Path) -> Path:
    fai = Path(str(fasta) + ".fai")
    if _fresh(fai, fasta):
        return fai
    # faidx writes <fasta>.fai itself; index a temporary link and rename its .fai into place.
    tmp = fasta.with_name(f".{fasta.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(fasta.resolve())
    tmp_fai = Path(str(tmp) + ".fai")
    try:
        pysam.faidx(str(tmp))
        if not tmp_fai.exists() or tmp_fai.stat().st_size == 0:
            raise InputError(f"reference {fasta.name}: no sequences found")
        tmp_fai.replace(fai)
        tmp_gzi = Path(str(tmp) + ".gzi")
        if tmp_gzi.exists():  # bgzipped FASTA: htslib needs its block index beside it too
            tmp_gzi.replace(Path(str(fasta) + ".gzi"))
    except pysam.SamtoolsError as exc:
        lines = [ln for ln in str(exc).splitlines() if ln.strip()]
        with open(fasta, "rb") as fh:
            hint = " (plain gzip? compress with bgzip)" if fh.read(2) == b"\x1f\x8b" else ""
        raise InputError(f"reference {fasta.name} is not a valid FASTA{hint}: {lines[-1][:160]}") from exc
    finally:
        tmp.unlink(missing_ok=True)
        tmp_fai.unlink(missing_ok=True)
        Path(str(tmp) + ".gzi").unlink(missing_ok=True)
    return fai


def _read_fai(fai: Path) -> dict[str, int]:
    contigs = {}
    for line in fai.read_text().splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            contigs[parts[0]] = int(parts[1])
    return contigs


def _build_mmi(fasta: Path) -> Path:
    mmi = Path(str(fasta) + MMI_SUFFIX)
    if _fresh(mmi, fasta):
        return mmi
    tmp = mmi.with_name(f".{mmi.name}.{os.getpid()}.tmp")
    try:
        aligner = mappy.Aligner(str(fasta), preset="sr", fn_idx_out=str(tmp))
        if not aligner:
            raise InputError(f"reference {fasta.name}: minimap2 could not index it")
        del aligner
        tmp.replace(mmi)
    finally:
        tmp.unlink(missing_ok=True)
    return mmi


_PREPARED: dict[tuple[str, int, float], Reference] = {}
# One preparation at a time in a process: threads aligning shards at once (gems run-sample --shards)
# would otherwise build the same index under the same temporary name.
_PREPARING = threading.Lock()


def prepare_reference(fasta: Path) -> Reference:
    """Validate `fasta` and return it with its .fai, minimap2 index and checksum (built if needed).

    Remembered per process for an unchanged file (same path, size and mtime), so the steps of
    every sample a worker runs can call it without re-hashing a 3 GB genome.
    """
    source = Path(fasta).expanduser()
    _check_fasta(source)
    st = source.stat()
    key = (str(source.resolve()), st.st_size, st.st_mtime)
    with _PREPARING:
        ref = _PREPARED.get(key)
        if ref is not None and ref.fai.exists() and ref.mmi.exists():
            return ref
        _PREPARED[key] = ref = _prepare(source)
        return ref


def _prepare(source: Path) -> Reference:
    checksum = _sha256(source)
    home = _home_for(source, checksum)
    fai = _build_fai(home)
    contigs = _read_fai(fai)
    if not contigs:
        raise InputError(f"reference {source.name}: no sequences found")
    mmi = _build_mmi(home)
    return Reference(fasta=home, fai=fai, mmi=mmi, checksum=checksum, contigs=contigs, source=source)
