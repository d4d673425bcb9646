"""Helpers for the calling tests: tiny FASTQ writers and an isolated GEMS_HOME."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    # The reference cache lives under GEMS_HOME; keep the repo's .gems out of tests.
    monkeypatch.setenv("GEMS_HOME", str(tmp_path_factory.mktemp("gems_home")))


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
