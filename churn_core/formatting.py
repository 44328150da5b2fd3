"""What users read: numbers, p-values, times in Korea, and tables with translated labels.

The library keeps machine-readable codes (risk tiers ``very_high``, ``|``-joined drivers and
actions, ledger statuses, validation problem codes); this module turns them into the text of
the message catalog (:mod:`churn_core.i18n`) for one language, with thousands separators,
consistent decimals and times in Asia/Seoul. Nothing here imports Streamlit.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from churn_core.i18n import catalog, feature_label, t, value_label

#: The time zone of every time shown to users (the team works in Korea).
KST = ZoneInfo("Asia/Seoul")

#: Columns of score tables holding ``|``-joined codes: feature names or action keys.
DRIVER_COLUMNS: tuple[str, ...] = ("drivers_up", "drivers_down")
ACTION_COLUMN = "actions"
#: Separator of several translated drivers or actions in one cell.
LIST_SEPARATOR = "; "


def fmt_number(x: float | None, digits: int = 0) -> str:
    """A number with thousands separators and ``digits`` decimals (``405967.3`` -> ``"405,967"``).

    Parameters
    ----------
    x : float or None
        The number; None or NaN -> ``"–"``.
    digits : int, default 0
        Decimals shown.
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:,.{digits}f}"


def fmt_p_value(p: float) -> str:
    """A p-value as it reads in a sentence: ``"p = 0.012"``, ``"p = 3.2e-05"``, ``"p < 1e-300"``.

    Parameters
    ----------
    p : float
        The p-value in [0, 1]; 0 (underflow) and anything below 1e-300 read ``"p < 1e-300"``.
    """
    if p < 1e-300:
        return "p < 1e-300"
    return f"p = {p:.3f}" if p >= 0.001 else f"p = {p:.1e}"


def to_kst(values: Iterable) -> pd.Series:
    """Times as text in Korea Standard Time (``"2026-11-23 18:05:09 KST"``).

    Parameters
    ----------
    values : iterable of datetime-like
        Aware times in any zone, or naive ones meaning UTC (as the warehouse stores them);
        missing values stay empty strings.

    Returns
    -------
    pandas.Series of str
    """
    times = pd.to_datetime(pd.Series(list(values), dtype=object), utc=True, errors="coerce")
    local = times.dt.tz_convert(KST)
    return pd.Series([v.strftime("%Y-%m-%d %H:%M:%S KST") if pd.notna(v) else "" for v in local], dtype=object)


def column_label(column: str, lang: str = "ko", prefix: str = "") -> str:
    """The header of a table column: ``col.<prefix><column>`` in the catalog, else the feature's
    label, else the raw IBM name of a warehouse column, else the column itself."""
    entry = catalog().get(f"col.{prefix}{column}")
    if entry:
        return entry[lang]
    if f"feature.{column}" in catalog():
        return feature_label(column, lang)
    from churn_core.data.schema import COLUMN_BY_NAME

    spec = COLUMN_BY_NAME.get(column)
    return spec.raw if spec is not None else column


def column_labels(columns: Iterable[str], lang: str = "ko", prefix: str = "") -> dict[str, str]:
    """Headers of table columns by column (:func:`column_label`): the page's ``column_config``
    and the names of its download's columns, so both read the same."""
    return {str(c): column_label(str(c), lang, prefix) for c in columns}


def with_labels(df: pd.DataFrame, lang: str = "ko", prefix: str = "") -> pd.DataFrame:
    """``df`` with every column renamed by :func:`column_label` (values unchanged): a download."""
    return df.rename(columns=column_labels(df.columns, lang, prefix))


def _codes(joined: object) -> list[str]:
    return [c for c in str(joined).split("|") if c and c != "nan"]


def driver_text(joined: object, lang: str = "ko") -> str:
    """``|``-joined feature names (``"tenure|contract"``) as translated labels joined by ``"; "``."""
    return LIST_SEPARATOR.join(feature_label(f, lang) for f in _codes(joined))


def action_text(joined: object, lang: str = "ko") -> str:
    """``|``-joined action keys (``"longer_contract|autopay"``) as their catalog texts joined by ``"; "``."""
    return LIST_SEPARATOR.join(t(f"action.{a}", lang) for a in _codes(joined))


