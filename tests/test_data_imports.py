"""kgan.data's modules import one another in one direction only (no import circle)."""

import ast
from pathlib import Path

import kgan

DATA = Path(kgan.__file__).parent / "data"


def _imports(path: Path) -> set[str]:
    """The kgan.data modules `path` imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                found.add(name if (DATA / f"{alias.name}.py").exists()
                          and node.module == "kgan.data" else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m.startswith("kgan.data.")}


def test_no_import_circle_in_kgan_data():
    graph = {f"kgan.data.{p.stem}": _imports(p) for p in DATA.glob("*.py") if p.stem != "__init__"}
    assert graph["kgan.data.sources"] == {"kgan.data.offline"}  # and not the other way round
    assert "kgan.data.sources" not in graph["kgan.data.offline"]

    def reaches(start: str, goal: str, seen: set) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    assert [m for m in graph if reaches(m, m, {m})] == []
