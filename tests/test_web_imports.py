"""Issue 14 (debt): the web's modules import one another without a cycle.

`web.app` includes the page modules' routes, and the pages render with `web.render`: were a page
module to import `web.app`, each would need the other half-loaded, and only an import hidden in a
function would hold it together. Every import counts here, those inside functions too.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter

from tests.conftest import ROOT


def web_imports() -> dict[str, set[str]]:
    """Each module of `web/` and the modules of `web/` it imports, wherever in its code."""
    graph: dict[str, set[str]] = {}
    for path in sorted((ROOT / "web").glob("*.py")):
        name = f"web.{path.stem}"
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)  # `from web import api`
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
        graph[name] = {m for m in found if m.startswith("web.") and m != name}
    return {name: {m for m in imported if m in graph} for name, imported in graph.items()}


def test_the_web_modules_import_each_other_without_a_cycle() -> None:
    graph = web_imports()
    assert graph["web.app"] >= {"web.pages_account", "web.pages_staff"}  # (the walk sees imports)
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as exc:
        raise AssertionError(f"an import cycle: {' -> '.join(exc.args[1])}") from None
