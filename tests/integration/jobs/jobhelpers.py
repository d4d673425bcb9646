"""Helpers for the job API tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

from motostack import fastq  # noqa: F401 - re-exported for the job tests

KEYS = {"alice": "alice-key-0123456789", "bob": "bob-key-0123456789"}
LAB = "lab-runs"


def bearer(user: str = "alice") -> dict:
    return {"Authorization": f"Bearer {KEYS[user]}"}


def instances(ec2) -> list[dict]:
    return [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]


def state_snapshot(s3, bucket: str) -> dict:
    return {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
