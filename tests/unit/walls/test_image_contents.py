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


def _stage_lines() -> dict[str, list[str]]:
    """target -> its own instructions (not its parents')."""
    stages: dict[str, list[str]] = {}
    current = None
    for raw in (REPO / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if m := _FROM.match(line):
            current = m[2] or m[1]
            stages[current] = []
        elif current and line and not line.startswith("#"):
            stages[current].append(line)
    return stages


@pytest.mark.parametrize("target", ["worker", "serve", "api"])
def test_each_image_runs_unprivileged_with_a_healthcheck(target):
    lines = _stage_lines()[target]
    users = [ln.split()[1] for ln in lines if ln.upper().startswith("USER ")]
    assert users and users[-1] not in ("root", "0"), f"{target} runs as root"
    assert any(ln.upper().startswith("HEALTHCHECK ") and "NONE" not in ln.upper() for ln in lines)


@pytest.mark.parametrize("target", ["worker", "serve", "api"])
def test_dependencies_are_installed_before_the_code_is_copied(target):
    # userdata/ is the provisioning script, which the worker's dependency layer runs.
    lines = _stage_lines()[target]
    deps = next(i for i, ln in enumerate(lines) if ln.startswith("RUN pip install") and "requirements/" in ln)
    code = [
        i
        for i, ln in enumerate(lines)
        if _COPY.match(ln) and not ln.split()[1].startswith(("requirements", "userdata"))
    ]
    assert code and deps < min(code), f"{target} copies code before installing its dependencies"
    base = _stage_lines()["base"]
    assert not any(_COPY.match(ln) and ln.split()[1].rstrip("/") in ROOMS for ln in base)


def test_the_base_image_is_a_build_argument():
    text = (REPO / "Dockerfile").read_text()
    assert re.search(r"^ARG BASE=python:3\.11-slim$", text, re.M)
    assert re.search(r"^FROM \$\{BASE\} AS base$", text, re.M)
