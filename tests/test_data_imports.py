"""kgan.data's modules import one another in one direction only (no import circle)."""

import ast
from pathlib import Path

import kgan

DATA = Path(kgan.__file__).parent / "data"


def _module(path: Path) -> str:
    """The dotted name of the kgan.data module or package at `path`."""
    parts = path.relative_to(DATA.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The kgan.data modules `path` imports, at module level or inside functions
    (`from kgan.data import offline` counts as kgan.data.offline)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                found.add(name if name in MODULES else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m.startswith("kgan.data.")}


FILES = sorted(DATA.rglob("*.py"))
MODULES = {_module(p) for p in FILES}


def test_no_import_circle_in_kgan_data():
    """Every module of kgan.data and its builders, package `__init__`s included."""
    graph = {_module(p): _imports(p) for p in FILES if _module(p) != "kgan.data"}
    assert "kgan.data.builders.digits.digits_dataset_builder" in graph  # the walk goes down
    # The sources use the offline helpers and the builders, never the other way round.
    assert "kgan.data.offline" in graph["kgan.data.sources.tfds"]
    for lower in ("kgan.data.offline", "kgan.data.builders", "kgan.data.quiet"):
        assert not any(m.startswith("kgan.data.sources") for m in graph[lower]), lower

    def reaches(start: str, goal: str, seen: set) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    assert [m for m in graph if reaches(m, m, {m})] == []
