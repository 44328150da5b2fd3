"""Tables as users read them: translated values and headers, the same in a table and its download.

Thin Streamlit glue over :mod:`churn_core.formatting` (which turns codes into catalog text).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from churn_core.formatting import (
    PERCENT_FORMAT,
    column_labels,
    ledger_table,
    problems_table,
    scored_table,
    with_labels,
)
from churn_core.i18n import feature_label, fmt_usd
from ui.navigation import lang, tr
from ui.widgets import download_button

#: Columns of score tables holding probabilities (fractions), shown as percentages.
_PROBABILITY_COLUMNS: tuple[str, ...] = ("churn_probability",)
#: Columns of score tables in US dollars.
_USD_COLUMNS: tuple[str, ...] = ("expected_profit_usd", "monthly_charges", "clv_usd", "revenue_at_risk_12m_usd")


def _score_config(columns) -> dict:
    labels = column_labels(columns, lang())
    config: dict = dict(labels)
    for c in _PROBABILITY_COLUMNS:
        if c in labels:
            config[c] = st.column_config.NumberColumn(labels[c], format=PERCENT_FORMAT)
    for c in _USD_COLUMNS:
        if c in labels:
            config[c] = st.column_config.NumberColumn(labels[c], format="dollar")
    return config


def show_problems(problems: pd.DataFrame) -> None:
    """The problems of a :class:`~churn_core.data.loading.DataValidationError`, translated."""
    lg = lang()
    table = problems_table(problems, lg)
    st.dataframe(table, hide_index=True, column_config=column_labels(table.columns, lg, "problem_"))


def show_scores(scored: pd.DataFrame, download_label: str, file_name: str, rows: int | None = None) -> None:
    """A score table (batch results, at-risk list) with translated tiers, drivers, actions and
    headers, and its download with the same headers and values (all rows).

    Parameters
    ----------
    scored : pandas.DataFrame
        :func:`churn_core.prediction.scoring.score_frame` rows (with drivers and actions or not).
    download_label, file_name : str
        The download button's text and file name.
    rows : int, optional
        Rows shown on the page (the download has every row).
    """
    lg = lang()
    shown = scored_table(scored, lg)
    table = shown if rows is None else shown.head(rows)
    pct = {c: table[c] * 100 for c in _PROBABILITY_COLUMNS if c in table}
    st.dataframe(table.assign(**pct), hide_index=True, column_config=_score_config(table.columns))
    download_button(download_label, lambda: with_labels(shown, lg), file_name)


def show_ledger(ledger: pd.DataFrame, download_label: str, file_name: str, key: str | None = None) -> None:
    """The outreach ledger: statuses, channels and reasons translated, times in KST; its
    download reads the same."""
    lg = lang()
    shown = ledger_table(ledger, lg)
    st.dataframe(shown, hide_index=True, column_config=column_labels(shown.columns, lg))
    download_button(download_label, lambda: with_labels(shown, lg), file_name, key=key)


def derived_note(customer: pd.Series, derived: tuple[str, ...]) -> None:
    """Say which what-if values are derived from tenure and monthly charges, with their values."""
    lg = lang()
    shown = [f"{feature_label(f, lg)} {fmt_usd(float(customer[f]))}" for f in derived if f in customer.index]
    if shown:
        st.caption(tr("score.derived_note", derived=", ".join(shown)))
