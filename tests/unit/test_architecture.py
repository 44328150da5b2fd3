"""Layering rules of the design card: churn_core never imports Streamlit; pages stay thin."""

from __future__ import annotations

import ast

import pytest

from churn_core.config import PROJECT_ROOT

pytestmark = pytest.mark.unit


def _imports(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_churn_core_never_imports_streamlit() -> None:
    files = sorted((PROJECT_ROOT / "churn_core").rglob("*.py"))
    assert files
    for path in files:
        assert "streamlit" not in _imports(path), path


@pytest.mark.parametrize("path", [PROJECT_ROOT / "Home.py", *sorted((PROJECT_ROOT / "pages").glob("*.py"))])
def test_pages_are_thin(path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) < 150, f"{path.name} has {len(lines)} lines"
    assert not {"duckdb", "sqlglot", "pandera"} & _imports(path), "pages call churn_core, not the engines"
