"""Sending one callback: resolve the receiver's name, refuse addresses a job may not reach, and
POST to the very address that was checked (a name cannot resolve somewhere else between the
check and the connection). Redirects are not followed: a 3xx is a failed delivery.

Errors are told in a few fixed words, never with the URL, whose path may hold a token.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3

from gems.callbacks.rules import address_problem

CONNECT_S, READ_S = 5.0, 10.0


@dataclass(frozen=True)
class Sent:
    http_status: int | None  # None: no answer came
    error: str = ""


def post(
    url: str, body: bytes, headers: dict[str, str], *, embedded: bool, own_ports: frozenset[int] = frozenset()
) -> Sent:
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):  # UnicodeError: an empty or over-long label (a..b)
        return Sent(None, "the receiver's name does not resolve")
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for ip in addresses:
        if why := address_problem(ip, port, embedded=embedded, own_ports=own_ports):
            return Sent(None, f"refused: the receiver resolves to {why}")
    target = str(addresses[0])
    timeout = urllib3.Timeout(connect=CONNECT_S, read=READ_S)
    pool: urllib3.HTTPConnectionPool
    if https:
        pool = urllib3.HTTPSConnectionPool(
            target, port, timeout=timeout, retries=False, server_hostname=host, assert_hostname=host
        )
    else:
        pool = urllib3.HTTPConnectionPool(target, port, timeout=timeout, retries=False)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    try:
        answer = pool.urlopen(
            "POST",
            path,
            body=body,
            headers={"Host": netloc} | headers,
            redirect=False,
            retries=False,
            preload_content=False,
        )
        answer.read(65536)  # the receiver's words are not kept; a bounded read frees the connection
        answer.release_conn()
        return Sent(answer.status, "" if 200 <= answer.status < 300 else f"HTTP {answer.status}")
    except urllib3.exceptions.NewConnectionError:  # (a subclass of the timeout error)
        return Sent(None, "could not connect")
    except urllib3.exceptions.TimeoutError:
        return Sent(None, "timed out")
    except urllib3.exceptions.SSLError:
        return Sent(None, "TLS failed (certificate or handshake)")
    except (urllib3.exceptions.HTTPError, OSError):
        return Sent(None, "could not connect")
    finally:
        pool.close()
