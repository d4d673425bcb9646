"""Live EC2 prices: the spot price history (EC2 DescribeSpotPriceHistory) and the on-demand list
price (the Price List API, `pricing` GetProducts, served from us-east-1 for every region).

Both answer in the shape of gems/billing/prices.json's `usd_per_hour`, for the types asked, and leave
out what they cannot price; a caller falls back to the shipped table for those. Linux, shared
tenancy, no pre-installed software: what a gems worker runs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta


def spot_prices(ec2, instance_types: list[str], now: datetime | None = None) -> dict[str, float]:
    """The latest spot price of each type over the last 6 hours; where zones differ, the highest
    (the view never understates the bill)."""
    now = now or datetime.now(UTC)
    since = now - timedelta(hours=6)
    latest: dict[tuple[str, str], tuple[datetime, float]] = {}
    pages = ec2.get_paginator("describe_spot_price_history").paginate(
        InstanceTypes=instance_types, ProductDescriptions=["Linux/UNIX"], StartTime=since, EndTime=now
    )
    for page in pages:
        for row in page.get("SpotPriceHistory", []):
            try:
                price, stamp = float(row["SpotPrice"]), row["Timestamp"]
            except (KeyError, TypeError, ValueError):
                continue
            if not price > 0 or not isinstance(stamp, datetime) or stamp < since:
                continue  # only real prices of the window asked (a stand-in may answer others)
            key = (row.get("InstanceType", ""), row.get("AvailabilityZone", ""))
            if key not in latest or stamp > latest[key][0]:
                latest[key] = (stamp, price)
    out: dict[str, float] = {}
    for (itype, _zone), (_stamp, price) in latest.items():
        if itype in instance_types:
            out[itype] = max(out.get(itype, 0.0), price)
    return out


def _on_demand_usd(product: dict) -> float | None:
    for term in (product.get("terms", {}).get("OnDemand") or {}).values():
        for dimension in (term.get("priceDimensions") or {}).values():
            usd = (dimension.get("pricePerUnit") or {}).get("USD")
            if usd is not None and dimension.get("unit") in ("Hrs", "Hours"):
                return float(usd)
    return None


def on_demand_prices(pricing, region: str, instance_types: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for itype in instance_types:
        filters = {
            "instanceType": itype,
            "regionCode": region,
            "operatingSystem": "Linux",
            "tenancy": "Shared",
            "preInstalledSw": "NA",
            "capacitystatus": "Used",
            "licenseModel": "No License required",
        }
        answer = pricing.get_products(
            ServiceCode="AmazonEC2",
            Filters=[{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in filters.items()],
            MaxResults=10,
        )
        prices = [_on_demand_usd(json.loads(p)) for p in answer.get("PriceList", [])]
        found = [p for p in prices if p and p > 0]
        if found:
            out[itype] = max(found)
    return out
