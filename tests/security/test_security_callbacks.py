"""The second review's callback findings (issue 31, items 1, 6, 7): a callback never reaches the
stack's own services, every delivery settles, and the AWS rule reads every spelling of an
address as the resolver does."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from security_helpers import LAB, bearer, instances, state_snapshot

from gems.callbacks.rules import CallbackRecord, check_url
from gems.callbacks.webhook import post
from gems.errors import ValidationError

STACK = {"api": 18000, "aws": 18001, "model": 18002, "imds": 18003}


@pytest.fixture
def embedded_config(config):
    return config.with_(
        embedded=True,
        api_url=f"http://127.0.0.1:{STACK['api']}",
        model_url=f"http://127.0.0.1:{STACK['model']}",
        imds_url=f"http://127.0.0.1:{STACK['imds']}",
    )


def _job(url: str) -> dict:
    return {"bucket": LAB, "prefix": "run1/", "hla_class": 1, "callback_url": url}


@pytest.mark.parametrize("service", sorted(STACK))
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.1", "2130706433", "[::1]", "0x7f000001"])
def test_a_callback_to_the_stacks_own_services_is_refused_at_submit(embedded_config, host, service):
    ports = embedded_config.with_(endpoint_url=f"http://127.0.0.1:{STACK['aws']}").own_ports
    assert ports == frozenset(STACK.values())
    with pytest.raises(ValidationError) as err:
        check_url(f"http://{host}:{STACK[service]}/moto-api/reset", embedded=True, own_ports=ports)
    assert err.value.field == "callback_url" and "embedded stack's own services" in err.value.message
    # Another port on the same machine is still a receiver (a developer's local webhook).
    assert check_url(f"http://{host}:18999/hook", embedded=True, own_ports=ports)


def test_post_job_refuses_the_local_aws_reset_and_stores_nothing(client, services, config, app):
    app.config["GEMS"] = services.config = services.jobs.config = config.with_(
        embedded=True, endpoint_url=f"http://127.0.0.1:{STACK['aws']}"
    )
    before = state_snapshot(services.clients.s3, config.state_bucket)
    for url in (
        f"http://127.0.0.1:{STACK['aws']}/moto-api/reset",
        f"http://127.0.0.1:{STACK['aws']}/moto-api/recorder/reset-recording",
    ):
        resp = client.post("/job", json=_job(url), headers=bearer())
        assert resp.status_code == 400 and resp.json["field"] == "callback_url", resp.json
    assert state_snapshot(services.clients.s3, config.state_bucket) == before
    assert instances(services.clients.ec2) == []


def test_delivery_refuses_a_name_that_resolves_to_an_own_service():
    # localhost passes no submit check by name alone in older records: delivery checks again.
    sent = post(
        f"http://localhost:{STACK['aws']}/moto-api/reset",
        b"{}",
        {},
        embedded=True,
        own_ports=frozenset(STACK.values()),
    )
    assert sent.http_status is None and "embedded stack's own services" in sent.error


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_local_aws_control_api_needs_the_stacks_token(tmp_path):
    from embedded.moto_server import CONTROL_HEADER, MotoServer

    moto = MotoServer(_free_port(), tmp_path / "aws")
    moto.start()
    try:
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=moto.url,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
        s3.create_bucket(Bucket="keep-me")
        journal = moto.recording
        size = journal.stat().st_size
        for path in (
            "/moto-api/reset",
            "/moto-api/recorder/reset-recording",
            "/moto-api/data.json",
            "/moto-api/",
        ):
            req = urllib.request.Request(moto.url + path, method="POST" if "reset" in path else "GET")
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(req, timeout=10)  # noqa: S310 - the test's own loopback server
            assert err.value.code == 403 and json.loads(err.value.read())["field"] == "path"
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["keep-me"]
        assert journal.stat().st_size == size
        # The stack itself still holds the key to its own control API.
        ok = urllib.request.Request(
            moto.url + "/moto-api/data.json", headers={CONTROL_HEADER: moto.control_token}
        )
        assert urllib.request.urlopen(ok, timeout=10).status == 200  # noqa: S310
    finally:
        moto.stop()


@pytest.mark.parametrize(
    "url", ["http://a..b/", "https://a..b/", "https://-/", "https://" + "x" * 64 + ".org/"]
)
def test_an_invalid_host_name_is_a_400_at_submit(url):
    with pytest.raises(ValidationError) as err:
        check_url(url, embedded=True)
    assert err.value.field == "callback_url" and "host name" in err.value.message


def test_a_name_that_cannot_be_encoded_settles_and_is_given_up_on_schedule():
    sent = post("http://a..b/", b"{}", {}, embedded=True)  # stored before today's submit check
    assert sent.http_status is None and sent.error
    rec = CallbackRecord()
    t0 = datetime(2026, 12, 7, tzinfo=UTC)
    rec.observe("RUNNING", False, lambda: "{}", t0)
    now = t0
    for _ in range(20):
        d = rec.due(now)
        if d is None:
            break
        rec.settle(d.id, sent.http_status, sent.error, now, give_up_after_s=3600)
        now += timedelta(seconds=1000)
    assert rec.queue == [] and rec.given_up == 1 and rec.last["outcome"] == "gave_up"


def test_a_sender_that_raises_still_settles_the_delivery(services, config):
    def boom(*a, **kw):
        raise UnicodeError("label empty or too long")

    jobs = services.jobs
    jobs.callbacks.send = boom
    from gems.callbacks.rules import Delivery

    d = Delivery("d1", "status", "RUNNING", "{}", "2026-12-07T00:00:00Z")
    sent = jobs.callbacks._send("k", "http://a..b/", d)
    assert sent.http_status is None and "UnicodeError" in sent.error


@pytest.mark.parametrize(
    "host",
    [
        "2130706433",
        "0x7f000001",
        "0177.0.0.1",
        "127.1",
        "0x7f.1",
        "017700000001",
        "100.64.0.1",
        "100.127.255.254",
        "[fec0::1]",
        "[2002:7f00:1::]",
        "[2002::1]",
        "192.0.0.192",
        "192.0.0.8",
        "198.18.0.1",
        "[::ffff:127.0.0.1]",
        "[::ffff:10.0.0.1]",
        "[64:ff9b::7f00:1]",
        "[2001::1]",
        "[fd12::1]",
    ],
)
def test_on_aws_only_globally_routable_addresses_pass_however_spelt(host):
    with pytest.raises(ValidationError) as err:
        check_url(f"https://{host}/hook", embedded=False)
    assert err.value.field == "callback_url" and "must not point at" in err.value.message


@pytest.mark.parametrize(
    "host", ["93.184.216.34", "[2606:2800:220:1:248:1893:25c8:1946]", "hooks.example.org"]
)
def test_on_aws_public_receivers_still_pass(host):
    assert check_url(f"https://{host}/hook", embedded=False)
