"""State names live in gems/states.py only: no other product module spells one out as a string
(a renamed or added state then cannot be missed somewhere). TES's own state vocabulary, which
shares some names, and AWS's (CloudFormation, Athena) are not ours and are left out."""

from __future__ import annotations

import ast
from pathlib import Path

from gems.states import JobStatus, SampleStatus, WorkerStatus

REPO = Path(__file__).resolve().parents[3]
NAMES = {s.value for enum in (JobStatus, WorkerStatus, SampleStatus) for s in enum}
NOT_OURS = ("app/tes/", "gems/deploy/", "lake/athena.py")


def test_no_state_name_is_spelled_outside_the_enums():
    found = []
    for room in ("gems", "app", "workers", "lake", "ml", "embedded"):
        for path in sorted((REPO / room).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            if rel == "gems/states.py" or rel.startswith(NOT_OURS):
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and node.value in NAMES:
                    found.append(f"{rel}:{node.lineno} {node.value!r}")
    assert found == []
