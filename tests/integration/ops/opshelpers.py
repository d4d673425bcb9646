"""Names shared by this folder's conftest and tests (a uniquely named module: every folder's
conftest is called conftest, so importing from it picks whichever one pytest loaded first)."""

from __future__ import annotations

OPS_KEYS = {"alice": "alice-key-0123456789"}
OPS_LAB = "ops-lab"
