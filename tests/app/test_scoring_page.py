"""AppTest of the scoring page: one customer with what-if, batch CSV upload, at-risk seniors."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from churn_core.data.synthetic import to_raw_csv
from churn_core.i18n import fmt_pct
from churn_core.prediction.business import AT_RISK_TIERS, RISK_TIERS
from churn_core.prediction.features import feature_frame
from churn_core.prediction.training import load_bundle
from tests.helpers.apptest import open_page, open_tab

pytestmark = pytest.mark.app


@pytest.fixture(scope="module")
def model():
    return load_bundle().model


@pytest.fixture
def page() -> AppTest:
    return open_page("pages/scoring.py", role="analyst")


def _open(at: AppTest, name: str) -> AppTest:
    return open_tab(at, "score_tab", "score", name)


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_single_customer_and_what_if(page: AppTest, customers, model) -> None:
    customer = customers[(customers["contract"] == "Month-to-month") & customers["is_senior"]].iloc[0]
    page.selectbox(key="score_customer").select(customer["customer_id"]).run()
    expected = model.predict_proba(feature_frame(customers[customers["customer_id"] == customer["customer_id"]]))[0, 1]
    assert _metric(page, "이탈 확률") == fmt_pct(expected)
    assert _metric(page, "위험 점수") == f"{round(100 * expected)} / 100"
    assert len(page.get("plotly_chart")) == 1  # drivers
    assert any("디지털 배움터" in m.value for m in page.markdown)  # the senior programme is recommended
    page.selectbox(key=f"wi_contract_{customer['customer_id']}").select("Two year").run()
    after = float(_metric(page, "이탈 확률").rstrip("%")) / 100
    assert after < expected


def test_batch_upload_scores_and_offers_download(page: AppTest, customers, model) -> None:
    _open(page, "batch")
    raw = to_raw_csv(customers.head(250)).drop(columns=["Churn", "churn_rate", "Satisfaction Score"])
    page.file_uploader(key="score_upload").set_value(("batch.csv", raw.to_csv(index=False).encode(), "text/csv")).run()
    assert not page.exception, page.exception
    assert any("250" in s.value for s in page.success)
    table = page.dataframe[0].value
    expected = model.predict_proba(feature_frame(customers.head(250)))[:, 1]
    assert np.allclose(table["churn_probability"].to_numpy() / 100, expected)  # shown in percent
    assert page.get("download_button")


def test_batch_upload_with_errors_names_them(page: AppTest, customers) -> None:
    _open(page, "batch")
    raw = to_raw_csv(customers.head(50)).drop(columns=["Contract"])
    page.file_uploader(key="score_upload").set_value(("bad.csv", raw.to_csv(index=False).encode(), "text/csv")).run()
    assert page.error and not page.success
    problems = page.dataframe[0].value
    assert "Contract" in set(problems["column"])


def test_at_risk_seniors(page: AppTest, customers, model) -> None:
    _open(page, "seniors")
    table = page.dataframe[0].value
    seniors = customers[customers["is_senior"]]
    p = model.predict_proba(feature_frame(seniors))[:, 1]
    at_risk_from = min(bound for tier, bound in RISK_TIERS if tier in AT_RISK_TIERS)  # the lowest at-risk tier
    assert len(table) == int((p >= at_risk_from).sum())
    assert table["churn_probability"].is_monotonic_decreasing
    assert set(table["customer_id"]) <= set(seniors["customer_id"])
    assert page.get("download_button")
