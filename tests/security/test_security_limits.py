"""Items 6 and 8: sizes, depth and failed keys have limits; the server's own errors are JSON;
pages carry security headers; a refused TES task or BaseSpace launch stores nothing."""

from __future__ import annotations

import json
import random
import threading
import urllib.error
import urllib.request

import pytest
from security_helpers import KEYS, LAB, bearer, instances, state_snapshot

from app import limits

TES = "/ga4gh/tes/v1"


def deep(n: int) -> str:
    return '{"a": ' * n + "1" + "}" * n


@pytest.mark.parametrize("path", ["/job", "/stop_instances", "/predict", TES + "/tasks"])
def test_deep_json_is_a_400_naming_the_body(client, path):
    for body in (deep(1000), "[" * 5000 + "]" * 5000):
        resp = client.post(path, data=body, headers=dict(bearer(), **{"Content-Type": "application/json"}))
        assert resp.status_code == 400 and resp.is_json, (path, resp.status_code)
        assert resp.json["field"] == "body"


def test_depth_counts_structure_not_brackets_inside_strings():
    assert limits.json_depth(json.dumps({"s": "[[[[{{{{" * 100, "l": [[1], {"x": [2]}]})) == 4
    assert limits.json_depth(deep(limits.MAX_DEPTH)) == limits.MAX_DEPTH
    assert limits.json_depth(deep(limits.MAX_DEPTH + 5)) == limits.MAX_DEPTH + 1
    assert limits.json_depth(json.dumps({"s": 'a\\"[[[[' * 50})) == 1  # escaped quotes stay in strings
    # Other escapes and escaped backslashes neither end a string nor hide the quote that does.
    assert limits.json_depth(json.dumps({"s": "x\n", "t": "[["})) == 1
    assert limits.json_depth(json.dumps({"s": "\\", "l": [[1]]})) == 3
    assert limits.json_depth(json.dumps({"s": '\\"]', "l": [{"a": "]"}]})) == 3
    assert limits.json_depth(json.dumps({"u": "é[", "l": [[[]]]}, ensure_ascii=False).encode()) == 4
    # Adjacent strings, one with brackets; one level of each kind inside the other; a closer in a
    # string at the bottom of a deep body cannot hide its depth.
    assert limits.json_depth('["a","[b", "", "]"]') == 1
    assert limits.json_depth("{[]}") == limits.json_depth("[{}]") == 2
    assert limits.json_depth("[" * 40 + '"}"' + "]" * 40) == limits.MAX_DEPTH + 1


def test_depth_equals_the_parsed_nesting_of_random_documents():
    rng = random.Random(7)

    def document(levels):
        if levels == 0 or rng.random() < 0.2:
            return rng.choice([1, None, "[x", '"{', "\\]", "é}"])
        if rng.random() < 0.5:
            return [document(levels - 1) for _ in range(rng.randint(0, 3))]
        return {rng.choice(["k", "[", '"', "\\"]): document(levels - 1) for _ in range(rng.randint(0, 3))}

    def nesting(value):
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        return 0 if children is None else 1 + max(map(nesting, children), default=0)

    for _ in range(2000):
        value = document(rng.randint(0, 40))
        assert limits.json_depth(json.dumps(value), limit=100) == nesting(value), json.dumps(value)


def test_bodies_over_the_limit_are_413_json_and_store_nothing(client, services, config):
    before = state_snapshot(services.clients.s3, config.state_bucket)
    big = json.dumps({"bucket": LAB, "prefix": "run1/", "hla_class": 1, "pad": "x" * (2 * 1024 * 1024)})
    resp = client.post("/job", data=big, headers=dict(bearer(), **{"Content-Type": "application/json"}))
    assert resp.status_code == 413 and resp.is_json and resp.json["error"] == "request_entity_too_large"
    task = {
        "inputs": [{"url": f"s3://{LAB}/run1/S1_S1_L001_R1_001.fastq.gz", "description": "x" * 10_000_000}]
    }
    resp = client.post(f"{TES}/tasks", json=task, headers=bearer())
    assert resp.status_code == 413 and resp.is_json
    assert state_snapshot(services.clients.s3, config.state_bucket) == before
    assert instances(services.clients.ec2) == []
    # /predict takes its documented maximum batch: a 2 MiB body is read (and judged on its merits)
    patients = {"patients": [{"mutated_genes": [f"GENE{i}" for i in range(4000)]} for _ in range(25)]}
    resp = client.post("/predict", json=patients, headers=bearer())
    assert resp.status_code != 413


