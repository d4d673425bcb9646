"""CONTRIBUTING's rooms-and-walls table is the code's rule: every import between rooms (lazy
ones, and the `gems` command's table of commands, which imports by module name, included) is
one the table allows."""

from __future__ import annotations

import re
from pathlib import Path

from test_import_cycles import REPO, _graph

from gems.cli.main import COMMANDS

ROW = re.compile(r"^\| `([\w/]+/)` \|.*\| (.*) \|$")
ROOM = re.compile(r"`([\w/]+/)`")


def table() -> dict[str, set[str]]:
    """room prefix ('workers.pipeline') -> room prefixes it may import ('*': any). A room whose
    row says "nothing imports it" is not part of its parent's room for importers (`gems/cli/`)."""
    rules: dict[str, set[str]] = {}
    section = (REPO / "CONTRIBUTING.md").read_text().split("## Rooms and walls", 1)[1].split("\n## ", 1)[0]
    for line in section.splitlines():
        m = ROW.match(line)
        if m:
            allowed = {r.strip("/").replace("/", ".") for r in ROOM.findall(m.group(2))}
            room = m.group(1).strip("/").replace("/", ".")
            rules[room] = {"*"} if "every room" in m.group(2) else allowed
            if "nothing imports it" in line:
                SEALED.add(room)
    return rules


SEALED: set[str] = set()


def room_of(module: str, rooms) -> str | None:
    """The longest room prefix that holds a module."""
    best = None
    for room in rooms:
        if (module == room or module.startswith(room + ".")) and (best is None or len(room) > len(best)):
            best = room
    return best


def covers(allowed: str, target: str) -> bool:
    """An allowed room covers itself and its folders, except a sealed one."""
    return target == allowed or (target.startswith(allowed + ".") and target not in SEALED)


def graph_with_commands() -> dict[str, set[str]]:
    graph = _graph()
    graph["gems.cli.main"] = graph["gems.cli.main"] | {module for module, _, _ in COMMANDS.values()}
    return graph


def breaches(graph: dict[str, set[str]], rules: dict[str, set[str]]) -> list[str]:
    out = []
    for module, deps in sorted(graph.items()):
        room = room_of(module, rules)
        if room is None or "*" in rules[room]:
            continue
        for dep in sorted(deps):
            target = room_of(dep, rules)
            if target is None or target == room:
                continue
            if not any(covers(ok, target) for ok in rules[room]):
                out.append(f"{module} -> {dep} ({room} may import {sorted(rules[room]) or 'nothing'})")
    return out


def test_the_table_names_every_room_and_is_read():
    rules = table()
    top = {p.name for p in REPO.iterdir() if p.is_dir() and any(p.glob("*.py")) and p.name != "tests"}
    assert top <= set(rules), f"rooms without a row in CONTRIBUTING: {sorted(top - set(rules))}"
    assert rules["gems"] == {"userdata"} and rules["workers.genomics"] == {"gems"}


def test_every_import_between_rooms_is_one_the_table_allows():
    assert breaches(graph_with_commands(), table()) == []


def test_a_breach_is_reported_with_the_rule():
    rules = {"gems": {"userdata"}, "workers.genomics": {"gems"}, "workers.pipeline": {"gems"}}
    graph = {"workers.genomics.fastq": {"gems.errors", "workers.pipeline.framework"}}
    assert breaches(graph, rules) == [
        "workers.genomics.fastq -> workers.pipeline.framework (workers.genomics may import ['gems'])"
    ]


def test_a_sealed_room_is_not_reached_through_its_parent():
    rules = table()
    assert "gems.cli" in SEALED
    assert breaches({"embedded.seed": {"gems.cli.keys"}}, rules) == [
        "embedded.seed -> gems.cli.keys (embedded may import ['app', 'gems', 'ml'])"
    ]
    assert breaches({"embedded.seed": {"gems.auth"}}, rules) == []


def test_the_commands_table_counts_as_imports():
    assert "workers.pipeline.cli" in graph_with_commands()["gems.cli.main"]
    assert Path(REPO / "gems/cli/main.py").is_file()
