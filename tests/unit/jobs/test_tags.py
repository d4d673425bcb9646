"""EC2 tag limits are enforced by the product (moto does not)."""

from __future__ import annotations

import pytest

from gems import tags as T


def test_limits_enforced():
    T.to_aws({"k": "v" * 256})
    with pytest.raises(T.TagError, match="256"):
        T.to_aws({"k": "v" * 257})
    with pytest.raises(T.TagError, match="1-128"):
        T.to_aws({"k" * 129: "v"})
    with pytest.raises(T.TagError, match="aws:"):
        T.to_aws({"aws:cloudformation": "v"})
    with pytest.raises(T.TagError, match="50"):
        T.to_aws({f"k{i}": "v" for i in range(51)})
    with pytest.raises(T.TagError, match="characters"):
        T.to_aws({"k": "semi;colon"})


def test_clean_value_makes_free_text_taggable():
    text = T.clean_value("ValueError: bad 'read' <x>\n" + "z" * 400)
    T.check_tag("gems:reason", text)
    assert len(text) == 256 and text.startswith("ValueError: bad read x")


def test_launch_tags_fall_back_to_a_manifest():
    common = dict(
        session_key="abc", index=0, bucket="b", prefix="p/", hla_class="1", created="2026-01-01T00:00:00Z"
    )
    few = T.launch_tags(**common, samples=["S1", "S2"], manifest_key="m.json")
    assert few[T.SAMPLES] == "S1 S2" and T.MANIFEST not in few
    many = T.launch_tags(**common, samples=[f"sample-{i:04d}" for i in range(50)], manifest_key="m.json")
    assert many[T.MANIFEST] == "m.json" and T.SAMPLES not in many
    odd = T.launch_tags(**common, samples=["a b"], manifest_key="m.json")
    assert T.MANIFEST in odd


def test_parse_round_trip_and_tolerates_hand_edits():
    tags = T.launch_tags(
        session_key="abc",
        index=3,
        bucket="b",
        prefix="p/",
        hla_class="2",
        created="t",
        samples=["S1"],
        manifest_key="m",
    )
    w = T.WorkerTags.parse("i-1", tags)
    assert (w.index, w.samples, w.status.value) == (3, ["S1"], "PENDING")
    assert T.WorkerTags.parse("i-1", {**tags, T.STATUS: "DANCING"}) is None
    assert T.WorkerTags.parse("i-1", {"Name": "x"}) is None