def tier_text(tier: object, lang: str = "ko") -> str:
    """A risk tier code (``"very_high"``) as its catalog text (``"매우 높음"``); unknown codes unchanged."""
    entry = catalog().get(f"tier.{tier}")
    return entry[lang] if entry else str(tier)


def scored_table(scored: pd.DataFrame, lang: str = "ko") -> pd.DataFrame:
    """A score table as users read it, on the page and in its download (the same columns).

    Risk tiers, drivers and actions become catalog texts and ``contact`` yes/no; column names
    stay (headers: :func:`column_labels`, a download: :func:`with_labels`). The codes stay in
    the warehouse ``scores`` table written by ``churn-studio score``, which is what programs read.

    Parameters
    ----------
    scored : pandas.DataFrame of shape (n_customers, n_columns)
        Output of :func:`churn_core.prediction.scoring.score_frame` (with or without
        drivers and actions) or of the at-risk list; other columns pass through.

    Returns
    -------
    pandas.DataFrame of shape (n_customers, n_columns)
        Same rows, order and columns; numbers unchanged (probabilities as fractions, USD).
    """
    out = scored.copy()
    if "risk_tier" in out:
        out["risk_tier"] = [tier_text(v, lang) for v in out["risk_tier"]]
    for col in DRIVER_COLUMNS:
        if col in out:
            out[col] = [driver_text(v, lang) for v in out[col]]
    if ACTION_COLUMN in out:
        out[ACTION_COLUMN] = [action_text(v, lang) for v in out[ACTION_COLUMN]]
    if "contact" in out:
        out["contact"] = [t("fmt.yes" if bool(v) else "fmt.no", lang) for v in out["contact"]]
    return out


def problem_text(code: str, params: Mapping[str, object] | None, lang: str = "ko") -> str:
    """The translated reason of one validation problem (``problem.<code>`` with its parameters).

    Parameters
    ----------
    code : str
        A key of :data:`churn_core.data.loading.PROBLEM_CODES` or ``"other"``.
    params : mapping or None
        The reason's values; a ``not_allowed`` list of values is shown translated.
    """
    values = dict(params or {})
    if code == "not_allowed" and "allowed" in values:
        try:
            allowed = ast.literal_eval(f"[{values['allowed']}]")
        except (ValueError, SyntaxError):
            allowed = [values["allowed"]]
        values["allowed"] = ", ".join(value_label(v, lang) for v in allowed)
    if code == "missing_column_hint" and "guess" in values:
        values["guess"] = str(values["guess"])
    key = f"problem.{code}"
    if key not in catalog():
        return str(values.get("text", code))
    return t(key, lang, **values)


def _where(column: str, lang: str) -> str:
    return t(f"problem.where_{column.strip('<>')}", lang) if column in ("<file>", "<row>") else column


def _lines(lines: object, lang: str, shown: int = 10) -> str:
    values = list(lines) if isinstance(lines, Iterable) and not isinstance(lines, str) else []
    text = ", ".join(fmt_number(v) for v in values[:shown])
    if len(values) > shown:
        text += t("problem.more_lines", lang, n=fmt_number(len(values) - shown))
    return text


def problems_table(problems: pd.DataFrame, lang: str = "ko") -> pd.DataFrame:
    """The problems of a :class:`~churn_core.data.loading.DataValidationError` as users read them.

    Parameters
    ----------
    problems : pandas.DataFrame
        ``column``, ``reason``, ``lines``, ``examples`` and (from the error) ``code``, ``params``.

    Returns
    -------
    pandas.DataFrame of shape (n_problems, 4)
        ``column`` (or "whole file" / "whole row" translated), ``reason`` (translated), ``lines``
        (``"2, 3, 4"``, at most 10 then "and N more") and ``examples``; headers from
        ``column_labels(..., prefix="problem_")``.
    """
    rows = []
    for p in problems.to_dict("records"):
        code = p.get("code")
        if not isinstance(code, str):
            from churn_core.data.loading import problem_code

            code, params = problem_code(str(p.get("reason", "")))
        else:
            params = p.get("params") or {}
        examples = p.get("examples")
        rows.append(
            {
                "column": _where(str(p.get("column", "")), lang),
                "reason": problem_text(code, params, lang),
                "lines": _lines(p.get("lines"), lang),
                "examples": ", ".join(map(str, examples)) if isinstance(examples, list) else "",
            }
        )
    return pd.DataFrame(rows, columns=["column", "reason", "lines", "examples"])


