"""Each worker's root volume is sized for its units' work (pure)."""

from __future__ import annotations

from gems import volumes

GIB = 1 << 30


def test_a_worker_of_several_samples_is_sized_for_the_largest_and_never_past_ebs_limits():
    assert volumes.for_units(["a", "b"], {"a": 10 * GIB, "b": 40 * GIB}, {}).gib == 20 + 160
    assert volumes.for_units(["huge"], {"huge": 10**13}, {}).gib == volumes.MAX_GIB
    assert volumes.for_units([], {}, {}).gib == volumes.FLOOR_GIB


def test_a_volume_survives_the_job_record():
    v = volumes.Volume(420, 1000, 4000)
    assert volumes.Volume.from_dict(v.to_dict()) == v
