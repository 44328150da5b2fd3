"""AppTest of the EDA page: every filter changes the numbers shown, as pandas says it should."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from churn_core.analytics.eda import EdaFilters
from churn_core.i18n import fmt_int, fmt_pct
from tests.helpers.apptest import LAZY_TABS, open_page, open_tab, role_user, sign_in
from tests.helpers.reference import reference_filter

pytestmark = pytest.mark.app

TAB_CHARTS = LAZY_TABS["eda"].charts  # charts drawn by each (lazy) tab of the page


@pytest.fixture
def page() -> AppTest:
    return open_page("pages/eda.py")


def _open(at: AppTest, name: str) -> AppTest:
    return open_tab(at, "eda_tab", "eda", name)


def _summary(at: AppTest) -> str:
    return next(m.value for m in at.markdown if "선택된 고객" in m.value or "customers selected" in m.value)


def _expected(customers: pd.DataFrame, f: EdaFilters) -> str:
    sub = reference_filter(customers, f)
    n, k, rate = fmt_int(len(sub)), fmt_int(sub["churn_flag"].sum()), fmt_pct(sub["churn_flag"].mean())
    return f"선택된 고객 {n}명 · 이탈 {k}명 · 이탈률 {rate}"


def test_default_view_shows_everyone(page: AppTest) -> None:
    assert _summary(page) == "선택된 고객 7,043명 · 이탈 1,869명 · 이탈률 26.5%"
    assert len(page.tabs) == 7
    assert len(page.get("plotly_chart")) == TAB_CHARTS["features"]
    assert not page.error and not page.warning


def test_table_tab_has_rows_and_a_full_download(page: AppTest) -> None:
    _open(sign_in(page, role_user("analyst")), "table")  # customer rows: a role that may read and download them
    table = page.dataframe[0].value
    assert len(table) == 1000 and table["customer_id"].is_monotonic_increasing
    download = page.get("download_button")[0]
    assert "CSV" in download.proto.label
    assert any("7,043" in c.value for c in page.caption)


@pytest.mark.parametrize(
    ("key", "values", "filters"),
    [
        ("f_age_groups", ["65-69", "70-79"], EdaFilters(age_groups=("65-69", "70-79"))),
        ("f_genders", ["Female"], EdaFilters(genders=("Female",))),
        ("f_contracts", ["Month-to-month"], EdaFilters(contracts=("Month-to-month",))),
        ("f_internet_services", ["Fiber optic", "DSL"], EdaFilters(internet_services=("Fiber optic", "DSL"))),
        ("f_payment_methods", ["Electronic check"], EdaFilters(payment_methods=("Electronic check",))),
        ("f_offers", ["Offer E"], EdaFilters(offers=("Offer E",))),
    ],
)
def test_each_multiselect_filter(page: AppTest, customers, key, values, filters) -> None:
    page.multiselect(key=key).set_value(values).run()
    assert not page.exception
    assert _summary(page) == _expected(customers, filters)
    assert len(page.get("plotly_chart")) == TAB_CHARTS["features"]


def test_senior_only_filter(page: AppTest) -> None:
    page.checkbox(key="f_senior_only").check().run()
    assert _summary(page) == "선택된 고객 1,142명 · 이탈 476명 · 이탈률 41.7%"
    _open(page, "seniors")
    # Only seniors are selected: the comparison panel says so instead of failing.
    assert any("시니어와 그 외 고객이 모두" in i.value for i in page.info)


def test_tenure_slider(page: AppTest, customers) -> None:
    page.slider(key="f_tenure").set_value((1, 12)).run()
    assert _summary(page) == _expected(customers, EdaFilters(tenure_min=1, tenure_max=12))


def test_filters_combine(page: AppTest, customers) -> None:
    page.checkbox(key="f_senior_only").check()
    page.multiselect(key="f_contracts").set_value(["Month-to-month"])
    page.slider(key="f_tenure").set_value((0, 24)).run()
    expected = EdaFilters(senior_only=True, contracts=("Month-to-month",), tenure_min=0, tenure_max=24)
    assert _summary(page) == _expected(customers, expected)


def test_empty_selection_shows_a_message_not_an_exception(page: AppTest) -> None:
    page.checkbox(key="f_senior_only").check()
    page.multiselect(key="f_age_groups").set_value(["<30"]).run()
    assert not page.exception
    assert page.warning and "해당하는 고객이 없습니다" in page.warning[0].value
    assert not page.get("plotly_chart")


def test_reset_button_restores_everyone(page: AppTest) -> None:
    page.checkbox(key="f_senior_only").check()
    page.multiselect(key="f_offers").set_value(["Offer A"]).run()
    reset = next(b for b in page.button if b.label == "필터 초기화")
    reset.click().run()
    assert _summary(page) == "선택된 고객 7,043명 · 이탈 1,869명 · 이탈률 26.5%"


@pytest.mark.parametrize(
    ("tab", "key", "value"),
    [("features", "eda_feature", "payment_method"), ("distributions", "eda_numeric", "monthly_charges"),
     ("seniors", "eda_senior_feature", "tech_support")],
)  # fmt: skip
def test_chart_selectors(page: AppTest, tab: str, key: str, value: str) -> None:
    _open(page, tab)
    page.selectbox(key=key).select(value).run()
    assert not page.exception
    assert len(page.get("plotly_chart")) == TAB_CHARTS[tab]


def test_histogram_counts_or_shares(page: AppTest) -> None:
    _open(page, "distributions")
    page.toggle(key="eda_normalize").set_value(False).run()
    assert not page.exception
    assert len(page.get("plotly_chart")) == 1


def test_english(page: AppTest) -> None:
    page.session_state["lang"] = "en"
    page.run()
    assert page.title[0].value == "Exploratory analysis: who churns, and why"
    assert _summary(page) == "7,043 customers selected · 1,869 churned · churn rate 26.5%"


def test_feature_chart_plots_the_real_rates(page: AppTest, customers) -> None:
    page.selectbox(key="eda_feature").set_value("contract").run()  # the picker opens on the top-ranked feature
    spec = json.loads(page.get("plotly_chart")[1].proto.spec)  # the feature chart (contract)
    bars = spec["data"][0]
    expected = customers.groupby("contract")["churn_flag"].mean()
    assert bars["x"] == ["월 단위", "1년 약정", "2년 약정"]
    y = bars["y"]["bdata"] if isinstance(bars["y"], dict) else bars["y"]
    if isinstance(y, str):  # plotly's typed-array encoding
        y = np.frombuffer(base64.b64decode(y), dtype=bars["y"]["dtype"]).tolist()
    assert y == pytest.approx(expected[["Month-to-month", "One year", "Two year"]].tolist())
