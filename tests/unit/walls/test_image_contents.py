"""Every Dockerfile target holds every first-party module its code imports (issue 14: the api and
worker images lacked lake/). Read statically: each COPY of a target (and of the stages it is
built FROM) gives its files; every import in them, at module level or inside a function, of a
gems room must land on a copied file."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
ROOMS = {"gems", "app", "workers", "lake", "ml", "embedded", "userdata"}
_FROM = re.compile(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", re.I)
_COPY = re.compile(r"^COPY\s+(?!--from)(.+)$", re.I)


def targets() -> dict[str, list[str]]:
    """target -> the repository paths it copies (its own and its parent stages')."""
    stages: dict[str, list[str]] = {}
    current = None
    for line in (REPO / "Dockerfile").read_text().splitlines():
        if m := _FROM.match(line.strip()):
            parent, current = m[1], m[2] or m[1]
            stages[current] = list(stages.get(parent, []))
        elif current and (m := _COPY.match(line.strip())):
            *sources, _dest = m[1].split()
            stages[current] += [s.rstrip("/") for s in sources]
    return stages


def copied_files(paths: list[str]) -> set[Path]:
    out = set()
    for p in paths:
        full = REPO / p
        out |= {f for f in full.rglob("*.py")} if full.is_dir() else {full}
    return out


def first_party_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return {n for n in names if n.split(".")[0] in ROOMS}


def resolves(name: str, files: set[Path]) -> bool:
    """`a.b.c` is a copied module or package, or a name inside a copied module."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        base = REPO.joinpath(*parts[:n])
        if base.with_suffix(".py") in files or base / "__init__.py" in files:
            return True
    return False


@pytest.mark.parametrize("target", ["worker", "serve", "api"])
def test_each_image_holds_what_its_code_imports(target):
    files = copied_files(targets()[target])
    assert files, f"target {target} copies no Python"
    missing = sorted(
        f"{f.relative_to(REPO)} imports {name}"
        for f in files
        if f.suffix == ".py"
        for name in first_party_imports(f)
        if not resolves(name, files)
    )
    assert not missing, "\n".join(missing)
