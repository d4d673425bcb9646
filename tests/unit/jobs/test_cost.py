"""Job cost against a hand calculation: by the second, EC2's 60 s minimum, spot and on-demand
rates from the dated table, a running worker counted to now, unknown types named, not guessed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gems.billing.cost import hourly, job_cost, price_table

NOW = datetime(2026, 12, 3, 14, 0, 0, tzinfo=UTC)


def _w(index, status, launched, updated, itype="c5.2xlarge", capacity="spot"):
    return {
        "instance_index": index,
        "instance_id": f"i-{index:017x}",
        "status": status,
        "launched": launched,
        "updated": updated,
        "instance_type": itype,
        "capacity": capacity,
    }


def test_the_table_is_dated_and_spot_is_cheaper_for_every_type():
    table = price_table()
    assert table["as_of"] and table["region"] == "us-east-1"
    for itype, od in table["usd_per_hour"]["on-demand"].items():
        assert 0 < table["usd_per_hour"]["spot"][itype] < od


def test_cost_matches_a_hand_calculation():
    workers = [
        _w(0, "INTERRUPTED", "2026-12-03T13:00:00Z", "2026-12-03T13:30:00Z"),  # 1800 s spot
        _w(
            1, "COMPLETE", "2026-12-03T13:30:10Z", "2026-12-03T13:30:40Z", capacity="on-demand"
        ),  # 30 s -> 60 s billed
        _w(2, "RUNNING", "2026-12-03T13:50:00Z", "2026-12-03T13:55:00Z"),  # running: to now, 600 s
        {
            "instance_index": 3,
            "instance_id": "",
            "status": "FAILED",
            "launched": "",
            "updated": "",
        },  # never launched
    ]
    spot, od = hourly("c5.2xlarge", "spot"), hourly("c5.2xlarge", "on-demand")
    want = 1800 / 3600 * spot + 60 / 3600 * od + 600 / 3600 * spot
    cost = job_cost(workers, now=NOW)
    assert cost["usd"] == pytest.approx(want, abs=1e-4)
    assert cost["instance_seconds"] == 1800 + 30 + 600
    assert [r["instance_index"] for r in cost["by_worker"]] == [0, 1, 2]
    assert cost["prices"]["source"] == "table" and cost["prices"]["as_of"] == price_table()["as_of"]


def test_an_unknown_instance_type_is_named_not_priced():
    cost = job_cost(
        [_w(0, "COMPLETE", "2026-12-03T13:00:00Z", "2026-12-03T14:00:00Z", itype="x9.huge")], now=NOW
    )
    assert cost["usd"] == 0 and cost["unpriced"] == ["x9.huge"] and cost["by_worker"][0]["usd"] is None


def test_each_workers_root_volume_is_billed_beside_its_instance():
    lead = dict(
        _w(0, "COMPLETE", "2026-12-03T13:00:00Z", "2026-12-03T14:00:00Z"),  # an hour
        volume={"gib": 346, "throughput_mbps": 1000, "iops": 4000},
    )
    shard = dict(
        _w(1, "COMPLETE", "2026-12-03T13:00:00Z", "2026-12-03T13:00:30Z"),  # 30 s -> 60 s billed
        volume={"gib": 34, "throughput_mbps": None, "iops": None},
    )
    cost = job_cost([lead, shard, _w(2, "COMPLETE", "2026-12-03T13:00:00Z", "2026-12-03T13:30:00Z")], now=NOW)
    # gp3: $0.08 per GiB-month, $0.04 per MB/s and $0.005 per IOPS-month over 125 MB/s and 3,000
    lead_hour = (346 * 0.08 + 875 * 0.04 + 1000 * 0.005) / 730
    shard_volume = 60 / 3600 * 34 * 0.08 / 730
    spot = hourly("c5.2xlarge", "spot")
    rows = cost["by_worker"]
    assert rows[0]["volume_gib"] == 346 and rows[0]["volume_usd"] == pytest.approx(lead_hour, abs=1e-6)
    assert rows[1]["volume_usd"] == pytest.approx(shard_volume, abs=1e-6)
    assert "volume_gib" not in rows[2]  # the image's own volume: not sized by the launch, not counted
    assert cost["volumes_usd"] == pytest.approx(lead_hour + shard_volume, abs=1e-4)
    assert cost["usd"] == pytest.approx(spot * (1 + 60 / 3600 + 0.5) + lead_hour + shard_volume, abs=1e-4)
