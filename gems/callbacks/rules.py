"""Signed callbacks, the pure part: which URLs a job may be called back on, the signature, and
the delivery record with its decisions (what to send next, when to try again, when to give up).

A job with a `callback_url` is POSTed its JSON (the body GET /job/<key> answers) on every change
of its overall status (event `status`) and once when nothing more will run (event `finished`,
which also carries the final status). Deliveries go out in order, one at a time; a failed one is
tried again with backoff until it succeeds or `GEMS_CALLBACK_RETRY_S` has passed since it was
queued. Every attempt of one delivery carries the same body and `X-Gems-Delivery` id, so a
receiver can drop repeats. The record (jobs/<key>/callback.json) is written by the API only,
If-Match the version it read, so two API calls never send one delivery twice on purpose.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import socket
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from gems.errors import ValidationError
from gems.states import CallbackEvent, DeliveryOutcome, JobStatus

URL_MAX = 2048
# Waits before each further attempt of one delivery, the last repeated (seconds).
BACKOFF_S = (10, 30, 60, 120, 300, 600, 900)
SENDING_S = 60  # a claim on a delivery in flight; after it another caller may send it again
# Names that reach an instance's metadata service whatever they resolve to.
_METADATA_HOSTS = {"metadata", "metadata.google.internal", "instance-data", "instance-data.ec2.internal"}
_METADATA_IPS = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
# IANA's special-purpose blocks that `is_global` misses on some Python releases, and the IPv6
# blocks that carry an IPv4 address (6to4, Teredo, NAT64) or were once site-local: a receiver on
# AWS must be a globally routable host, and none of these is one.
_NOT_GLOBAL = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
        "::/128", "::1/128", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64",
        "2001::/23", "2001:db8::/32", "2002::/16", "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10",
        "fec0::/10", "ff00::/8",
    )
)  # fmt: skip
# A host spelt only with digits, dots and hex: the C resolver reads 127.1, 2130706433, 0x7f000001
# and 0177.0.0.1 as IPv4 addresses, so the check must read them the same way.
_NUMERIC_HOST = re.compile(r"^[0-9a-fx.]+$")
_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")


def address_problem(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
    port: int | None = None,
    *,
    embedded: bool,
    own_ports: frozenset[int] = frozenset(),
) -> str:
    """Why a callback may not go to this address and port ("" when it may).

    On AWS only globally routable addresses. In the embedded stack, where the receiver is often
    on the same machine, loopback and private addresses too, but never the stack's own services
    (`own_ports`: its API, local AWS, model and metadata servers), and never link-local or
    metadata addresses anywhere."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in _METADATA_IPS:
        return "an instance metadata address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_unspecified or ip.is_multicast or (ip.is_reserved and not ip.is_loopback):  # ::1 is in ::/8
        return "not a host address"
    is_global = ip.is_global and not any(ip in net for net in _NOT_GLOBAL if net.version == ip.version)
    if embedded:
        if not is_global and port in own_ports:
            return f"one of the embedded stack's own services (port {port})"
        return ""
    if ip.is_loopback:
        return "a loopback address (allowed only in the embedded stack)"
    if ip.is_private:
        return "a private address (allowed only in the embedded stack)"
    if not is_global:
        return "an address that is not globally routable"
    return ""


def host_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a URL's host names without a lookup (every spelling the resolver accepts), or
    None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_HOST.match(host) and not host.endswith("."):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            pass
    if host == "localhost" or host.endswith(".localhost"):
        return ipaddress.ip_address("127.0.0.1")
    return None


def _valid_name(host: str) -> bool:
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:  # an empty or over-long label: a..b
        return False
    return len(ascii_host) <= 253 and all(_LABEL.match(label) for label in ascii_host.split("."))


def check_url(
    url: str, *, embedded: bool, own_ports: frozenset[int] = frozenset(), field_name: str = "callback_url"
) -> str:
    """The URL when a job may be called back on it; else a 400 naming the field. https on AWS
    (http too in the embedded stack); never credentials in the URL, nor an address that
    `address_problem` refuses, however it is spelt. A name is resolved again at each delivery
    and every address it gives is checked the same way."""
    if not isinstance(url, str) or not url or len(url) > URL_MAX:
        raise ValidationError(f"{field_name} must be a URL of at most {URL_MAX} characters", field=field_name)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationError(f"{field_name} is not a valid URL", field=field_name) from None
    schemes = ("http", "https") if embedded else ("https",)
    if parts.scheme not in schemes:
        allowed = " or ".join(f"{s}://" for s in schemes)
        raise ValidationError(f"{field_name} must start with {allowed}", field=field_name)
    if parts.username is not None or parts.password is not None:
        raise ValidationError(f"{field_name} must not carry credentials (user@)", field=field_name)
    host = (parts.hostname or "").rstrip(".").lower()
    if not host or any(c.isspace() for c in url) or parts.fragment or port == 0:
        raise ValidationError(f"{field_name} needs a host and no fragment or spaces", field=field_name)
    if host in _METADATA_HOSTS:
        raise ValidationError(f"{field_name} must not name an instance metadata service", field=field_name)
    ip = host_address(host)
    if ip is None and not _valid_name(host):
        raise ValidationError(f"{field_name} has a host name that is not valid", field=field_name)
    port = port or (443 if parts.scheme == "https" else 80)
    if ip is not None and (why := address_problem(ip, port, embedded=embedded, own_ports=own_ports)):
        raise ValidationError(f"{field_name} must not point at {why}", field=field_name)
    return url


