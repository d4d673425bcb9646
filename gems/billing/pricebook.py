"""The prices a job's cost is figured at: live from AWS where reachable, else the dated table.

On AWS (`GEMS_PRICES=live`, the default there) the spot price history and the Price List API
are asked for the instance types in use, at most once an hour per type; whatever they cannot
price (no permission, no network, a type they do not know) comes from `gems/billing/prices.json`, and
the cost view says which source each rate came from. The embedded stack uses the table
(`GEMS_PRICES=table`): moto has no real prices to give.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

from gems.aws.pricing import on_demand_prices, spot_prices
from gems.billing.cost import price_table
from gems.capacity import Capacity

log = logging.getLogger(__name__)
TTL_S = 3600.0


class PriceBook:
    def __init__(self, config, ec2=None, pricing=None, ttl_s: float = TTL_S):
        self.live = config.prices == "live" and ec2 is not None and pricing is not None
        self.region = config.region
        self.ec2, self.pricing, self.ttl_s = ec2, pricing, ttl_s
        self._rates: dict[tuple[str, str], tuple[float, float | None]] = {}  # (market, type) -> (at, usd)
        self._lock = threading.Lock()

    def _ask(self, market: str, types: list[str]) -> dict[str, float]:
        try:
            if market == Capacity.SPOT.value:
                return spot_prices(self.ec2, types)
            return on_demand_prices(self.pricing, self.region, types)
        except Exception as exc:  # noqa: BLE001 - no permission, no network: the table answers
            log.warning(
                "live %s prices unavailable (%s); using the shipped table", market, type(exc).__name__
            )
            return {}

    def table(self, workers: list[dict]) -> dict[str, Any]:
        """A price table (prices.json's shape) for these workers: live rates where known, the
        shipped table's otherwise, with `kind` ("aws" or "table") and `fallback` (what the table
        priced although live prices were asked for)."""
        shipped = price_table()
        if not self.live:
            return shipped
        wanted: dict[str, set[str]] = {}
        for w in workers:
            if w.get("instance_type"):
                wanted.setdefault(w.get("capacity") or Capacity.ON_DEMAND.value, set()).add(
                    w["instance_type"]
                )
        now = time.monotonic()
        with self._lock:
            for market, types in wanted.items():
                stale = sorted(
                    t for t in types if now - self._rates.get((market, t), (-1e9, None))[0] > self.ttl_s
                )
                if stale:
                    got = self._ask(market, stale)
                    for t in stale:
                        self._rates[(market, t)] = (now, got.get(t))
            rates = {k: v for k, (_, v) in self._rates.items() if v is not None}
        merged = {m: dict(shipped["usd_per_hour"].get(m, {})) for m in (c.value for c in Capacity)}
        fallback = []
        for market, types in wanted.items():
            for t in sorted(types):
                if (market, t) in rates:
                    merged.setdefault(market, {})[t] = rates[(market, t)]
                else:
                    fallback.append(f"{market}/{t}")
        if len(fallback) == sum(len(t) for t in wanted.values()):
            return shipped  # nothing live was had: the table, as it is, dated as it is
        return dict(
            shipped,
            kind="aws",
            as_of=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            region=self.region,
            usd_per_hour=merged,
            fallback=sorted(fallback),
            table_as_of=shipped["as_of"],
        )
