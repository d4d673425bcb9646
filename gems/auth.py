"""API keys and per-job worker tokens, checked in constant time and never logged.

API keys are stored in credstash as SHA-256 digests (`gems.api_keys`: {user: {"sha256": digest,
"admin": bool, "scopes": ["bucket/prefix", ...]}}; a bare digest string, the older form, is a key
without admin or scopes), so a leaked table row does not leak a key. Scopes say which S3 data a
key may run jobs on (gems.scopes). A job belongs to the user whose key submitted it; admin keys may act on
every job. A worker token is HMAC(signing key, session key): only the workers of that job are
given it, and it is worthless for any other job. A job's callback secret is HMAC(signing key,
"callback" NUL session key): answered once to the submitter, never given to a worker.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets as _secrets
from dataclasses import dataclass
from pathlib import Path

from gems.errors import MissingSecretError, NotFoundError, ValidationError
from gems.scopes import parse_all

API_KEYS = "gems.api_keys"
# How old the key table an API process checks a key against may be: a new, changed or revoked key
# takes effect on every process within this (plus one request), at one credstash read per process
# per interval under load.
KEYS_FRESH_S = 3.0
KEYS_BOUND_S = 5  # what docs/security.md promises: KEYS_FRESH_S plus a request, with room to spare
WORKER_SIGNING_KEY = "gems.worker_signing_key"
_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$", re.ASCII)


@dataclass(frozen=True)
class Caller:
    """Who a request acts for: the key's user, whether that key may act on every job, and the
    S3 folders it may run jobs on (gems.scopes; none: the deployment's rule for unscoped keys)."""

    user: str
    admin: bool = False
    scopes: tuple[str, ...] = ()

    def may_act_on(self, owner: str | None) -> bool:
        return self.admin or (owner is not None and hmac.compare_digest(owner.encode(), self.user.encode()))


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return _secrets.token_urlsafe(32)


def _entry(stored) -> tuple[str, bool, tuple[str, ...]]:
    if isinstance(stored, str):
        return stored, False, ()
    return str(stored.get("sha256", "")), bool(stored.get("admin", False)), tuple(stored.get("scopes") or ())


class KeyStore:
    def __init__(self, secrets):
        self.secrets = secrets  # gems.aws.secrets.CredstashSecrets: get(name, max_age) -> str, put

    def check_api_key(self, token: str) -> Caller | None:
        """Whose key this is, or None. Every stored digest is compared (constant time)."""
        presented = digest(token)
        found = None
        for name, stored in json.loads(self.secrets.get(API_KEYS, max_age=KEYS_FRESH_S)).items():
            value, admin, scopes = _entry(stored)
            if hmac.compare_digest(presented, value):
                found = Caller(name, admin, scopes)
        return found

    def worker_token(self, session_key: str) -> str:
        key = self.secrets.get(WORKER_SIGNING_KEY).encode()
        return hmac.new(key, session_key.encode(), hashlib.sha256).hexdigest()

    def callback_secret(self, session_key: str) -> str:
        """The key a job's callbacks are signed with: derived like its worker token but for
        another purpose, so neither gives the other, and nothing needs storing."""
        key = self.secrets.get(WORKER_SIGNING_KEY).encode()
        return hmac.new(key, b"callback\0" + session_key.encode(), hashlib.sha256).hexdigest()

    def check_worker_token(self, session_key: str, token: str) -> bool:
        return hmac.compare_digest(self.worker_token(session_key).encode(), (token or "").encode())


def seed(secrets, users: dict[str, str], admins: tuple[str, ...] = (), stored: dict | None = None) -> None:
    """Store API keys (user -> key; `stored`: entries kept as digests) and a fresh worker signing key."""
    table = dict(stored or {})
    table.update({user: {"sha256": digest(key), "admin": user in admins} for user, key in users.items()})
    secrets.put(API_KEYS, json.dumps(table))
    secrets.put(WORKER_SIGNING_KEY, new_key())


def ensure_signing_key(secrets) -> bool:
    """Store a worker signing key if the deployment has none; True when one was made."""
    try:
        secrets.get(WORKER_SIGNING_KEY)
        return False
    except MissingSecretError:
        secrets.put(WORKER_SIGNING_KEY, new_key())
        return True


# ---- managing keys (`gems keys`) ----------------------------------------------------------------
def _table(secrets) -> dict:
    try:
        return json.loads(secrets.get(API_KEYS))
    except MissingSecretError:  # a first key on a new deployment
        return {}


def list_keys(secrets) -> list[dict]:
    return [
        {"user": u, "admin": admin, "scopes": list(scopes)}
        for u, (_, admin, scopes) in sorted((u, _entry(v)) for u, v in _table(secrets).items())
    ]


def key_table(secrets) -> dict:
    """The stored entries ({user: {"sha256", "admin"}}), digests only."""
    return _table(secrets)


def create_key(secrets, user: str, *, admin: bool = False, scopes: tuple[str, ...] = ()) -> str:
    """A new key for `user` (replacing any key it had); the key is returned once, only its digest kept."""
    if not _USER.match(user or ""):
        raise ValidationError(
            "a user name is 1-64 letters, digits and . _ @ -, starting with a letter or digit", field="name"
        )
    held = [str(s) for s in parse_all(scopes, "--scope")]
    key = new_key()
    table = _table(secrets)
    table[user] = {"sha256": digest(key), "admin": admin} | ({"scopes": held} if held else {})
    secrets.put(API_KEYS, json.dumps(table))
    return key


def revoke_key(secrets, user: str) -> None:
    table = _table(secrets)
    if user not in table:
        raise NotFoundError(f"no key for user {user!r}", field="name")
    del table[user]
    secrets.put(API_KEYS, json.dumps(table))


# The embedded stack writes its credstash anew at each start (moto's KMS keys do not survive it),
# so the digests of keys made with `gems keys` are also kept in its home, and `gems up` seeds them.
KEYS_FILE = "api_keys.json"


def saved_keys(home: Path) -> dict:
    """The embedded stack's keys made with `gems keys`, as digests."""
    path = home / KEYS_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def save_keys(home: Path, table: dict) -> None:
    """Digests only; `gems up` seeds these first, then its own key (.gems/api_key) over them."""
    path = home / KEYS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(table, indent=1) + "\n")
    path.chmod(0o600)
