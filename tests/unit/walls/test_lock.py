"""requirements/lock.txt is what every install is constrained by (scripts/setup.sh, the Dockerfile,
the Lambda package): it must hold each pin the requirements files ask for, or a fresh machine
would get versions CI never tested. Regenerate it with scripts/lock.sh."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
_PIN = re.compile(r"^([A-Za-z0-9_.\[\],-]+)==([^\s;#]+)")


def _name(spec: str) -> str:
    return re.sub(r"[-_.]+", "-", spec.split("[")[0]).lower()


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        if m := _PIN.match(line.strip()):
            pins[_name(m.group(1))] = m.group(2)
    return pins


def test_every_pinned_requirement_is_locked_at_the_same_version():
    lock = _pins(ROOT / "requirements" / "lock.txt")
    asked = {}
    for path in sorted((ROOT / "requirements").glob("*.txt")):
        if path.name != "lock.txt":
            asked.update({k: (v, path.name) for k, v in _pins(path).items()})
    assert asked, "no pins found in requirements/"
    wrong = {
        k: f"{v} in {where}, lock has {lock.get(k)}" for k, (v, where) in asked.items() if lock.get(k) != v
    }
    assert not wrong, f"run scripts/lock.sh: {wrong}"


def test_every_install_is_constrained_by_the_lock():
    for path in ["scripts/setup.sh", "scripts/package_lambda.sh", "Dockerfile"]:
        text = (ROOT / path).read_text()
        installs = [ln for ln in text.splitlines() if re.search(r"pip install .*(-r |--upgrade pip)", ln)]
        assert installs, path
        assert all("-c requirements/lock.txt" in ln for ln in installs), (path, installs)
