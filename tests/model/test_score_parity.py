"""Done-when check of issue #14: a customer gets the same score from the app, the API and `churn-studio score`.

All three use the registry's champion and report its version; the probabilities agree within 1e-9.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from api.main import create_app
from churn_core.cli import app as cli
from churn_core.config import get_settings
from churn_core.prediction import registry
from tests.helpers.predict_api import api_settings, real_customers
from tests.helpers.registry import no_compiling

pytestmark = pytest.mark.model

#: Real customers of the shipped file; 4472-LVYGI has tenure 0 and a blank TotalCharges.
IDS = ("3668-QPYBK", "4472-LVYGI", "9237-HQITU", "7590-VHVEG", "1452-KIOVK")


def _app_scores(ids: tuple[str, ...]) -> None:
    """The scoring page's single-customer path: the cached champion, the warehouse row, ``score_one``."""
    import streamlit as st

    from churn_core.prediction.business import Economics
    from churn_core.prediction.scoring import score_one
    from ui.data import explainer, model_bundle, model_info, query_customers

    model, rows = model_bundle().model, query_customers(ids=ids)
    st.session_state["version"] = model_info()["version"]
    st.session_state["scores"] = {
        row["customer_id"]: float(score_one(model, row, explainer(), Economics.from_settings())[0]["churn_probability"])
        for _, row in rows.iterrows()
    }


def test_app_api_and_score_command_agree(duckdb_warehouse, tmp_path, monkeypatch) -> None:
    no_compiling(monkeypatch)
    monkeypatch.setenv("CHURN_REGISTRY_DIR", str(tmp_path / "registry"))
    get_settings.cache_clear()
    try:
        champion = registry.champion_version()
        command = CliRunner().invoke(cli, ["score"])
        assert command.exit_code == 0, command.output
        assert f"champion {champion}" in command.output
        scores = duckdb_warehouse.query("SELECT customer_id, churn_probability FROM {scores}")
        batch = scores[scores["customer_id"].isin(IDS)].set_index("customer_id")["churn_probability"]

        at = AppTest.from_function(_app_scores, args=(IDS,), default_timeout=300).run()
        assert not at.exception, at.exception
        app_scores, app_version = at.session_state["scores"], at.session_state["version"]
    finally:
        get_settings.cache_clear()

    settings, key = api_settings(tmp_path, registry_dir=tmp_path / "registry")
    client = TestClient(create_app(settings))
    answers = {c["customer_id"]: client.post("/v1/predict", json=c, headers={"X-API-Key": key}).json()
               for c in real_customers(list(IDS))}  # fmt: skip

    assert app_version == champion and {a["model"]["version"] for a in answers.values()} == {champion}
    assert sorted(app_scores) == sorted(answers) == sorted(batch.index) == sorted(IDS)
    for cid in IDS:
        api_p = answers[cid]["churn_probability"]
        assert abs(app_scores[cid] - api_p) <= 1e-9, (cid, app_scores[cid], api_p)
        assert abs(float(batch[cid]) - api_p) <= 1e-9, (cid, float(batch[cid]), api_p)
