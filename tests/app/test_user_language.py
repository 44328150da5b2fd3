"""Everything a user reads is in their language and units (issue #16), walked through the pages
in Korean and English: batch results and their download, validation reasons, the what-if's
derived totals, the models page (leaderboard threshold, model card, method), segments (names,
axes, colours), revenue (Schoenfeld table, simulator numbers, p-values), EDA (CI columns, the
feature picker, table and download headers) and the outreach ledger (statuses, times in KST)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from churn_core.data.synthetic import to_raw_csv
from churn_core.formatting import PERCENT_FORMAT, column_labels, fmt_number
from churn_core.i18n import feature_label, fmt_pct, t, value_label
from churn_core.prediction.business import RISK_TIERS
from churn_core.prediction.features import feature_frame
from churn_core.prediction.scoring import what_if_totals
from churn_core.prediction.training import load_bundle
from tests.helpers.apptest import open_page, open_tab
from tests.helpers.downloads import download_frame, keep_downloads  # noqa: F401 (fixture)
from ui.navigation import LANG_KEY

pytestmark = pytest.mark.app
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _in(at: AppTest, lang: str) -> AppTest:
    at.session_state[LANG_KEY] = lang
    return at.run()


def _column_config(df_element) -> dict:
    return json.loads(df_element.proto.columns)


def _upload(at: AppTest, name: str, frame: pd.DataFrame) -> AppTest:
    data = frame.to_csv(index=False).encode()
    return at.file_uploader(key="score_upload").set_value((name, data, "text/csv")).run()


# -- scoring: batch results, validation reasons, what-if ---------------------------------------
def test_batch_results_and_download_read_in_the_users_language(customers, keep_downloads) -> None:  # noqa: F811
    at = open_page("pages/scoring.py", role="analyst")
    open_tab(at, "score_tab", "score", "batch")
    raw = to_raw_csv(customers.head(40)).drop(columns=["Churn", "churn_rate", "Satisfaction Score"])
    _upload(at, "batch.csv", raw)
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    tiers_ko = {t(f"tier.{name}", "ko") for name, _ in RISK_TIERS}
    assert set(table["risk_tier"]) <= tiers_ko
    assert not table["drivers_up"].str.contains("|", regex=False).any()
    assert table["actions"].str.contains(HANGUL).any()  # action texts, not keys like longer_contract
    config = _column_config(at.dataframe[0])
    assert config["risk_tier"]["label"] == "위험 등급" and config["drivers_up"]["label"] == "위험을 높이는 요인"
    download = download_frame(at)
    labels = column_labels(table.columns, "ko")
    assert list(download.columns) == [labels[c] for c in table.columns]  # the table's headers
    assert set(download["위험 등급"]) <= tiers_ko and "very_high" not in set(download["위험 등급"])
    assert not download["권장 조치"].str.contains("|", regex=False).any()

    _in(at, "en")
    table = at.dataframe[0].value
    assert set(table["risk_tier"]) <= {t(f"tier.{name}", "en") for name, _ in RISK_TIERS}
    assert table["actions"].str.contains(t("action.longer_contract", "en"), regex=False).any()
    assert not table["drivers_up"].str.contains(HANGUL).any()
    assert "Risk tier" in download_frame(at).columns


def test_validation_reasons_are_translated_on_the_page(customers) -> None:
    at = open_page("pages/scoring.py", role="analyst")
    open_tab(at, "score_tab", "score", "batch")
    raw = to_raw_csv(customers.head(30)).drop(columns=["Churn", "churn_rate", "Satisfaction Score"])
    raw.loc[3, "Contract"] = "Weekly"  # CSV line 5
    _upload(at, "bad.csv", raw)
    problems = next(d for d in at.dataframe if "reason" in d.value.columns)
    row = problems.value[problems.value["column"] == "Contract"].iloc[0]
    assert row["reason"].startswith("허용되지 않는 값입니다") and value_label("Month-to-month", "ko") in row["reason"]
    assert row["lines"] == "5" and _column_config(problems)["reason"]["label"] == "문제"
    _in(at, "en")
    problems = next(d for d in at.dataframe if "reason" in d.value.columns).value
    reason = problems[problems["column"] == "Contract"].iloc[0]["reason"]
    assert reason == "Value not allowed. Allowed: Month-to-month, One year, Two year"


def test_what_if_totals_follow_tenure_and_the_page_says_so(customers) -> None:
    model = load_bundle().model
    at = open_page("pages/scoring.py", role="analyst")
    customer = customers[(customers["tenure"] > 12) & ~customers["is_senior"]].iloc[0]
    cid = customer["customer_id"]
    at.selectbox(key="score_customer").select(cid).run()
    at.slider(key=f"wi_tenure_{cid}").set_value(2).run()
    assert not at.exception, at.exception
    changed = customer.copy()
    changed["tenure"] = 2
    derived = what_if_totals(customer, changed)
    note = next(c.value for c in at.caption if feature_label("total_revenue", "ko") in c.value)
    assert f"${derived['total_revenue']:,.0f}" in note and f"${derived['total_charges']:,.0f}" in note
    expected = model.predict_proba(feature_frame(pd.DataFrame([derived])))[0, 1]
    shown = next(m.value for m in at.metric if m.label == t("score.probability", "ko"))
    assert shown == fmt_pct(expected)  # scored with consistent totals, not tenure 2 with 12+ months billed


# -- models page --------------------------------------------------------------------------------
def test_leaderboard_says_its_threshold_is_not_the_sidebars() -> None:
    at = open_page("pages/models.py")
    card = load_bundle().card
    trained = fmt_number(card["operating_threshold"], 3)
    info = next(i.value for i in at.info if trained in i.value)
    assert "사이드바" in info
    at.number_input(key="econ_cost").set_value(120.0).run()
    moved = next(i.value for i in at.info if trained in i.value)  # the trained threshold stays ...
    assert moved != info  # ... and the sidebar's, which changed, is named beside it
    config = _column_config(at.dataframe[0])
    assert config["senior_roc_auc"]["label"] == "시니어 ROC-AUC"
    method = next(c.value for c in at.caption if c.value.startswith(t("model.summary_caption", "ko")[:10]))
    assert "nested repeated" not in method and t("model.method_nested_cv", "ko") in method


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_model_card_is_a_readable_card(lang) -> None:
    at = _in(open_page("pages/models.py"), lang)
    open_tab(at, "model_tab", "model", "card", lang)
    assert not at.exception, at.exception
    metrics = at.dataframe[0].value
    assert metrics.columns[0] == t("card.metric", lang)
    assert t("metric.roc_auc", lang) in set(metrics.iloc[:, 0]) and t("card.group_seniors", lang) in metrics.columns
    facts = "\n".join(m.value for m in at.markdown)
    assert t("card.threshold", lang) in facts and "KST" in facts
    assert all(j.proto.expanded is False for j in at.json)  # the raw JSON only behind an expander
    assert any(e.label == t("card.raw", lang) for e in at.expander)


# -- segments -------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_segments_have_names_and_charts_words(lang) -> None:
    at = _in(open_page("pages/segments.py", role="analyst"), lang)
    open_tab(at, "seg_tab", "seg", "clusters", lang)
    names = list(at.dataframe[0].value["segment"])
    assert [n.split(":")[0] for n in names] == [str(i) for i in range(len(names))]
    assert all(len(n.split(": ", 1)[1]) > 2 for n in names) and len(set(names)) == len(names)
    silhouette = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]
    assert silhouette["yaxis"]["title"]["text"] == t("seg.axis_silhouette", lang)
    assert silhouette["title"]["pad"]["t"] >= 30  # below the toolbar
    open_tab(at, "seg_tab", "seg", "seniors", lang)
    senior = list(at.dataframe[0].value["segment"])
    assert all(n.startswith(f"S{i + 1}: ") for i, n in enumerate(senior))  # not numbered like the overall ones
    open_tab(at, "seg_tab", "seg", "map", lang)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert [tr["name"] for tr in spec["data"]] == names  # the legend names the segments
    at.radio[0].set_value("churned").run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    colors = [tr["marker"]["color"] for tr in spec["data"]]
    assert len(set(colors)) == 2 and spec["layout"]["xaxis"]["title"]["text"] == t("seg.axis_pc1", lang)


# -- revenue ----------------------------------------------------------------------------------------
def test_revenue_tables_read_in_words_and_numbers() -> None:
    at = open_page("pages/revenue.py", role="analyst")
    open_tab(at, "clv_tab", "clv", "survival")
    ph = at.dataframe[0].value
    assert list(ph.columns) == ["공변량", "검정 통계량", "p-값"]
    assert not ph["공변량"].str.contains("_").any() and ph["p-값"].str.startswith("p ").all()
    title = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["title"]["text"]
    assert "= <" not in title
    open_tab(at, "clv_tab", "clv", "campaign")
    sim = at.dataframe[0].value
    assert sim["revenue_without_usd"].str.fullmatch(r"-?\d{1,3}(,\d{3})*").all()  # "405,967", never "405967.3"
    assert sim["customers_with"].str.fullmatch(r"[\d,]+\.\d").all()
    open_tab(at, "clv_tab", "clv", "risk")
    bars = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert any("," in text for text in bars["text"])  # customers per bar with thousands separators


# -- EDA --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_eda_ci_columns_picker_and_download_headers(lang, keep_downloads) -> None:  # noqa: F811
    at = _in(open_page("pages/eda.py", role="analyst"), lang)
    ranked = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]["y"][::-1]  # largest spread first
    shown = at.selectbox(key="eda_feature").options  # as the user reads them
    assert list(shown)[: len(ranked)] == ranked  # the picker offers the ranked features in the chart's order
    frame = next(d for d in at.dataframe if "ci_low" in d.value.columns)
    config = _column_config(frame)
    low, high = config["ci_low"], config["ci_high"]
    assert low["label"] == t("col.ci_low", lang) and not re.search("[↑↓]", low["label"] + high["label"])
    assert low["type_config"]["format"] == high["type_config"]["format"] == PERCENT_FORMAT
    assert config["churn_rate"]["type_config"]["format"] == PERCENT_FORMAT
    assert frame.value["churn_rate"].max() > 1  # percentage points for the one-decimal format
    open_tab(at, "eda_tab", "eda", "table", lang)
    table = at.dataframe[0]
    labels = {c: v["label"] for c, v in _column_config(table).items() if isinstance(v, dict) and "label" in v}
    download = download_frame(at)
    assert list(download.columns) == [labels.get(c, c) for c in table.value.columns]


# -- outreach ledger ---------------------------------------------------------------------------------
def test_ledger_statuses_in_words_and_times_in_seoul() -> None:
    from churn_core.data.tables import OUTBOX
    from churn_core.data.warehouse import open_warehouse

    wh = open_warehouse()
    created = dt.datetime(2026, 11, 23, 1, 2, 3, tzinfo=dt.UTC)
    row = {name: None for name, _ in OUTBOX.columns}
    row |= {"campaign_id": "i16-ledger", "customer_id": "0002-ORFBO", "channel": "sms", "is_control": False,
            "status": "recorded", "attempts": 1, "created_at": created, "updated_at": created}  # fmt: skip
    wh.append_rows("outbox", pd.DataFrame([row]))
    try:
        at = open_page("pages/outreach.py", role="staff")
        assert not at.exception, at.exception
        at.multiselect(key="o_led_c").set_value(["i16-ledger"]).run()
        ledger = next(d for d in at.dataframe if "status" in d.value.columns and "created_at" in d.value.columns)
        mine = ledger.value[ledger.value["campaign_id"] == "i16-ledger"]
        assert list(mine["status"]) == [t("status.recorded", "ko")]
        assert list(mine["created_at"]) == ["2026-11-23 10:02:03 KST"]
        assert _column_config(ledger)["created_at"]["label"] == "생성 시각 (KST)"
        assert t("status.recorded", "ko") in at.multiselect(key="o_led_s").options
    finally:
        wh.execute("DELETE FROM {outbox} WHERE campaign_id = @c", {"c": "i16-ledger"})
