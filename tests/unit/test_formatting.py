"""What users read is in their language and units: the library functions that make labels,
numbers, times and tables for the pages (issue #16)."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from churn_core import charts
from churn_core.config import RAW_CUSTOMERS_CSV
from churn_core.data.loading import PROBLEM_CODES, DataValidationError, load_customers_bytes, problem_code
from churn_core.formatting import (
    KST,
    PERCENT_FORMAT,
    column_labels,
    covariate_label,
    fmt_number,
    fmt_p_value,
    ledger_table,
    method_text,
    percent_points,
    ph_test_table,
    problems_table,
    ranked_features,
    scored_table,
    segment_name,
    to_kst,
    with_labels,
)
from churn_core.i18n import catalog, t

pytestmark = pytest.mark.unit

LANGS = ("ko", "en")


def _broken_file() -> bytes:
    """The first 20 customers of the real file with a misspelled value, an age out of range and
    a misspelled column header: three kinds of problem at known lines."""
    raw = pd.read_csv(RAW_CUSTOMERS_CSV, dtype=str, keep_default_na=False, nrows=20)
    raw.loc[2, "gender"] = "Mle"  # CSV line 4
    raw.loc[4, "Age"] = "130"  # CSV line 6
    return raw.rename(columns={"Contract": "Contrakt"}).to_csv(index=False).encode()


@pytest.fixture(scope="module")
def validation_error() -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        load_customers_bytes(_broken_file(), "broken.csv")
    return info.value


def test_problems_carry_codes_and_parameters(validation_error) -> None:
    problems = validation_error.problems
    assert {"code", "params"} <= set(problems.columns)
    missing = problems[problems["column"] == "Contract"].iloc[0]
    assert missing["code"] == "missing_column_hint" and missing["params"] == {"guess": "Contrakt"}
    assert "misspelled" in str(validation_error)  # logs and the CLI keep the English sentence


def test_every_problem_code_has_a_text_in_both_languages() -> None:
    for code in [*PROBLEM_CODES, "other"]:
        assert f"problem.{code}" in catalog(), code
    assert problem_code("value above 120") == ("above", {"limit": "120"})
    assert problem_code("something new") == ("other", {"text": "something new"})


def test_validation_reasons_are_translated(validation_error) -> None:
    # the column check fails first: reasons of the misspelled header, in each language
    ko = problems_table(validation_error.problems, "ko")
    en = problems_table(validation_error.problems, "en")
    assert list(ko["reason"]) == [t("problem.missing_column_hint", "ko", guess="Contrakt")]
    assert list(en["reason"]) == ["A required column is missing; the file has 'Contrakt': misspelled?"]
    assert column_labels(ko.columns, "ko", "problem_")["reason"] == "문제"


def test_value_problems_name_lines_and_translated_allowed_values() -> None:
    data = _broken_file().replace(b"Contrakt", b"Contract")
    with pytest.raises(DataValidationError) as info:
        load_customers_bytes(data, "broken.csv")
    ko = problems_table(info.value.problems, "ko").set_index("column")
    assert ko.loc["gender", "lines"] == "4" and "허용되지 않는 값" in ko.loc["gender", "reason"]
    assert "남성" in ko.loc["gender", "reason"]  # the allowed values in the user's language
    assert ko.loc["Age", "reason"] == "값이 120보다 큽니다." and ko.loc["Age", "lines"] == "6"
    en = problems_table(info.value.problems, "en").set_index("column")
    assert en.loc["Age", "reason"] == "Value above 120."
    assert not re.search(r"[\uac00-\ud7a3]", " ".join(en["reason"]))


def test_score_tables_translate_tiers_drivers_and_actions() -> None:
    scored = pd.DataFrame(
        {
            "customer_id": ["A", "B"],
            "churn_probability": [0.71, 0.05],
            "risk_tier": ["very_high", "low"],
            "contact": [True, False],
            "drivers_up": ["tenure|contract", ""],
            "actions": ["longer_contract|autopay", ""],
        }
    )
    ko, en = scored_table(scored, "ko"), scored_table(scored, "en")
    assert list(ko["risk_tier"]) == ["매우 높음", "낮음"] and list(en["risk_tier"]) == ["Very high", "Low"]
    assert ko.loc[0, "drivers_up"] == "가입 기간 (개월); 계약 유형" and "|" not in en.loc[0, "drivers_up"]
    assert ko.loc[0, "actions"] == f"{t('action.longer_contract', 'ko')}; {t('action.autopay', 'ko')}"
    assert list(en["contact"]) == ["Yes", "No"]
    assert ko["churn_probability"].tolist() == [0.71, 0.05]  # numbers stay numbers
    download = with_labels(ko, "ko")  # a download has the headers the table shows
    assert list(download.columns) == list(column_labels(ko.columns, "ko").values())
    assert "위험 등급" in download.columns and "risk_tier" not in download.columns


def test_ledger_statuses_translated_and_times_in_seoul() -> None:
    ledger = pd.DataFrame(
        {
            "campaign_id": ["c1", "c1"],
            "channel": ["sms", "email"],
            "status": ["recorded", "skipped"],
            "reason": [None, "no_consent"],
            "is_control": [False, True],
            "created_at": [dt.datetime(2026, 11, 23, 0, 30), dt.datetime(2026, 11, 23, 15, 0)],  # naive = UTC
        }
    )
    ko, en = ledger_table(ledger, "ko"), ledger_table(ledger, "en")
    assert list(ko["status"]) == [t("status.recorded", "ko"), t("status.skipped", "ko")]
    assert list(en["status"]) == ["Recorded (not sent)", "Skipped"]
    assert list(ko["created_at"]) == ["2026-11-23 09:30:00 KST", "2026-11-24 00:00:00 KST"]
    assert ko.loc[1, "reason"] == t("out.reason_no_consent", "ko") and ko.loc[0, "reason"] == ""
    assert column_labels(["created_at"], "en") == {"created_at": "Created (KST)"}
    aware = dt.datetime(2026, 1, 1, 12, 0, tzinfo=KST)
    assert to_kst([aware]).tolist() == ["2026-01-01 12:00:00 KST"]


def test_numbers_and_p_values() -> None:
    assert fmt_number(405967.3) == "405,967" and fmt_number(1342) == "1,342" and fmt_number(200.34, 1) == "200.3"
    assert fmt_p_value(0.0) == "p < 1e-300" and fmt_p_value(0.0123) == "p = 0.012"
    assert fmt_p_value(3.2e-7) == "p = 3.2e-07"
    shares = percent_points(pd.DataFrame({"ci_low": [0.074], "ci_high": [0.4271]}), ["ci_low", "ci_high"])
    assert PERCENT_FORMAT % shares.loc[0, "ci_low"] == "7.4%" and PERCENT_FORMAT % shares.loc[0, "ci_high"] == "42.7%"


def test_km_title_reads_p_below_not_p_equals_below() -> None:
    curves = pd.DataFrame(
        {"level": ["A", "A"], "month": [0, 1], "survival": [1.0, 0.9], "ci_low": [1.0, 0.8], "ci_high": [1.0, 0.95]}
    )
    for lang in LANGS:
        title = charts.km_figure(curves, "contract", 0.0, lang).layout.title.text
        assert "p < 1e-300" in title and "= <" not in title and "p = p" not in title


def test_schoenfeld_table_names_covariates_in_words() -> None:
    summary = pd.DataFrame(
        {"test_statistic": [100.7, 12.3], "p": [1.1e-23, 0.00045], "-log2(p)": [75.3, 11.1]},
        index=["offer_Offer D", "contract_One year"],
    )
    ko, en = ph_test_table(summary, "ko"), ph_test_table(summary, "en")
    assert list(ko.columns) == ["공변량", "검정 통계량", "p-값"] and "-log2(p)" not in en.columns
    assert ko.iloc[0, 0] == "마케팅 오퍼: 오퍼 D" and en.iloc[1, 0] == "Contract: One year"
    assert list(en.iloc[:, 2]) == ["p = 1.1e-23", "p = 4.5e-04"]
    assert covariate_label("tenure", "en") == "Tenure (months)"


def test_segment_charts_have_words_not_column_names() -> None:
    scores = pd.DataFrame({"k": [2, 3], "silhouette": [0.21, 0.22], "inertia": [41000.5, 36000.2]})
    for lang in LANGS:
        sil, elbow = charts.k_selection_figures(scores, lang)
        assert sil.layout.yaxis.title.text == t("seg.axis_silhouette", lang) != "silhouette"
        assert elbow.layout.yaxis.title.text == t("seg.axis_inertia", lang) and elbow.layout.xaxis.title.text != "k"
    proj = pd.DataFrame(
        {"pc1": [0.0, 1.0, 2.0], "pc2": [1.0, 0.0, 2.0], "segment": ["0", "1", "0"], "churned": [0, 1, 1]}
    )
    fig = charts.projection_figure(proj, "churned", "ko")
    assert fig.layout.xaxis.title.text == "주성분 1" and fig.layout.yaxis.title.text == "주성분 2"
    colors = [trace.marker.color for trace in fig.data]
    assert len(set(colors)) == 2 and None not in colors  # stayed and churned in explicit, different colours
    named = charts.projection_figure(proj, "segment", "en", {"0": "0: new · fibre", "1": "1: few services"})
    assert [trace.name for trace in named.data] == ["0: new · fibre", "1: few services"]


def test_revenue_at_risk_bar_text_has_thousands_separators() -> None:
    risk = pd.DataFrame({"level": ["Month-to-month"], "revenue_at_risk_12m_usd": [512345.6], "customers": [1342]})
    fig = charts.revenue_at_risk_bars(risk, "contract", "ko")
    assert list(fig.data[0].text) == ["1,342"]


def _all_figures(lang: str):
    levels = pd.DataFrame(
        {"level": ["Yes", "No"], "n": [100, 2000], "churned": [40, 300], "churn_rate": [0.4, 0.15],
         "ci_low": [0.3, 0.13], "ci_high": [0.5, 0.17]}
    )  # fmt: skip
    hist = pd.DataFrame({"churn_flag": [0, 1], "bin_low": [0.0, 0.0], "bin_high": [10.0, 10.0], "n": [5, 3]})
    scores = pd.DataFrame({"k": [2, 3], "silhouette": [0.21, 0.22], "inertia": [4.0, 3.0]})
    proj = pd.DataFrame({"pc1": [0.0, 1.0], "pc2": [1.0, 0.0], "segment": ["0", "1"], "churned": [0, 1]})
    return [
        charts.churn_rate_bars(levels, "partner", lang),
        charts.histogram(hist, "tenure", lang, normalize=True),
        charts.roc_figure(pd.DataFrame({"fpr": [0, 1], "tpr": [0, 1]}), 0.88, lang),
        *charts.k_selection_figures(scores, lang),
        charts.projection_figure(proj, "churned", lang),
        charts.projection_figure(proj, "segment", lang),
    ]


@pytest.mark.parametrize("lang", LANGS)
def test_plotly_toolbar_does_not_cover_titles_or_legends(lang) -> None:
    for fig in _all_figures(lang):
        title, margin = fig.layout.title, fig.layout.margin
        assert title.yref == "container" and title.yanchor == "top" and title.y == 1, title.text
        assert title.pad.t >= charts.MODEBAR_PX and margin.t > title.pad.t + fig.layout.font.size, title.text
        legend = fig.layout.legend  # never above the plot, where the toolbar appears
        assert legend.y is None or legend.y < 1 or (legend.y == 1 and legend.yanchor == "top"), title.text


def test_segment_names_from_profiles(customers) -> None:
    from churn_core.analytics.segments import Segmenter, segment_traits

    labels = Segmenter(k_values=(3,)).fit(customers).predict(customers)
    traits = segment_traits(customers, labels)
    assert traits == segment_traits(customers, labels)  # deterministic
    assert all(1 <= len(codes) <= 3 for codes in traits.values())
    assert len({tuple(codes) for codes in traits.values()}) == len(traits)  # segments read differently
    names = {s: segment_name(s, codes, "ko") for s, codes in traits.items()}
    assert all(name.startswith(f"{s}: ") for s, name in names.items())
    senior = segment_name(0, traits[min(traits)], "en", senior=True)
    assert senior.startswith("S1: ") and not senior.startswith("0")


def test_segment_traits_read_the_profile() -> None:
    from churn_core.analytics.segments import segment_traits

    rows = []
    for i in range(40):  # segment 0: young month-to-month fibre; segment 1: older two-year, no internet
        young = i < 20
        rows.append(
            {"age": 25 if young else 70, "tenure": 3 if young else 60, "monthly_charges": 90.0 if young else 25.0,
             "n_services": 5, "contract": "Month-to-month" if young else "Two year",
             "internet_service": "Fiber optic" if young else "No"}
        )  # fmt: skip
    df = pd.DataFrame(rows)
    traits = segment_traits(df, [0] * 20 + [1] * 20)
    assert traits[0] == ["young", "month_to_month", "fibre"]  # the strongest three, in reading order
    assert "older" in traits[1] and "no_internet" in traits[1]
    assert segment_name(0, traits[0], "en") == "0: young · month-to-month · fibre"


def test_model_card_method_and_leaderboard_headers_are_translated() -> None:
    import json

    from churn_core.config import get_settings
    from churn_core.formatting import metric_label

    card = json.loads((get_settings().models_dir / "model_card.json").read_text())
    assert method_text(card["evaluation"], "ko") == t("model.method_nested_cv", "ko")
    assert "nested" not in method_text(card["evaluation"], "ko")
    assert metric_label("senior_roc_auc", "ko") == "시니어 ROC-AUC" and metric_label("f1", "en") == "F1"


def test_picker_lists_features_in_the_spread_charts_order() -> None:
    spread = pd.DataFrame({"feature": ["contract", "offer"], "spread": [0.4, 0.3]})
    assert ranked_features(spread, ("gender", "offer", "contract")) == ["contract", "offer", "gender"]


def test_what_if_totals_follow_tenure_and_monthly_charges(customers) -> None:
    from churn_core.prediction.scoring import WHAT_IF_DERIVED, what_if_totals

    base = customers[(customers["tenure"] > 10) & (customers["total_long_distance_charges"] > 0)].iloc[0]
    assert what_if_totals(base, base.copy()).equals(base)  # nothing changed: nothing derived
    changed = base.copy()
    changed["tenure"], changed["monthly_charges"] = base["tenure"] * 2, base["monthly_charges"] + 10
    out = what_if_totals(base, changed)
    ratio = changed["tenure"] * changed["monthly_charges"] / (base["tenure"] * base["monthly_charges"])
    assert out["total_charges"] == pytest.approx(base["total_charges"] * ratio)
    assert out["total_long_distance_charges"] == pytest.approx(
        base["avg_monthly_long_distance_charges"] * changed["tenure"]
    )
    identity = out["total_charges"] + out["total_extra_data_charges"] + out["total_long_distance_charges"]
    assert out["total_revenue"] == pytest.approx(identity - out["total_refunds"])
    new = base.copy()
    new["tenure"] = 0
    unbilled = what_if_totals(base, new)
    assert unbilled["total_charges"] == 0 and unbilled["total_revenue"] == pytest.approx(0.0)
    assert set(WHAT_IF_DERIVED) <= set(out.index)
