"""The environment is read in one place: gems/config.py. Everywhere else asks Config, so every
setting has one name, one default and one line in docs/configuration.md."""

from __future__ import annotations

import re

from test_import_cycles import REPO, ROOMS

# A named read of the environment: os.environ.get("X"), os.environ["X"], os.getenv("X").
READ = re.compile(r"os\.environ\.get\(|os\.environ\[|os\.getenv\(")
WRITE = re.compile(r"os\.environ\[[^\]]+\]\s*=(?!=)")  # setting one for a child process is no read
# Not settings of gems: podman's own variables, handed on to the podman process it runs.
ALLOWED = {"embedded/container.py"}


def test_only_the_config_module_reads_the_environment():
    found = []
    for room in ROOMS:
        for path in sorted((REPO / room).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            if rel == "gems/config.py" or rel in ALLOWED:
                continue
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if READ.search(WRITE.sub("", line)):
                    found.append(f"{rel}:{n}: {line.strip()}")
    assert found == []


def test_every_setting_the_config_reads_is_documented():
    config = (REPO / "gems" / "config.py").read_text()
    names = set(re.findall(r'"((?:GEMS|AWS|SAGEMAKER|XDG)_[A-Z0-9_]+)"', config))
    documented = (REPO / "docs" / "configuration.md").read_text()
    missing = sorted(n for n in names if n not in documented)
    assert missing == [], f"settings read in gems/config.py but not in docs/configuration.md: {missing}"
