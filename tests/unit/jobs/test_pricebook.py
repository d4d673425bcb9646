"""Live prices: the spot price history and the Price List API answer for the types in use, at
most once an hour; what they cannot price comes from the shipped table, and the cost view says
which source each rate came from. No network here: the two AWS clients are stand-ins that answer
in their APIs' own shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from gems.billing.cost import job_cost, price_table
from gems.billing.pricebook import PriceBook
from gems.config import Config

NOW = datetime.now(UTC)


class FakeEC2:
    def __init__(self, rows):
        self.rows, self.calls = rows, 0

    def get_paginator(self, name):
        assert name == "describe_spot_price_history"
        fake = self

        class Pages:
            def paginate(self, **kw):
                fake.calls += 1
                assert kw["ProductDescriptions"] == ["Linux/UNIX"]
                return [
                    {"SpotPriceHistory": [r for r in fake.rows if r["InstanceType"] in kw["InstanceTypes"]]}
                ]

        return Pages()


class FakePricing:
    def __init__(self, prices=None, error=None):
        self.prices, self.error, self.calls = prices or {}, error, 0

    def get_products(self, ServiceCode, Filters, MaxResults):  # noqa: N803 - the API's names
        self.calls += 1
        if self.error:
            raise self.error
        want = {f["Field"]: f["Value"] for f in Filters}
        assert (
            ServiceCode == "AmazonEC2" and want["operatingSystem"] == "Linux" and want["tenancy"] == "Shared"
        )
        usd = self.prices.get(want["instanceType"])
        if usd is None:
            return {"PriceList": []}
        product = {
            "terms": {
                "OnDemand": {"T1": {"priceDimensions": {"D1": {"unit": "Hrs", "pricePerUnit": {"USD": usd}}}}}
            }
        }
        return {"PriceList": [json.dumps(product)]}


def _spot(itype, zone, price, minutes_ago):
    return {
        "InstanceType": itype,
        "AvailabilityZone": zone,
        "SpotPrice": price,
        "Timestamp": NOW - timedelta(minutes=minutes_ago),
    }


WORKERS = [
    {"instance_index": 0, "instance_id": "i-0", "status": "COMPLETE", "capacity": "spot",
     "instance_type": "c5.2xlarge", "launched": "2026-12-03T10:00:00Z", "updated": "2026-12-03T11:00:00Z"},
    {"instance_index": 1, "instance_id": "i-1", "status": "COMPLETE", "capacity": "on-demand",
     "instance_type": "c5.2xlarge", "launched": "2026-12-03T10:00:00Z", "updated": "2026-12-03T11:00:00Z"},
    {"instance_index": 2, "instance_id": "i-2", "status": "COMPLETE", "capacity": "spot",
     "instance_type": "m5.2xlarge", "launched": "2026-12-03T10:00:00Z", "updated": "2026-12-03T10:30:00Z"},
]  # fmt: skip


def test_live_rates_price_the_job_and_the_view_says_so():
    ec2 = FakeEC2([
        _spot("c5.2xlarge", "us-east-1a", "0.1200", 90),
        _spot("c5.2xlarge", "us-east-1a", "0.1100", 5),  # the latest in a zone counts
        _spot("c5.2xlarge", "us-east-1b", "0.1150", 30),  # zones differ: the highest
        _spot("m5.2xlarge", "us-east-1a", "0.1600", 10),
    ])  # fmt: skip
    book = PriceBook(Config(prices="live"), ec2, FakePricing({"c5.2xlarge": "0.3400000000"}))
    cost = job_cost(WORKERS, table=book.table(WORKERS))
    assert [r["usd_per_hour"] for r in cost["by_worker"]] == [0.115, 0.34, 0.16]
    assert cost["usd"] == round(0.115 + 0.34 + 0.16 / 2, 4)
    assert cost["prices"]["source"] == "aws" and "from_table" not in cost["prices"]


def test_what_live_prices_cannot_price_comes_from_the_table_and_is_named():
    book = PriceBook(
        Config(prices="live"), FakeEC2([_spot("c5.2xlarge", "us-east-1a", "0.1", 5)]), FakePricing({})
    )
    cost = job_cost(WORKERS, table=book.table(WORKERS))
    table = price_table()
    assert cost["by_worker"][1]["usd_per_hour"] == table["usd_per_hour"]["on-demand"]["c5.2xlarge"]
    assert cost["prices"]["source"] == "aws"
    assert cost["prices"]["from_table"] == ["on-demand/c5.2xlarge", "spot/m5.2xlarge"]
    assert cost["prices"]["table_as_of"] == table["as_of"]


def test_no_permission_or_no_network_means_the_dated_table():
    book = PriceBook(Config(prices="live"), FakeEC2([]), FakePricing(error=PermissionError("AccessDenied")))
    cost = job_cost(WORKERS, table=book.table(WORKERS))
    assert cost["prices"] == {"source": "table", "as_of": price_table()["as_of"], "region": "us-east-1"}


def test_each_type_is_asked_at_most_once_an_hour():
    ec2, pricing = FakeEC2([_spot("c5.2xlarge", "us-east-1a", "0.1", 5)]), FakePricing({"c5.2xlarge": "0.34"})
    book = PriceBook(Config(prices="live"), ec2, pricing)
    for _ in range(5):
        book.table(WORKERS)
    assert (ec2.calls, pricing.calls) == (1, 1)
    book.ttl_s = 0  # an hour later
    book.table(WORKERS)
    assert (ec2.calls, pricing.calls) == (2, 2)


def test_the_table_setting_never_asks_aws():
    ec2, pricing = FakeEC2([]), FakePricing({"c5.2xlarge": "9.99"})
    book = PriceBook(Config(prices="table"), ec2, pricing)
    assert book.table(WORKERS) is price_table() and (ec2.calls, pricing.calls) == (0, 0)
    assert Config.from_env({"AWS_ENDPOINT_URL": "http://127.0.0.1:1"}).prices == "table"
    assert Config.from_env({}).prices == "live"
