"""Item 1: whatever an S3 key says, the worker writes only inside its own folders."""

from __future__ import annotations

import pytest
from security_helpers import walk

from gems import names
from gems.errors import ValidationError
from workers.program.fetch import fetch_reference


@pytest.mark.parametrize(
    "key",
    [
        "../x.fa",
        "refs/../../x.fa",
        "/etc/passwd",
        "refs//x.fa",
        "refs/./x.fa",
        "a\\..\\x",
        "a\x00b",
        "a\nb",
        "",
    ],
)
def test_keys_that_could_climb_out_are_refused(tmp_path, key):
    with pytest.raises(ValidationError):
        names.inside(tmp_path, key)


def test_a_link_inside_the_folder_cannot_lead_out(tmp_path):
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "out").symlink_to(tmp_path)
    with pytest.raises(ValidationError):
        names.inside(tmp_path / "cache", "out/x.fa")
    assert names.inside(tmp_path / "cache", "refs/x.fa") == (tmp_path / "cache" / "refs" / "x.fa").resolve()


@pytest.mark.parametrize(
    ("url", "objects"),
    [
        # the file branch: the reference's own key climbs out
        ("s3://lab-runs/refs/../../../../escape/evil.fa", ["refs/../../../../escape/evil.fa"]),
        # the sidecar branch: an object beside the reference named to climb out
        ("s3://lab-runs/refs/demo.fa", ["refs/demo.fa", "refs/demo.fa./../../../../escape/evil.fai"]),
        # the folder branch: one object under the folder climbs out
        ("s3://lab-runs/hla/", ["hla/ok.txt", "hla/../../../../escape/evil.txt"]),
    ],
)
def test_fetch_never_writes_outside_its_cache(services, tmp_path, url, objects):
    s3 = services.clients.s3
    for key in objects:
        s3.put_object(Bucket="lab-runs", Key=key, Body=b">x\nACGT\n")
    cache = tmp_path / "work" / "refs"
    with pytest.raises(ValidationError):
        fetch_reference(s3, url, "lab-runs", cache, "reference")
    outside = [p for p in walk(tmp_path) if not p.is_relative_to(cache)]
    assert outside == [], outside


def test_fetch_still_fetches_honest_keys(services, tmp_path):
    s3 = services.clients.s3
    for key in ("refs/demo.fa", "refs/demo.fa.fai", "hla/a.txt", "hla/sub/b.txt"):
        s3.put_object(Bucket="lab-runs", Key=key, Body=b"x")
    cache = tmp_path / "refs"
    fasta = fetch_reference(s3, "s3://lab-runs/refs/demo.fa", "lab-runs", cache, "reference")
    assert fasta.read_bytes() == b"x" and fasta.with_name("demo.fa.fai").is_file()
    folder = fetch_reference(s3, "s3://lab-runs/hla/", "lab-runs", cache, "options.hla_reference")
    assert sorted(p.relative_to(folder).as_posix() for p in walk(folder)) == ["a.txt", "sub/b.txt"]
