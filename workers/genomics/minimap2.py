"""The minimap2 program: where a worker has it, and the command that maps one read pair with it.

Provisioning (userdata/provision.sh, scripts/setup.sh, the worker image) builds it from mappy's
own source release and puts it next to the venv's python, so the program that maps and the
binding that builds the index are one minimap2 release. Only that copy is used: a minimap2 found
elsewhere on the host would hide a worker that was provisioned without one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import mappy

from gems import sharding

PRESET = "sr"
# minimap2 reads paired files in batches of at least this many bases (-K) and maps a batch at a
# time. It is pinned (WARP pins bwa's -K the same way) so that a batch never depends on the
# threads or the machine, and shards cut at batch ends (workers.genomics.shards) are mapped as
# the whole sample is. 100 Mb: WARP's figure; minimap2's own default is 500 Mb.
BATCH_BASES = sharding.BATCH_BASES


def _bin_dir() -> Path:
    # Not resolved: a venv's python is a link to the system one, the program sits beside the link.
    return Path(sys.executable).parent


@cache
def program() -> Path:
    """The minimap2 program of this worker's environment; RuntimeError when it is missing or stale."""
    path = _bin_dir() / "minimap2"
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise RuntimeError(
            f"the minimap2 program is not installed in {_bin_dir()} (scripts/setup.sh or the worker's "
            "provisioning builds it)"
        )
    found = version(path)
    if not found.startswith(f"{mappy.__version__}-"):
        raise RuntimeError(f"minimap2 {found} in {_bin_dir()} is not mappy's release {mappy.__version__}")
    return path


@cache
def version(path: Path) -> str:
    """What `minimap2 --version` prints (asked once per program: `program()` and every report use it)."""
    out = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=30)
    return out.stdout.strip()


def read_group_id(sample: str) -> str:
    """A sample name fit for an @RG line and RG:Z tags: no whitespace, no escapes minimap2 expands."""
    cleaned = "".join(c if c.isprintable() and not c.isspace() and c != "\\" else "_" for c in sample)
    return cleaned or "sample"


def read_group(sample: str) -> str:
    """minimap2's -R value (it expands the written \\t into tabs)."""
    rg = read_group_id(sample)
    return f"@RG\\tID:{rg}\\tSM:{rg}\\tLB:{rg}\\tPL:ILLUMINA"


def command(
    binary: Path, index: Path, r1: Path, r2: Path, threads: int, sample: str, batch_bases: int = BATCH_BASES
) -> list[str]:
    """Paired short reads to SAM on stdout, with MD tags and the sample's read group on every record.

    minimap2's `-ax sr` writes no secondary alignments and marks supplementary ones with SA tags;
    mates come out next to each other, which is what `samtools fixmate` needs.
    """
    return [
        str(binary), "-t", str(max(threads, 1)), "-K", str(batch_bases), "-a", "-x", PRESET, "--MD",
        "-R", read_group(sample),
        str(index), str(r1), str(r2),
    ]  # fmt: skip
