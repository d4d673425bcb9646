"""Render one worker's user-data (pure: no AWS, no I/O beyond reading the templates)."""

from __future__ import annotations

import re
import shlex
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAX_USER_DATA = 16 * 1024  # EC2's limit, before base64
_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


@cache
def _template(name: str) -> str:
    return (HERE / name).read_text()


def provision_script() -> str:
    return _template("provision.sh")


def render_user_data(env: dict[str, str]) -> str:
    """The bash user-data for one worker: its environment, provisioning, then `python -m workers`."""
    lines = []
    for key, value in env.items():
        if not _NAME.match(key):
            raise ValueError(f"bad environment name {key!r}")
        lines.append(f"export {key}={shlex.quote(str(value))}")
    # The planner checks the size against MAX_USER_DATA (this room imports nothing of gems).
    return (
        _template("worker.sh")
        .replace("{{ENV}}", "\n".join(lines))
        .replace("{{PROVISION}}", provision_script())
    )
