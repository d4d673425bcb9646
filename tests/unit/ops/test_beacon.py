"""The worker's beacon writes its step and heartbeats off the pipeline's thread, at its fleet's
pace, and never after the service ended the worker."""

from __future__ import annotations

import pytest

from workers.program import beacon as beacon_mod
from workers.program.beacon import Beacon


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def sent(monkeypatch):
    out: list[tuple[str, str]] = []
    monkeypatch.setattr(beacon_mod, "record_progress", lambda ec2, iid, text: out.append(("step", text)))
    monkeypatch.setattr(beacon_mod, "heartbeat", lambda ec2, iid: out.append(("beat", iid)))
    monkeypatch.setattr(beacon_mod, "tag_state", lambda ec2, record: out.append(("state", record)))
    return out


def _beacon(clock, fleet=4, ended=None):
    return Beacon(
        None, "i-1", fleet=fleet, writes_per_s=2.0, silenced=lambda: bool(ended and ended[0]), clock=clock
    )


def test_the_newest_step_is_written_once_its_pace_allows(sent):
    clock = Clock()
    b = _beacon(clock)
    b.step("S1: align 10%")
    b.step("S1: align 20%")
    assert not b.tick() and sent == []  # 5 s have not passed since the last write
    clock.t += 5
    assert b.tick() and sent == [("step", "S1: align 20%")]
    clock.t += 5
    assert not b.tick()  # nothing new, and a heartbeat is not due for 30 s
    clock.t += 25
    assert b.tick() and sent[-1] == ("beat", "i-1")


def test_a_large_fleet_spaces_its_writes(sent):
    clock = Clock()
    b = _beacon(clock, fleet=1_088)
    b.step("S1+shard3: align 50%")
    clock.t += 60
    assert not b.tick()  # 1,088 workers at 2 writes a second: one each 544 s
    clock.t += 484
    assert b.tick() and len(sent) == 1


def test_a_failed_write_keeps_the_step_for_the_next_tick(monkeypatch, sent):
    clock = Clock()
    b = _beacon(clock)
    calls = []

    def throttled(ec2, iid, text):
        calls.append(text)
        if len(calls) == 1:
            raise RuntimeError("RequestLimitExceeded")
        sent.append(("step", text))

    monkeypatch.setattr(beacon_mod, "record_progress", throttled)
    b.step("S1: call 30%")
    clock.t += 5
    with pytest.raises(RuntimeError):
        b.tick()
    clock.t += 5
    assert b.tick() and sent == [("step", "S1: call 30%")]


def test_nothing_is_written_once_the_service_ended_the_worker(sent):
    clock, ended = Clock(), [False]
    b = _beacon(clock, ended=ended)
    b.step("S1: align 90%")
    ended[0] = True
    clock.t += 100
    assert not b.tick() and sent == []


def test_a_state_change_written_by_record_status_counts_as_the_last_write(sent):
    clock = Clock()
    b = _beacon(clock)
    b.step("S1: align 10%")
    clock.t += 29
    b.wrote()  # record_status wrote every tag, the step with it
    clock.t += 4
    assert not b.tick() and sent == []


def test_a_throttled_change_of_state_is_tagged_first_and_soon_even_in_a_large_fleet(sent):
    clock = Clock()
    b = _beacon(clock, fleet=1_088)  # progress every 544 s
    b.owe("RUNNING record")  # record_status's one try was throttled
    b.step("S1+shard3: align 5%")
    clock.t += 10
    assert not b.tick()
    clock.t += 20
    assert b.tick() and sent == [("state", "RUNNING record")]  # within 30 s, the step with it
    clock.t += 60
    assert not b.tick() and len(sent) == 1  # then the fleet's pace again
