"""What a job's workers cost (pure): instance type x capacity x run time, at dated list prices,
and each worker's root volume (gp3: its size, and throughput and IOPS over the baseline) for as long.

EC2 bills Linux instances by the second with a 60-second minimum, from launch to termination,
and EBS volumes by the second too (a worker's volume is deleted with its instance).
A worker's run time here is from its launch to its last record (its end, or now while it runs);
its instance powers off seconds after that, so the figure is a close lower bound. Prices come
from `gems/billing/prices.json`, a dated table of us-east-1 list prices shipped with the code, or live
from AWS (gems.billing.pricebook builds a table of the same shape); the view names the source and its
date, so nobody mistakes it for the bill.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from gems.capacity import Capacity
from gems.states import WorkerStatus

PRICES = Path(__file__).with_name("prices.json")


@lru_cache(maxsize=1)
def price_table() -> dict[str, Any]:
    return json.loads(PRICES.read_text())


def hourly(instance_type: str, capacity: str, table: dict | None = None) -> float | None:
    """USD per hour, or None for a type the table does not list."""
    table = table or price_table()
    market = capacity if capacity in (c.value for c in Capacity) else Capacity.ON_DEMAND.value
    return table["usd_per_hour"][market].get(instance_type)


def _when(stamp: str) -> datetime | None:
    try:
        return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def worker_seconds(worker: dict, now: datetime) -> float | None:
    """Launch to end (its last record once finished, else now); None for a worker never launched."""
    start = _when(worker.get("launched", ""))
    if start is None or not worker.get("instance_id"):
        return None
    finished = WorkerStatus(worker["status"]).finished
    end = (_when(worker.get("updated", "")) if finished else None) or now
    return max(0.0, (end - start).total_seconds())


def volume_hourly(volume: dict | None, table: dict | None = None) -> float:
    """USD per hour of a worker's root volume as planned (gems.volumes.Volume.to_dict); 0 for
    none (the image's own, which the record does not size)."""
    if not volume:
        return 0.0
    ebs = (table or {}).get("ebs_gp3") or price_table()["ebs_gp3"]  # live tables price instances only
    per_month = (
        int(volume["gib"]) * ebs["usd_per_gib_month"]
        + max(0, (volume.get("throughput_mbps") or 0) - ebs["baseline_mbps"]) * ebs["usd_per_mbps_month"]
        + max(0, (volume.get("iops") or 0) - ebs["baseline_iops"]) * ebs["usd_per_iops_month"]
    )
    return per_month / ebs["hours_per_month"]


def job_cost(workers: list[dict], now: datetime | None = None, table: dict | None = None) -> dict[str, Any]:
    """The job view's `cost`: total USD (instances and their volumes) and instance seconds, and
    each worker's share."""
    now = now or datetime.now(UTC)
    table = table or price_table()
    minimum = float(table.get("per_second_minimum_s", 60))
    rows, total, seconds, unpriced, volumes_usd = [], 0.0, 0.0, [], 0.0
    for w in workers:
        run = worker_seconds(w, now)
        if run is None:
            continue  # never launched: nothing to pay (a launched one pays EC2's minimum)
        itype, capacity = w.get("instance_type", ""), w.get("capacity") or Capacity.ON_DEMAND.value
        rate = hourly(itype, capacity, table)
        billed = max(run, minimum)
        volume_usd = round(billed / 3600 * volume_hourly(w.get("volume"), table), 6)
        usd = round(billed / 3600 * rate + volume_usd, 6) if rate is not None else None
        if usd is None:
            unpriced.append(itype or "?")
        else:
            total += usd
            volumes_usd += volume_usd
        seconds += run
        row = {
            "instance_index": w["instance_index"],
            "instance_type": itype,
            "capacity": capacity,
            "seconds": round(run, 1),
            "usd_per_hour": rate,
            "usd": usd,
        }
        if w.get("volume"):
            row |= {"volume_gib": int(w["volume"]["gib"]), "volume_usd": volume_usd}
        rows.append(row)
    out: dict[str, Any] = {
        "usd": round(total, 4),
        "volumes_usd": round(volumes_usd, 4),  # of `usd`: the workers' root volumes
        "instance_seconds": round(seconds, 1),
        "by_worker": rows,
        "prices": {"source": table.get("kind", "table"), "as_of": table["as_of"], "region": table["region"]},
    }
    if table.get("fallback"):  # live prices were had for some rates only: these came from the table
        out["prices"] |= {"from_table": table["fallback"], "table_as_of": table["table_as_of"]}
    if unpriced:
        out["unpriced"] = sorted(set(unpriced))  # types missing from the table: not in `usd`
    return out
