"""Library functions that took over what the pages used to compute (issue: no logic in pages)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_core.analytics.eda import EdaFilters
from churn_core.data.loading import AGE_GROUPS, SENIOR_AGE, SENIOR_AGE_GROUPS, TENURE_MAX_MONTHS
from churn_core.data.schema import COLUMN_BY_NAME
from churn_core.outreach import compliance
from churn_core.prediction import evaluation
from churn_core.prediction.business import AT_RISK_TIERS, Economics
from churn_core.prediction.scoring import WHAT_IF_FEATURES, what_if_options

pytestmark = pytest.mark.unit


def test_outreach_age_groups_are_exactly_the_senior_ones() -> None:
    lower = {g: int(g.rstrip("+").split("-")[0]) for g in AGE_GROUPS if g[0].isdigit()}
    assert set(SENIOR_AGE_GROUPS) == {g for g, low in lower.items() if low >= SENIOR_AGE}
    assert "60-64" not in SENIOR_AGE_GROUPS  # a 65+ audience never offers an always-empty group


@pytest.mark.parametrize("feature", WHAT_IF_FEATURES)
def test_what_if_options_come_from_the_schema(feature) -> None:
    options = what_if_options(feature)
    assert set(options) == set(COLUMN_BY_NAME[feature].allowed)
    if "No internet service" in options:
        assert options[-1] == "No internet service" and options[:2] == ("No", "Yes")


def test_filters_from_widgets_open_the_top_of_the_tenure_slider() -> None:
    top = EdaFilters.from_widgets(True, 3, TENURE_MAX_MONTHS, (1,), {"contracts": ["Two year"]})
    assert top.tenure_max == EdaFilters().tenure_max > TENURE_MAX_MONTHS  # "72 or more"
    assert (top.tenure_min, top.senior_only, top.segments, top.contracts) == (3, True, (1,), ("Two year",))
    assert EdaFilters.from_widgets(False, 0, 24, (), {}).tenure_max == 24


def test_plan_template_ids(tmp_path) -> None:
    base = compliance.DEFAULT_TEMPLATES[compliance.template_for("sms", "high")]
    assert compliance.template_id_for_plan(compliance.AUTO_TEMPLATE, None, None, tmp_path) is None
    assert compliance.template_id_for_plan(base.template_id, base, base, tmp_path) == base.template_id
    edited = compliance.Template(base.template_id, "sms", base.body + "\n추가 안내", base.subject)
    saved = compliance.template_id_for_plan(base.template_id, base, edited, tmp_path)
    assert saved != base.template_id and compliance.load_templates(tmp_path)[saved].body == edited.body


def test_recipient_template_follows_the_risk_tier() -> None:
    by_tier = compliance.risk_templates(compliance.DEFAULT_TEMPLATES, "sms")
    assert set(by_tier) == set(AT_RISK_TIERS)
    assert compliance.recipient_template(by_tier, "very_high") is by_tier["very_high"]
    assert compliance.recipient_template(by_tier, "medium") is by_tier["high"]


def test_profit_view_and_card_metric() -> None:
    rng = np.random.default_rng(0)
    oof = pd.DataFrame({"churn_flag": rng.integers(0, 2, 500), "proba": rng.random(500), "monthly_charges": 70.0})
    economics = Economics()
    view = evaluation.profit_view(oof, economics)
    assert view.threshold == economics.global_threshold(oof["monthly_charges"])
    assert view.best["profit_usd"] == view.curve["profit_usd"].max()
    assert int(view.confusion.to_numpy().sum()) == len(oof)
    card = {"evaluation": {"extended_features": {"all": {"roc_auc": {"mean": 0.8841, "std": 0.01}}}}}
    assert evaluation.card_metric(card, "roc_auc") == pytest.approx(0.8841)
    assert evaluation.card_metric(card, "pr_auc") is None and evaluation.card_metric({}, "roc_auc") is None


def test_codes_of_joined_score_columns() -> None:
    from churn_core.prediction.scoring import codes

    assert codes("tenure|contract") == ["tenure", "contract"] and codes("") == [] and codes("x|") == ["x"]
