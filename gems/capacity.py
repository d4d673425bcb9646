"""Spot or on-demand: how a job's workers are bought.

Spot capacity is typically 60-90% cheaper and can be reclaimed with a two-minute notice; a job
asks for it per request (`capacity`), the deployment sets the default (GEMS_CAPACITY). Spot
workers are one-time requests that terminate on interruption (the service relaunches their
unfinished samples); when EC2 has no spot capacity for a worker, that worker is launched
on-demand instead and the job view says so.
"""

from __future__ import annotations

import copy
from enum import StrEnum

from gems import tags


class Capacity(StrEnum):
    SPOT = "spot"
    ON_DEMAND = "on-demand"


# RunInstances answers that mean "no spot instance for this request now", not a broken request.
SPOT_REFUSED = frozenset(
    {
        "InsufficientInstanceCapacity",
        "SpotMaxPriceTooLow",
        "MaxSpotInstanceCountExceeded",
        "UnfulfillableCapacity",
        "InsufficientCapacity",
    }
)

SPOT_MARKET = {
    "MarketType": "spot",
    "SpotOptions": {"SpotInstanceType": "one-time", "InstanceInterruptionBehavior": "terminate"},
}


def market_options(capacity: Capacity) -> dict | None:
    """The RunInstances InstanceMarketOptions for `capacity` (None: on-demand)."""
    return copy.deepcopy(SPOT_MARKET) if capacity is Capacity.SPOT else None


def on_demand_instead(request: dict) -> dict:
    """The same launch bought on-demand: no market options, the capacity tag says so, and its
    own ClientToken (EC2 refuses one token reused with other parameters)."""
    out = copy.deepcopy(request)
    out.pop("InstanceMarketOptions", None)
    if out.get("ClientToken"):
        out["ClientToken"] = out["ClientToken"] + "-od"
    for spec in out.get("TagSpecifications", []):
        for tag in spec["Tags"]:
            if tag["Key"] == tags.CAPACITY:
                tag["Value"] = Capacity.ON_DEMAND.value
    return out
