"""EC2 tag limits are enforced by the product (moto does not)."""

from __future__ import annotations

import pytest

import gems.tags


def test_limits_enforced():
    gems.tags.to_aws({"k": "v" * 256})
    with pytest.raises(gems.tags.TagError, match="256"):
        gems.tags.to_aws({"k": "v" * 257})
    with pytest.raises(gems.tags.TagError, match="1-128"):
        gems.tags.to_aws({"k" * 129: "v"})
    with pytest.raises(gems.tags.TagError, match="aws:"):
        gems.tags.to_aws({"aws:cloudformation": "v"})
    with pytest.raises(gems.tags.TagError, match="50"):
        gems.tags.to_aws({f"k{i}": "v" for i in range(51)})
    with pytest.raises(gems.tags.TagError, match="characters"):
        gems.tags.to_aws({"k": "semi;colon"})


def test_clean_value_makes_free_text_taggable():
    text = gems.tags.clean_value("ValueError: bad 'read' <x>\n" + "z" * 400)
    gems.tags.check_tag("gems:reason", text)
    assert len(text) == 256 and text.startswith("ValueError: bad read x")


def test_launch_tags_fall_back_to_a_manifest():
    common = dict(
        session_key="abc", index=0, bucket="b", prefix="p/", hla_class="1", created="2026-01-01T00:00:00Z"
    )
    few = gems.tags.launch_tags(**common, samples=["S1", "S2"], manifest_key="m.json")
    assert few[gems.tags.SAMPLES] == "S1 S2" and gems.tags.MANIFEST not in few
    many = gems.tags.launch_tags(
        **common, samples=[f"sample-{i:04d}" for i in range(50)], manifest_key="m.json"
    )
    assert many[gems.tags.MANIFEST] == "m.json" and gems.tags.SAMPLES not in many
    odd = gems.tags.launch_tags(**common, samples=["a b"], manifest_key="m.json")
    assert gems.tags.MANIFEST in odd


def test_parse_round_trip_and_tolerates_hand_edits():
    tags = gems.tags.launch_tags(
        session_key="abc",
        index=3,
        bucket="b",
        prefix="p/",
        hla_class="2",
        created="t",
        samples=["S1"],
        manifest_key="m",
    )
    w = gems.tags.WorkerTags.parse("i-1", tags)
    assert (w.index, w.samples, w.status.value) == (3, ["S1"], "PENDING")
    assert gems.tags.WorkerTags.parse("i-1", {**tags, gems.tags.STATUS: "DANCING"}) is None
    assert gems.tags.WorkerTags.parse("i-1", {"Name": "x"}) is None
