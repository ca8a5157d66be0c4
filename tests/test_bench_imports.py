"""The benches stand on the code, never on the tests (issue 18): what they share with the stream
tests, a local broker and a free port, is `streams.loopback`'s."""

from __future__ import annotations

import ast

from tests.conftest import ROOT


def _imported(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text(), path)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_bench_imports_the_tests() -> None:
    benches = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "bench").glob("*.py"))
    assert "bench/stream.py" in benches and "bench/governance.py" in benches
    leaning = {path: sorted(n for n in _imported(path) if n == "tests" or n.startswith("tests."))
               for path in benches}
    assert not {path: names for path, names in leaning.items() if names}
