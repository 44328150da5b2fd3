"""The message catalog is complete in both languages and is the only source of UI text."""

from __future__ import annotations

import re
import string

import pandas as pd
import pytest

from churn_core.analytics import eda
from churn_core.config import PROJECT_ROOT
from churn_core.i18n import LANGUAGES, catalog, feature_label, fmt_pct, fmt_usd, t, value_label
from churn_core.prediction.business import RISK_TIERS, _rules
from ui import PAGES

pytestmark = pytest.mark.unit

UI_FILES = [
    PROJECT_ROOT / "Home.py",
    *sorted((PROJECT_ROOT / "pages").glob("*.py")),
    PROJECT_ROOT / "ui" / "__init__.py",
]
CODE_FILES = [*UI_FILES, *sorted((PROJECT_ROOT / "churn_core").glob("*.py"))]
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_has_both_languages_with_same_placeholders() -> None:
    for key, entry in catalog().items():
        assert set(entry) == set(LANGUAGES), key
        assert all(entry[lang].strip() for lang in LANGUAGES), key
        assert _placeholders(entry["ko"]) == _placeholders(entry["en"]), key


def test_every_key_used_in_code_exists() -> None:
    used = set()
    for path in CODE_FILES:
        used |= set(re.findall(r"""\btr?\(\s*["']([a-z_]+\.[a-z_.]+)["']""", path.read_text(encoding="utf-8")))
    # keys built at run time (f-strings in the pages)
    used |= {f"eda.tab_{n}" for n in ("features", "distributions", "tenure_age", "seniors", "reasons", "correlation")}
    used |= {"eda.tab_table"} | {f"model.tab_{n}" for n in ("leaderboard", "curves", "profit", "importance", "card")}
    used |= {f"score.tab_{n}" for n in ("single", "batch", "seniors")}
    used |= {f"clv.tab_{n}" for n in ("survival", "clv", "risk", "campaign")}
    used |= {"clv.audience_at_risk_seniors", "clv.audience_seniors"}
    used |= {"app.backend_duckdb", "app.backend_bigquery"}
    used |= {f"seg.tab_{n}" for n in ("clusters", "seniors", "factors", "map")} | {"seg.by_segment", "seg.by_churned"}
    used |= {f"clv.col_{c}" for c in ("horizon_months", "customers_without", "customers_with", "revenue_without_usd")}
    used |= {f"clv.col_{c}" for c in ("revenue_with_usd", "discount_cost_usd", "net_gain_usd")}
    used |= {f"tier.{name}" for name, _ in RISK_TIERS}
    used |= {f"metric.{m}" for m in ("roc_auc", "pr_auc", "top_decile_lift", "brier")}
    used |= {f"home.page_{key.split('.')[1]}" for _, key, _ in PAGES[1:]} | {key for _, key, _ in PAGES}
    used |= {f"action.{action.key}" for _, action in _rules(pd.Series(dtype=object))}
    assert used, "no catalog keys found: the pattern is out of date"
    missing = sorted(used - set(catalog()))
    assert not missing


def test_no_hard_coded_korean_in_ui_code() -> None:
    for path in UI_FILES:
        assert not HANGUL.search(path.read_text(encoding="utf-8")), path


def test_every_eda_feature_and_filter_value_has_a_label() -> None:
    for feature in (*eda.CATEGORICAL_FEATURES, *eda.NUMERIC_FEATURES):
        assert f"feature.{feature}" in catalog(), feature
    for column in ("contract", "internet_service", "payment_method", "gender", "offer"):
        for value in eda.allowed_values(column):
            assert value_label(value, "ko") != value or value == "DSL", (column, value)


def test_translation_and_formatting() -> None:
    assert t("home.churn_rate", "ko") == "이탈률"
    assert t("home.churn_rate", "en") == "Churn rate"
    assert t("home.group_help", "en", n="1,142") == "of 1,142 customers"
    assert feature_label("contract", "ko") == "계약 유형"
    assert value_label("Some new value", "ko") == "Some new value"
    assert fmt_pct(1869 / 7043) == "26.5%"
    assert fmt_usd(139_130.85) == "$139,131"
    with pytest.raises(KeyError):
        t("no.such.key", "ko")
