"""The configuration tests run with (no real AWS, short timeouts, shared data from GEMS_SHARED);
it lives with the tests, not in the product (imported by name: tests/ is on sys.path)."""

from __future__ import annotations

import os

from gems.config import MOTO_AMI, Config


def TestConfig(**changes) -> Config:  # noqa: N802 - reads like the class it stands for
    """A Config for tests; `changes` override its fields."""
    base = Config.from_env({k: v for k, v in os.environ.items() if k in ("GEMS_SHARED",)})
    defaults = dict(
        region="us-east-1",
        state_bucket="gems-test-state",
        max_workers=10,
        heartbeat_timeout_s=60,
        api_url="http://testserver",
        ami_id=MOTO_AMI,
    )
    defaults.update(changes)
    return base.with_(**defaults)
