"""Layering rules of the design card: churn_core never imports Streamlit; subpackages by concern; pages stay thin."""

from __future__ import annotations

import ast
import importlib

import pytest

from churn_core.config import PROJECT_ROOT

pytestmark = pytest.mark.unit

SUBPACKAGES = ("data", "analytics", "prediction", "geo", "outreach", "monitoring")
PAGES = [PROJECT_ROOT / "Home.py", *sorted((PROJECT_ROOT / "pages").glob("*.py"))]


def _imports(path, full: bool = False) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name if full else alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module if full else node.module.split(".")[0])
    return names


def test_churn_core_never_imports_streamlit() -> None:
    files = sorted((PROJECT_ROOT / "churn_core").rglob("*.py"))
    assert len(files) > 30
    for path in files:
        assert "streamlit" not in _imports(path), path


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_subpackages_say_what_they_are_for_and_export_their_api(name) -> None:
    package = importlib.import_module(f"churn_core.{name}")
    assert package.__doc__ and len(package.__doc__.split()) > 15
    assert package.__all__
    for public in package.__all__:
        assert hasattr(package, public), public  # every exported name resolves (lazy names are imported here)
    modules = {p.stem for p in (PROJECT_ROOT / "churn_core" / name).glob("*.py")} - {"__init__"}
    assert modules <= set(package.__all__), modules - set(package.__all__)


def test_the_flat_package_is_gone() -> None:
    flat = {p.stem for p in (PROJECT_ROOT / "churn_core").glob("*.py")}
    assert flat == {"__init__", "auth", "charts", "cli", "config", "escaping", "formatting", "i18n", "logs", "studio"}


def test_storage_runs_no_analytics_or_models() -> None:
    for path in (PROJECT_ROOT / "churn_core" / "data").glob("*.py"):
        imported = _imports(path, full=True)
        assert not {m for m in imported if m.startswith(("churn_core.analytics", "churn_core.prediction"))}, path
        assert "sklearn" not in {m.split(".")[0] for m in imported}, path


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_pages_are_thin(path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) < 150, f"{path.name} has {len(lines)} lines"
    engines = {"duckdb", "sqlglot", "pandera", "pandas", "numpy", "plotly", "sklearn", "folium", "scipy"}
    assert not engines & _imports(path), "pages lay out widgets and call churn_core; no computation or figures"


def test_ui_holds_only_streamlit_glue() -> None:
    for path in (PROJECT_ROOT / "ui").glob("*.py"):
        assert not {"plotly", "sklearn", "duckdb", "sqlglot", "numpy"} & _imports(path), path


def _names_used_across_subpackages() -> dict[str, set[str]]:
    """Names that code outside a subpackage imports from (or reads off) one of its modules."""
    used: dict[str, set[tuple[str, str]]] = {s: set() for s in SUBPACKAGES}
    sources = [p for d in ("churn_core", "ui", "pages", "scrapers", "api") for p in (PROJECT_ROOT / d).rglob("*.py")]
    for path in [*sources, PROJECT_ROOT / "Home.py", PROJECT_ROOT / "app.py"]:
        rel = path.relative_to(PROJECT_ROOT).parts
        home = rel[1] if rel[0] == "churn_core" and len(rel) > 2 else None
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or not node.module or not node.module.startswith("churn_core."):
                continue
            parts = node.module.split(".")
            if parts[1] not in SUBPACKAGES or parts[1] == home:
                continue
            for alias in node.names:
                if len(parts) == 3:
                    used[parts[1]].add((parts[2], alias.name))
                else:  # `from churn_core.analytics import eda as x`: the attributes read off x count
                    aliases[alias.asname or alias.name] = (parts[1], alias.name)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
                package, module = aliases[node.value.id]
                used[package].add((module, node.attr))
    return used


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_what_other_parts_use_is_in_the_public_api(name) -> None:
    package = importlib.import_module(f"churn_core.{name}")
    missing = []
    for module, used in sorted(_names_used_across_subpackages()[name]):
        own = getattr(importlib.import_module(f"churn_core.{name}.{module}"), "__all__", ())
        if used not in package.__all__ and used not in own:  # a module may keep generic names (check) to itself
            missing.append(f"{module}.{used}")
    assert not missing, f"churn_core.{name} is used for {missing}: export them in its __all__"