@pytest.mark.parametrize(
    "inputs",
    [
        [{"url": "s3://Not_A_Bucket/run1/S1_R1.fastq.gz"}, {"url": "s3://Not_A_Bucket/run1/S1_R2.fastq.gz"}],
        [
            {"url": "s3://no-such-bucket/run1/S1_R1.fastq.gz"},
            {"url": "s3://no-such-bucket/run1/S1_R2.fastq.gz"},
        ],
        [
            {"url": f"s3://{LAB}/run1/S1_S1_L001_R1_001.fastq.gz"},
            {"url": f"s3://{LAB}/run1/S1_S1_L001_R2_001.fastq.gz"},
            {"url": "s3://gems-test-state/jobs/", "name": "hla_reference"},
        ],
    ],
)
def test_a_refused_tes_task_stores_nothing(client, services, config, inputs):
    before = state_snapshot(services.clients.s3, config.state_bucket)
    task = {"inputs": inputs, "executors": [{"image": "x", "command": ["y"]}], "tags": {"hla_class": "1"}}
    resp = client.post(f"{TES}/tasks", json=task, headers=bearer())
    assert resp.status_code == 400 and resp.is_json, resp.get_data(as_text=True)
    assert state_snapshot(services.clients.s3, config.state_bucket) == before
    assert instances(services.clients.ec2) == []


def test_failed_keys_are_throttled_per_address(client):
    other = {"REMOTE_ADDR": "10.9.8.7"}
    for _ in range(limits.KEY_FAILURES):
        assert client.get("/job/x/logs", headers={"Authorization": "Bearer guess"}).status_code == 401
    blocked = client.get("/job/x/logs", headers={"Authorization": "Bearer guess"})
    assert blocked.status_code == 429 and blocked.is_json
    assert 1 <= int(blocked.headers["Retry-After"]) <= limits.KEY_WINDOW_S
    # A right key from the same address is served: the throttle refuses only wrong keys (issue 31)...
    assert client.post("/job", json={}, headers=bearer()).status_code == 400
    # ...and other addresses' wrong keys are counted on their own.
    wrong = client.get("/job/x/logs", headers={"Authorization": "Bearer guess"}, environ_base=other)
    assert wrong.status_code == 401


def test_the_throttle_forgets_after_its_window():
    now = [0.0]
    throttle = limits.KeyThrottle(failures=2, window_s=10, clock=lambda: now[0])
    throttle.failed("a")
    throttle.failed("a")
    with pytest.raises(Exception, match="too many") as err:
        throttle.failed("a")
    assert err.value.retry_after == 10
    now[0] = 10.5
    throttle.failed("a")  # counted again, not refused


def test_server_errors_are_json(client, services, monkeypatch):
    assert client.get("/no/such/route").is_json
    assert client.delete("/job").status_code == 405 and client.delete("/job").is_json
    monkeypatch.setattr(services.jobs, "find", lambda **kw: 1 / 0)
    resp = client.get("/job")
    assert resp.status_code == 500 and resp.json == {
        "error": "internal_error",
        "message": "internal server error",
    }


def test_the_embedded_http_server_answers_its_own_errors_in_json(app):
    from werkzeug.serving import make_server

    from embedded.stack import json_errors

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=json_errors())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/job?x={'a' * 70_000}"
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(url, timeout=10)  # noqa: S310 - loopback
        assert err.value.code == 414
        assert err.value.headers["Content-Type"] == "application/json"
        assert json.loads(err.value.read())["error"] == "request_uri_too_long"
    finally:
        server.shutdown()
        server.server_close()


def test_pages_carry_security_headers_and_api_answers_nosniff(client):
    for path in ("/", "/jobs/new", "/predict/form", "/docs"):
        resp = client.get(path)
        assert resp.status_code == 200 and resp.mimetype == "text/html", path
        csp = resp.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe" not in csp
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "same-origin"
        html = resp.get_data(as_text=True)
        assert " style=" not in html and "<style" not in html, path  # the CSP would refuse them
        assert all("src=" in tag for tag in html.split("<script")[1:]), path
    api = client.get("/job")
    assert api.headers["X-Content-Type-Options"] == "nosniff"


def test_keys_never_reach_an_answer(client):
    resp = client.post("/job", json={"bucket": LAB}, headers=bearer())
    assert KEYS["alice"] not in resp.get_data(as_text=True)


def test_wrong_job_tokens_count_as_failed_keys(client):
    for _ in range(limits.KEY_FAILURES):
        resp = client.post("/stop_instances", json={"session_key": "k1", "token": "guess"})
        assert resp.status_code in (403, 404)
    assert client.post("/stop_instances", json={"session_key": "k1", "token": "guess"}).status_code == 429
