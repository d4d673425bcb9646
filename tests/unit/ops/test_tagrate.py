"""A job's liveness and progress tags stay within its share of EC2's CreateTags budget, and the
read path waits for a silent worker as long as that pace requires (gems.tagrate)."""

from __future__ import annotations

import pytest

from gems import tagrate


def test_a_small_fleet_keeps_its_pace_and_timeout():
    assert tagrate.heartbeat_every_s(20, 2.0) == tagrate.HEARTBEAT_EVERY_S
    assert tagrate.progress_every_s(5, 2.0) == tagrate.PROGRESS_EVERY_S
    assert tagrate.lost_after_s(20, 2.0, 60) == 60  # the configured timeout, as before


@pytest.mark.parametrize("fleet", [61, 200, 1_088, 16_384])
def test_a_large_fleet_stays_within_the_budget_and_is_waited_for(fleet):
    rate = 2.0
    every = tagrate.progress_every_s(fleet, rate)
    assert fleet / every <= rate + 1e-9  # the whole fleet's liveness writes a second
    beat = tagrate.heartbeat_every_s(fleet, rate)
    assert tagrate.lost_after_s(fleet, rate, 900) >= tagrate.LOST_AFTER_BEATS * beat - 1
    assert tagrate.lost_after_s(fleet, rate, 900) >= 900


def test_the_1088_worker_job_beats_every_nine_minutes():
    assert tagrate.heartbeat_every_s(1_088, 2.0) == 544
    assert tagrate.lost_after_s(1_088, 2.0, 900) == 1_632
