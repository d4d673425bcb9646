"""Bringing a job's inputs onto the worker: read pairs and reference files from S3."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from gems import names
from gems.aws import s3 as S3

log = logging.getLogger(__name__)


def fetch_pairs(s3, bucket: str, pairs: list[dict], dest: Path) -> tuple[Path, Path]:
    """Download a sample's read pairs; several lanes are concatenated (gzip members may be)."""
    dest.mkdir(parents=True, exist_ok=True)
    if len(pairs) == 1:
        p = pairs[0]
        return (
            S3.download(s3, bucket, p["r1"], dest / "R1.fastq.gz"),
            S3.download(s3, bucket, p["r2"], dest / "R2.fastq.gz"),
        )
    outs = []
    for mate in ("r1", "r2"):
        out = dest / f"{mate.upper()}.fastq.gz"
        with out.open("wb") as fh:
            for i, p in enumerate(pairs):
                part = S3.download(s3, bucket, p[mate], dest / f"lane{i}_{mate}.fastq.gz")
                with part.open("rb") as src:
                    shutil.copyfileobj(src, fh)
                part.unlink()
        outs.append(out)
    return outs[0], outs[1]


def fetch_reference(s3, url: str | None, default_bucket: str, cache: Path, field: str) -> Path | None:
    """Download a file (or every object under a folder URL ending in '/') once per worker.

    Whatever the keys say, every file lands inside `cache` (gems.names.inside): a key with `..`
    segments, a leading '/' or control characters fails the job instead of writing elsewhere.
    """
    if not url:
        return None
    bucket, key = S3.parse_s3_url(url, default_bucket, field=field)
    names.check_bucket(bucket, field)
    if key.endswith("/"):
        folder = names.inside(cache, f"{bucket}/{key}", field)
        for obj in S3.list_keys(s3, bucket, key):
            target = names.inside(folder, obj["Key"][len(key) :], field)
            if not target.exists():
                S3.download(s3, bucket, obj["Key"], target)
        return folder
    target = names.inside(cache, f"{bucket}/{key}", field)
    if not target.exists():
        S3.download(s3, bucket, key, target)
    # Sidecar indexes cached next to the file in S3 (.fai, .mmi, ...) come along when present.
    for obj in S3.list_keys(s3, bucket, key + "."):
        side = names.inside(cache, f"{bucket}/{obj['Key']}", field)
        if not side.exists():
            S3.download(s3, bucket, obj["Key"], side)
    return target


def share_reference_index(s3, url: str | None, default_bucket: str, fasta: Path | None) -> list[str]:
    """Index the reference once and put the indexes next to the FASTA in S3 for the next workers.

    Best effort: a reference that cannot be indexed is reported by each sample's align step.
    """
    if not url or fasta is None:
        return []
    from workers.genomics.reference import prepare_reference  # pysam and mappy load only on workers

    try:
        ref = prepare_reference(fasta)
    except Exception as exc:  # noqa: BLE001 - the samples will fail with the reason
        log.warning("could not index the reference %s: %s", fasta, exc)
        return []
    bucket, key = S3.parse_s3_url(url, default_bucket, field="reference")
    have = {o["Key"] for o in S3.list_keys(s3, bucket, key + ".")}
    shared = []
    for index in (ref.fai, ref.mmi):
        target = key + index.name[len(ref.fasta.name) :]
        if index.name.startswith(ref.fasta.name) and target not in have and index.is_file():
            try:
                S3.upload(s3, index, bucket, target, attempts=2)
                shared.append(target)
            except Exception as exc:  # noqa: BLE001 - a missing cache only costs the next worker time
                log.warning("could not cache %s in S3: %s", target, exc)
    return shared