def contact_problems_table(problems: pd.DataFrame, lang: str = "ko") -> pd.DataFrame:
    """The problems of a contact import as users read them (the page's table and its download).

    Parameters
    ----------
    problems : pandas.DataFrame
        :attr:`churn_core.outreach.contacts.ContactImport.problems` (``line``, ``column``,
        ``value``, ``reason``, ``code``, ``params``).

    Returns
    -------
    pandas.DataFrame of shape (n_problems, 4)
        CSV line, column, value and the reason in ``lang`` (``contact_problem.<code>``; the
        English ``reason`` when a code is unknown), headers translated (``col.contact_problem_*``).
    """
    reasons = []
    for p in problems.to_dict("records"):
        key = f"contact_problem.{p.get('code')}"
        params = p.get("params") if isinstance(p.get("params"), dict) else {}
        reasons.append(t(key, lang, **params) if key in catalog() else str(p.get("reason", "")))
    out = problems.reindex(columns=["line", "column", "value"]).assign(reason=reasons)
    return with_labels(out, lang, prefix="contact_problem_")


def status_text(status: object, lang: str = "ko") -> str:
    """A ledger status code (``"sent"``) as its catalog text; unknown codes unchanged."""
    entry = catalog().get(f"status.{status}")
    return entry[lang] if entry else str(status)


#: Time columns of the outreach ledger (stored in UTC).
LEDGER_TIME_COLUMNS: tuple[str, ...] = ("created_at", "updated_at", "scheduled_for")


def ledger_table(ledger: pd.DataFrame, lang: str = "ko") -> pd.DataFrame:
    """The outreach ledger as users read it: statuses, channels and skip reasons translated,
    times in Korea Standard Time, translated headers (the same on the page and in its download).

    Parameters
    ----------
    ledger : pandas.DataFrame
        Rows of :func:`churn_core.outreach.campaigns.ledger` (times in UTC).

    Returns
    -------
    pandas.DataFrame
        Same rows, order and columns (headers: :func:`column_labels`).
    """
    out = ledger.copy()
    if "status" in out:
        out["status"] = [status_text(s, lang) for s in out["status"]]
    if "channel" in out:
        out["channel"] = [_catalog_or(f"out.channel_{c}", c, lang) for c in out["channel"]]
    if "reason" in out:
        out["reason"] = [
            _catalog_or(f"out.reason_{r}", r, lang) if isinstance(r, str) and r else "" for r in out["reason"]
        ]
    if "template_id" in out:  # shipped templates by name; edited ones keep their content-derived id
        out["template_id"] = [
            _catalog_or(f"tpl.{v}", v, lang) if isinstance(v, str) else "" for v in out["template_id"]
        ]
    for col in LEDGER_TIME_COLUMNS:
        if col in out:
            out[col] = to_kst(out[col]).to_numpy()
    for col in out.columns:  # a missing text (no error code, no recipient yet) reads empty, never "None"
        if out[col].dtype == object:
            out[col] = out[col].where(out[col].notna(), "")
    return out


def _catalog_or(key: str, fallback: object, lang: str) -> str:
    entry = catalog().get(key)
    return entry[lang] if entry else str(fallback)


def covariate_label(name: str, lang: str = "ko") -> str:
    """A survival-model covariate (``"offer_Offer D"``, ``"contract_One year"``, ``"tenure"``) as
    "feature: level" in ``lang`` (``"가입 혜택: Offer D"``)."""
    if name in catalog() or f"feature.{name}" in catalog():
        return feature_label(name, lang)
    feature, sep, level = name.partition("_")
    while sep:
        if f"feature.{feature}" in catalog():
            return f"{feature_label(feature, lang)}: {value_label(level, lang)}"
        head, sep, level = level.partition("_")
        feature = f"{feature}_{head}"
    return name


