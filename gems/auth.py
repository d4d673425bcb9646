"""API keys and per-job worker tokens, checked in constant time and never logged.

API keys are stored in credstash as SHA-256 digests (`gems.api_keys`: {user: digest}), so a
leaked table row does not leak a key. A worker token is HMAC(signing key, session key): only the
workers of that job are given it, and it is worthless for any other job.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets as _secrets

API_KEYS = "gems.api_keys"
WORKER_SIGNING_KEY = "gems.worker_signing_key"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return _secrets.token_urlsafe(32)


class KeyStore:
    def __init__(self, secrets):
        self.secrets = secrets  # anything with get(name) -> str

    def check_api_key(self, token: str) -> str | None:
        """The user a key belongs to, or None. Every stored digest is compared (constant time)."""
        presented = digest(token)
        user = None
        for name, stored in json.loads(self.secrets.get(API_KEYS)).items():
            if hmac.compare_digest(presented, stored):
                user = name
        return user

    def worker_token(self, session_key: str) -> str:
        key = self.secrets.get(WORKER_SIGNING_KEY).encode()
        return hmac.new(key, session_key.encode(), hashlib.sha256).hexdigest()

    def check_worker_token(self, session_key: str, token: str) -> bool:
        return hmac.compare_digest(self.worker_token(session_key).encode(), (token or "").encode())


def seed(secrets, users: dict[str, str]) -> None:
    """Store API keys (user -> key) and a fresh worker signing key."""
    secrets.put(API_KEYS, json.dumps({user: digest(key) for user, key in users.items()}))
    secrets.put(WORKER_SIGNING_KEY, new_key())
