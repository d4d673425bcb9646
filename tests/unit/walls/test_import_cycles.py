"""No import cycles: between files, and between the top-level rooms (docs/architecture.md).
Every import counts, the ones inside functions too: a lazy import in a cycle is still a dependency
running both ways."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
ROOMS = ("gems", "app", "workers", "ml", "lake", "embedded", "userdata", "benchmarks")


def _modules() -> dict[str, Path]:
    out = {}
    for room in ROOMS:
        for path in (REPO / room).rglob("*.py"):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _imports(path: Path, name: str, known: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from a import b` depends on the module a.b when there is one, else on a.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # a name inside a module: the module
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _graph() -> dict[str, set[str]]:
    known = _modules()
    return {name: _imports(path, name, known) for name, path in known.items()}


def test_no_file_imports_itself_through_others():
    graph = _graph()
    # A package's __init__ re-exporting its own modules is not a cycle of design.
    graph = {m: {t for t in deps if not t.startswith(m + ".")} for m, deps in graph.items()}
    assert _cycles(graph) == []


def test_rooms_depend_one_way():
    rooms: dict[str, set[str]] = {}
    for module, deps in _graph().items():
        room = module.split(".")[0]
        rooms.setdefault(room, set()).update(d.split(".")[0] for d in deps if d.split(".")[0] != room)
    assert _cycles(rooms) == []
    assert {"gems.aws.s3", "gems.status"} <= _graph()["workers.program.worker"]  # the graph is read
