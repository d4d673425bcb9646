"""`gems lake spark-job`: run lake/spark_job.py in Spark local mode on this machine.

Spark here cannot read the embedded moto S3 (no hadoop-aws jars offline), so the manifest's
partitions are first staged into a local folder, each checked against its sha256; the job then
reads that folder. On a cluster, submit lake/spark_job.py itself against s3:// (docs/lake.md).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import sys
import tempfile
from pathlib import Path

from gems.errors import InputError, UnavailableError
from lake import manifest
from lake.schema import TABLES


def stage(store, dest: Path) -> dict[str, dict]:
    """Copy every partition the manifests list under dest/<table>/job=/sample=/; returns the manifests."""
    used = {}
    for table in TABLES:
        m = manifest.read(store, table)
        used[table] = m
        for entry in m["partitions"].values():
            blob = store.get(entry["key"])
            if blob is None or hashlib.sha256(blob).hexdigest() != entry["sha256"]:
                raise InputError(f"{store.url(entry['key'])} does not match its manifest checksum")
            path = dest / entry["key"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(blob)
    return used


def run_spark_job(store, out: str, master: str = "local[2]") -> int:
    if shutil.which("java") is None:
        raise UnavailableError("Spark needs a Java runtime: apt-get install -y openjdk-17-jre-headless")
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise UnavailableError("pyspark is not installed (pip install -r requirements/dev.txt)") from None
    from lake import spark_job

    # py4j logs its shutdown at INFO from an atexit hook, after the streams may be closed
    logging.getLogger("py4j").setLevel(logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="gems-lake-spark-") as tmp:
        used = stage(store, Path(tmp))
        if not used["qc"]["partitions"]:
            raise InputError(f"the lake at {store.url('')} has no samples yet")
        print("; ".join(manifest.cite(m) for m in used.values()), file=sys.stderr)
        return spark_job.main(["--lake", tmp, "--out", out, "--master", master])