def ph_test_table(summary: pd.DataFrame, lang: str = "ko") -> pd.DataFrame:
    """The Schoenfeld-residual test (proportional hazards) as users read it.

    Parameters
    ----------
    summary : pandas.DataFrame
        :meth:`churn_core.analytics.survival.SurvivalModel.ph_violations`: index covariates
        (``"offer_Offer D"``), columns ``test_statistic``, ``p`` and ``-log2(p)``.

    Returns
    -------
    pandas.DataFrame of shape (n_covariates, 3)
        Translated covariate, the test statistic (2 decimals) and the p-value as text
        (:func:`fmt_p_value`); the ``-log2(p)`` column (the same information) is left out.
    """
    index = summary.index.get_level_values(0) if isinstance(summary.index, pd.MultiIndex) else summary.index
    out = pd.DataFrame(
        {
            "ph_covariate": [covariate_label(str(c), lang) for c in index],
            "ph_statistic": [fmt_number(float(v), 2) for v in summary["test_statistic"]],
            "ph_p": [fmt_p_value(float(v)) for v in summary["p"]],
        }
    )
    return with_labels(out, lang)


def number_table(df: pd.DataFrame, digits: Mapping[str, int] | None = None) -> pd.DataFrame:
    """A small summary table with every number as text: thousands separators, fixed decimals.

    Parameters
    ----------
    df : pandas.DataFrame
        Numeric columns are formatted; others pass through.
    digits : mapping of str to int, optional
        Decimals per column (default 0: USD and counts of this size read best whole).

    Returns
    -------
    pandas.DataFrame
        Same shape and column names (the page names the columns).
    """
    digits = dict(digits or {})
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_numeric_dtype(out[col]) and not pd.api.types.is_bool_dtype(out[col]):
            out[col] = [fmt_number(float(v), digits.get(col, 0)) for v in out[col]]
    return out


def segment_name(segment: int, traits: Iterable[str], lang: str = "ko", senior: bool = False) -> str:
    """A segment's descriptive name: its number and its traits (``"0: 신규 가입 · 월 단위 계약 · 광인터넷"``).

    Parameters
    ----------
    segment : int
        The cluster number (0-based, as stored); senior clusters read ``S1``, ``S2``, … (1-based).
    traits : iterable of str
        Trait codes from :func:`churn_core.analytics.segments.segment_traits` (``seg.trait.<code>``).
    senior : bool
        A cluster of the seniors-only segmentation.
    """
    text = t("seg.trait_sep", lang).join(t(f"seg.trait.{c}", lang) for c in traits)
    return (
        t("seg.senior_name", lang, n=segment + 1, traits=text)
        if senior
        else t("seg.name", lang, n=segment, traits=text)
    )


def method_text(evaluation: Mapping[str, Any], lang: str = "ko") -> str:
    """The evaluation method of a model card in ``lang`` (the card records it in English).

    Parameters
    ----------
    evaluation : mapping
        The card's ``evaluation`` with ``method`` (text written by ``churn-studio train``).

    Returns
    -------
    str
        The catalog text of the nested repeated CV the trainer runs; for a card written
        another way, a pointer to the card.
    """
    method = str(evaluation.get("method", ""))
    nested = method.startswith("nested repeated stratified 5-fold CV (3 repeats")
    return t("model.method_nested_cv" if nested else "model.method_unknown", lang)


def metric_label(name: str, lang: str = "ko") -> str:
    """Header of a leaderboard column: ``metric.<name>``, seniors' metrics prefixed, else :func:`column_label`."""
    if f"metric.{name}" in catalog():
        return t(f"metric.{name}", lang)
    if name.startswith("senior_") and f"metric.{name[7:]}" in catalog():
        return t("col.senior_metric", lang, metric=t(f"metric.{name[7:]}", lang))
    return column_label(name, lang)


#: ``st.column_config.NumberColumn`` format of a column of :func:`percent_points`: one decimal
#: everywhere ("7.4%" next to "42.7%", never "42.71%").
PERCENT_FORMAT = "%.1f%%"


def percent_points(df: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """``df`` with the fractions in ``columns`` as percentage points (0.427 -> 42.7), still numbers
    (sortable); shown with :data:`PERCENT_FORMAT`."""
    return df.assign(**{c: df[c] * 100 for c in columns if c in df})


def ranked_features(spread: pd.DataFrame, features: Iterable[str]) -> list[str]:
    """Features in the order a spread chart ranks them, then any it leaves out (too few customers).

    Parameters
    ----------
    spread : pandas.DataFrame
        :func:`churn_core.analytics.eda.feature_spread` (``feature``, largest spread first).
    features : iterable of str
        Every feature a picker may offer.
    """
    ranked = [str(f) for f in spread["feature"]]
    return ranked + [f for f in features if f not in ranked]
