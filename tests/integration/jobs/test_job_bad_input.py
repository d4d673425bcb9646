"""Every bad request answers 4xx with JSON naming the problem, launches nothing, changes nothing."""

from __future__ import annotations

import pytest
from jobhelpers import LAB, bearer, fastq, instances, state_snapshot

GOOD = {"bucket": LAB, "prefix": "run1/", "hla_class": 1}


def _assert_refused(client, services, config, resp, status, field):
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.is_json and resp.json["error"] and resp.json["message"]
    if field:
        assert resp.json.get("field", "").startswith(field), resp.json
    assert instances(services.clients.ec2) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"bucket": None}, "bucket"),
        ({"prefix": None}, "prefix"),
        ({"hla_class": None}, "hla_class"),
        ({"hla_class": 3}, "hla_class"),
        ({"hla_class": "1"}, "hla_class"),
        ({"workers": 0}, "workers"),
        ({"workers": 11}, "workers"),
        ({"bucket": "no-such-bucket"}, "bucket"),
        ({"prefix": ""}, "prefix"),
        ({"prefix": "/"}, "prefix"),
        ({"prefix": "/abs/run1/"}, "prefix"),
        ({"prefix": "run1/../secret/"}, "prefix"),
        ({"prefix": "empty/"}, "prefix"),
        ({"samples": ["S9"]}, "samples"),
        ({"options": {"threads": "many"}}, "options.threads"),
        ({"unknown_field": 1}, "unknown_field"),
    ],
)
def test_bad_fields(client, services, config, lab, change, field):
    before = state_snapshot(services.clients.s3, config.state_bucket)
    body = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    resp = client.post("/job", json=body, headers=bearer())
    _assert_refused(client, services, config, resp, 400, field)
    assert state_snapshot(services.clients.s3, config.state_bucket) == before


def test_r1_without_r2(client, services, config, lab):
    lab.put_object(Bucket=LAB, Key="half/X_S1_L001_R1_001.fastq.gz", Body=fastq())
    resp = client.post("/job", json=dict(GOOD, prefix="half/"), headers=bearer())
    _assert_refused(client, services, config, resp, 400, "prefix")
    assert "R2" in resp.json["message"]


def test_non_json_body(client, services, config, lab):
    resp = client.post("/job", data="bucket=lab", headers=dict(bearer(), **{"Content-Type": "text/plain"}))
    _assert_refused(client, services, config, resp, 400, "body")
    resp = client.post("/job", json=[1, 2], headers=bearer())
    _assert_refused(client, services, config, resp, 400, "body")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}])
def test_missing_or_wrong_key(client, services, config, lab, headers):
    resp = client.post("/job", json=GOOD, headers=headers)
    _assert_refused(client, services, config, resp, 401, "Authorization")
    assert "alice-key" not in resp.get_data(as_text=True)


def test_unknown_route_and_method_are_json(client):
    assert client.get("/nope").json["error"] == "not_found"
    assert client.delete("/job").status_code == 405
