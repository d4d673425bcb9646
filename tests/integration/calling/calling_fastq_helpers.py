"""Tiny FASTQ writers for the calling tests (a uniquely named module: no `conftest` imports)."""

from __future__ import annotations

import gzip
from pathlib import Path


def fastq_text(reads: list[tuple[str, str, str]]) -> str:
    return "".join(f"@{name}\n{seq}\n+\n{qual}\n" for name, seq, qual in reads)


def write_fastq(path: Path, reads: list[tuple[str, str, str]]) -> Path:
    text = fastq_text(reads).encode()
    if path.suffix == ".gz":
        with gzip.open(path, "wb") as fh:
            fh.write(text)
    else:
        path.write_bytes(text)
    return path
