"""The real NA12878 slice the calling tests align (a uniquely named module: no `conftest` imports)."""

from __future__ import annotations

import shutil
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "data" / "variants"
R1, R2 = DATA / "NA12878_chr22_R1.fastq.gz", DATA / "NA12878_chr22_R2.fastq.gz"
CONTIG = "chr22_16570000_16610000"


def copy_reference(folder: Path) -> Path:
    """The slice's reference in a folder of its own (its indexes are built next to it)."""
    return Path(shutil.copy(DATA / f"{CONTIG}.fa", Path(folder) / f"{CONTIG}.fa"))


def truncated_r1(folder: Path) -> Path:
    """R1 cut in the middle of its gzip stream."""
    broken = Path(folder) / "r1.fastq.gz"
    data = R1.read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    return broken
