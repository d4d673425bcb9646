"""Signed callbacks, the pure part: which URLs are refused, the signature a receiver checks, and
what the delivery record decides (one delivery per status change, one at the end, backoff, give up)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from gems.callbacks.rules import BACKOFF_S, CallbackRecord, check_url, shown, signature
from gems.errors import ValidationError

T0 = datetime(2026, 12, 3, 14, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.lab.example.org/gems",
        "https://hooks.lab.example.org:8443/gems?token=abc",
        "https://93.184.216.34/notify",
    ],
)
def test_public_https_urls_are_accepted_on_aws(url):
    assert check_url(url, embedded=False) == url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://hooks.lab.example.org/gems", "https://"),
        ("ftp://hooks.lab.example.org/gems", "https://"),
        ("file:///etc/passwd", "https://"),
        ("https://user:pw@hooks.lab.example.org/", "credentials"),
        ("https:///nohost", "host"),
        ("https://hooks.lab.example.org/#frag", "fragment"),
        ("https://169.254.169.254/latest/meta-data/", "metadata"),
        ("https://[fd00:ec2::254]/latest/", "metadata"),
        ("https://169.254.10.10/", "link-local"),
        ("https://[fe80::1]/", "link-local"),
        ("https://metadata.google.internal/computeMetadata/v1/", "metadata"),
        ("https://instance-data/latest/", "metadata"),
        ("https://127.0.0.1:9000/", "loopback"),
        ("https://localhost/", "loopback"),
        ("https://10.1.2.3/", "private"),
        ("https://0.0.0.0/", "host address"),
        ("https://hooks.lab.example.org:99999/", "valid URL"),
        ("https://" + "a" * 2050 + ".org/", "2048"),
        ("", "2048"),
    ],
)
def test_refused_urls_name_the_field_and_say_why(url, why):
    with pytest.raises(ValidationError) as err:
        check_url(url, embedded=False)
    assert err.value.field == "callback_url"
    assert why in str(err.value)


def test_the_embedded_stack_allows_http_and_loopback_but_never_link_local():
    assert check_url("http://127.0.0.1:8123/hook", embedded=True)
    assert check_url("http://localhost:8123/hook", embedded=True)
    for url in ("http://169.254.169.254/latest/", "http://[fe80::2]:80/", "http://metadata/"):
        with pytest.raises(ValidationError):
            check_url(url, embedded=True)


def test_views_show_scheme_and_host_only():
    assert shown("https://hooks.example.org:8443/t/SECRET?k=v") == "https://hooks.example.org:8443/…"


def test_the_signature_is_the_hex_hmac_sha256_of_the_raw_body():
    body = b'{"overall_status":"COMPLETE"}'
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert signature("s3cret", body) == f"sha256={expected}"
    assert signature("s3cret", body + b" ") != f"sha256={expected}"


def _observe(rec, status, settled, at=T0):
    return rec.observe(status, settled, lambda: f'{{"overall_status":"{status}"}}', at)


def test_one_delivery_per_status_change_and_one_at_the_end():
    rec = CallbackRecord()
    assert not _observe(rec, "PENDING", False)  # what the submitter was answered: nothing new
    assert _observe(rec, "RUNNING", False)
    assert not _observe(rec, "RUNNING", False)
    assert _observe(rec, "COMPLETE", True)  # the change and the end are one delivery
    assert not _observe(rec, "COMPLETE", True)
    assert [(d.event, d.status) for d in rec.queue] == [("status", "RUNNING"), ("finished", "COMPLETE")]
    assert len({d.id for d in rec.queue}) == 2


def test_a_job_failed_early_is_told_so_and_again_when_its_other_workers_end():
    rec = CallbackRecord()
    _observe(rec, "RUNNING", False)
    _observe(rec, "FAILED", False)  # one worker failed; others still run
    _observe(rec, "FAILED", False)
    _observe(rec, "FAILED", True)
    assert [(d.event, d.status) for d in rec.queue] == [
        ("status", "RUNNING"),
        ("status", "FAILED"),
        ("finished", "FAILED"),
    ]


def test_deliveries_go_in_order_and_a_claim_keeps_others_off():
    rec = CallbackRecord()
    _observe(rec, "RUNNING", False)
    _observe(rec, "COMPLETE", True)
    first = rec.due(T0)
    assert first is not None and first.status == "RUNNING"
    rec.claim(first, T0)
    assert rec.due(T0 + timedelta(seconds=5)) is None  # in flight: the next waits its turn
    assert rec.due(T0 + timedelta(seconds=61)) is first  # a claim that never settled expires


def test_a_failed_delivery_backs_off_then_is_delivered_with_the_same_id_and_body():
    rec = CallbackRecord()
    _observe(rec, "RUNNING", False)
    d = rec.due(T0)
    body, ident = d.body, d.id
    rec.settle(ident, 503, "HTTP 503", T0, give_up_after_s=3600)
    assert rec.last["outcome"] == "retrying" and rec.last["http_status"] == 503
    assert rec.due(T0 + timedelta(seconds=BACKOFF_S[0] - 1)) is None
    again = rec.due(T0 + timedelta(seconds=BACKOFF_S[0]))
    assert again is not None and (again.id, again.body) == (ident, body)
    rec.settle(ident, None, "timed out", T0 + timedelta(seconds=10), give_up_after_s=3600)
    assert rec.last["next_attempt"] == "2026-12-03T14:00:40Z"  # 10 s, then 30 s more
    rec.settle(ident, 204, "", T0 + timedelta(seconds=40), give_up_after_s=3600)
    assert rec.last["outcome"] == "delivered" and rec.last["attempts"] == 3 and rec.last["error"] == ""
    assert not rec.queue and rec.delivered == 1


def test_a_delivery_is_given_up_once_the_bounded_time_has_passed():
    rec = CallbackRecord()
    _observe(rec, "RUNNING", False)
    _observe(rec, "COMPLETE", True)
    ident = rec.queue[0].id
    t = T0
    while rec.queue and rec.queue[0].id == ident:
        rec.settle(ident, None, "could not connect", t, give_up_after_s=600)
        t += timedelta(seconds=300)
    assert rec.last["outcome"] == "gave_up" and rec.last["error"] == "could not connect"
    assert rec.given_up == 1 and rec.queue[0].status == "COMPLETE"  # the next one moves up


def test_the_record_round_trips_and_its_view_hides_the_url_path():
    rec = CallbackRecord()
    _observe(rec, "RUNNING", False)
    back = CallbackRecord.from_dict(rec.to_dict())
    assert back == rec
    view = back.view("https://hooks.example.org/t/SECRET")
    assert view == {
        "url": "https://hooks.example.org/…",
        "pending": 1,
        "delivered": 0,
        "given_up": 0,
        "last_delivery": None,
    }
