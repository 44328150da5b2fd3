"""Issue #17: Home's cold start imports no modelling library it does not need (lazy imports).

Checked in fresh Python processes (``sys.modules`` after the imports): Home's own import chain
(every module-level import of ``Home.py``, the model-health banner's ``ui.health`` of issue #14
included) loads none of Plotly Express, statsmodels, scikit-learn, lifelines or the tree
libraries; and Home's first run on a built warehouse loads no model library at all (its chart
needs Plotly Express, its confidence intervals statsmodels).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

from churn_core.config import PROJECT_ROOT, RAW_CUSTOMERS_CSV
from churn_core.data.warehouse import DuckDBWarehouse
from churn_core.studio import STUDIO_ENRICH

HOME = PROJECT_ROOT / "Home.py"
#: Not imported by importing Home's modules (Streamlit itself imports ``plotly.graph_objects``).
NOT_ON_IMPORT = ("plotly.express", "statsmodels", "sklearn", "lifelines", "lightgbm", "xgboost", "shap")
#: Not imported by Home's first run either: no model is fitted or loaded on Home.
NOT_ON_RUN = ("sklearn", "lifelines", "lightgbm", "xgboost", "shap")


def home_imports() -> list[str]:
    """The module-level import statements of ``Home.py``, as source lines."""
    tree = ast.parse(HOME.read_text(encoding="utf-8"))
    return [ast.unparse(node) for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]


def loaded_after(code: str, watched: tuple[str, ...], **env: str) -> list[str]:
    """Of ``watched``, the modules a fresh interpreter (environment plus ``env``) has loaded after running ``code``."""
    probe = f"{code}\nimport sys, json\nprint(json.dumps([m for m in {list(watched)!r} if m in sys.modules]))"
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **env}, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


#: Home's model-health banner (issue #14): its module imports the monitoring charts and metrics
#: (Plotly Express, scikit-learn, SciPy) only when the Model health page draws them.
HEALTH_BANNER = "from ui.health import home_alert"


def test_home_import_chain_loads_no_modelling_library() -> None:
    imports = home_imports()
    assert any("ui" in line for line in imports) and any("eda" in line for line in imports)
    assert HEALTH_BANNER in imports
    assert loaded_after("\n".join(imports), NOT_ON_IMPORT) == []


def test_home_health_banner_loads_no_modelling_library() -> None:
    assert HEALTH_BANNER in home_imports()
    assert loaded_after(HEALTH_BANNER, (*NOT_ON_IMPORT, "scipy")) == []


def test_home_first_run_loads_no_model_library(tmp_path) -> None:
    path = tmp_path / "home.duckdb"
    wh = DuckDBWarehouse(path, RAW_CUSTOMERS_CSV, enrich=STUDIO_ENRICH)
    wh.ensure_built()  # built here: Home's run only reads it
    wh.close()
    run = (
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({str(HOME)!r}, default_timeout=600).run()\n"
        "assert not at.exception, at.exception\n"
        "assert at.metric, 'Home drew no KPI'\n"
    )
    assert loaded_after(run, NOT_ON_RUN, CHURN_WAREHOUSE_PATH=str(path)) == []


def test_asking_for_the_champion_loads_no_model_library(tmp_path) -> None:
    """Every page rerun and API request asks for the champion's version and folder: a file read.

    (The registry seeds itself from ``models/`` on first use, which does load the model; the
    champion exists by then.)
    """
    env = {"CHURN_REGISTRY_DIR": str(tmp_path / "registry")}
    loaded_after("from churn_core.prediction.registry import champion_version; champion_version()", (), **env)
    code = (
        "from churn_core.prediction import registry as r\n"
        "r.champion_stamp(); r.champion_version(); r.champion_dir(); r.champion_info()"
    )
    assert loaded_after(code, (*NOT_ON_RUN, "skops"), **env) == []


def test_every_declared_schema_has_a_model() -> None:
    """The registry names schemas by :data:`churn_core.data.schema.SCHEMAS` (light), the models by
    :data:`churn_core.prediction.features.FEATURE_SETS`: the two must agree."""
    from churn_core.data.schema import SCHEMAS
    from churn_core.prediction.features import FEATURE_SETS

    assert sorted(SCHEMAS) == sorted(FEATURE_SETS)