def shown(url: str) -> str:
    """The URL as views show it: scheme, host and port only (a path may hold the receiver's token)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…" if parts.netloc else ""


def signature(secret: str, body: bytes) -> str:
    """X-Gems-Signature: the hex HMAC-SHA256 of the raw body with the job's callback secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@dataclass
class Delivery:
    """One POST owed to the receiver, with every attempt made of it so far."""

    id: str
    event: str
    status: str
    body: str
    queued: str
    attempts: int = 0
    next_at: str = ""
    sending_until: str = ""
    last_error: str = ""


@dataclass
class CallbackRecord:
    """jobs/<key>/callback.json: what was last announced, what is still owed, how the last went."""

    notified: str = ""  # the overall status last queued ("" before the first: the job's PENDING)
    finished: bool = False  # the finished event is queued (or sent)
    queue: list[Delivery] = field(default_factory=list)
    last: dict[str, Any] = field(default_factory=dict)  # the last delivery's outcome
    delivered: int = 0
    given_up: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> CallbackRecord:
        data = dict(data or {})
        data["queue"] = [Delivery(**d) for d in data.get("queue") or []]
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    # ---- decisions (pure) ---------------------------------------------------------------------
    def observe(self, status: str, settled: bool, body_of, now: datetime) -> bool:
        """Queue what this status owes the receiver; True when something was queued. `body_of()`
        gives the job's JSON, built only when needed."""
        if self.finished:
            return False
        if settled:
            event = CallbackEvent.FINISHED
            self.finished = True
        elif status != (self.notified or JobStatus.PENDING.value):
            event = CallbackEvent.STATUS
        else:
            return False
        self.notified = status
        stamp = _stamp(now)
        self.queue.append(Delivery(str(uuid.uuid4()), event.value, status, body_of(), stamp, next_at=stamp))
        return True

    def due(self, now: datetime) -> Delivery | None:
        """The next delivery to send now: the oldest, once its backoff and any claim have passed."""
        if not self.queue:
            return None
        head = self.queue[0]
        if head.next_at and _time(head.next_at) > now:
            return None
        if head.sending_until and _time(head.sending_until) > now:
            return None
        return head

    def claim(self, delivery: Delivery, now: datetime) -> None:
        delivery.sending_until = _stamp(now + timedelta(seconds=SENDING_S))

    def settle(
        self, delivery_id: str, http_status: int | None, error: str, now: datetime, give_up_after_s: int
    ) -> None:
        """Record one attempt: sent (2xx), or try again after the backoff, or give up."""
        found = [d for d in self.queue if d.id == delivery_id]
        if not found:
            return  # another caller settled it meanwhile
        d = found[0]
        d.attempts += 1
        d.sending_until = ""
        ok = http_status is not None and 200 <= http_status < 300
        if not ok:
            d.last_error = error or f"HTTP {http_status}"
        age = (now - _time(d.queued)).total_seconds()
        wait = BACKOFF_S[min(d.attempts - 1, len(BACKOFF_S) - 1)]
        if ok or age + wait > give_up_after_s:
            outcome = DeliveryOutcome.DELIVERED if ok else DeliveryOutcome.GAVE_UP
            self.queue.remove(d)
            self.delivered += ok
            self.given_up += not ok
        else:
            outcome = DeliveryOutcome.RETRYING
            d.next_at = _stamp(now + timedelta(seconds=wait))
        self.last = {
            "delivery": d.id,
            "event": d.event,
            "status": d.status,
            "outcome": outcome.value,
            "http_status": http_status,
            "error": "" if ok else d.last_error,
            "attempts": d.attempts,
            "at": _stamp(now),
        } | ({"next_attempt": d.next_at} if outcome is DeliveryOutcome.RETRYING else {})

    def view(self, url: str) -> dict[str, Any]:
        """What GET /job/<key> shows of it (never the secret, nor the URL's path)."""
        return {
            "url": shown(url),
            "pending": len(self.queue),
            "delivered": self.delivered,
            "given_up": self.given_up,
            "last_delivery": self.last or None,
        }
