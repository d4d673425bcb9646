"""Helpers of the security tier (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

from pathlib import Path

KEYS = {"alice": "alice-key-0123456789", "bob": "bob-key-0123456789", "carol": "carol-key-0123456789"}
LAB = "lab-runs"


def bearer(user: str = "alice") -> dict:
    return {"Authorization": f"Bearer {KEYS[user]}"}


def walk(root: Path) -> list[Path]:
    """Every file under root (not following links)."""
    return sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink())


def instances(ec2) -> list[dict]:
    return [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]


def state_snapshot(s3, bucket: str) -> dict:
    return {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
