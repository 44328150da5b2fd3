"""Widgets used on more than one page: sidebar filters, offer economics, downloads, notes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from churn_core.analytics import eda
from churn_core.config import get_settings
from churn_core.data.loading import TENURE_MAX_MONTHS, DataValidationError
from churn_core.escaping import csv_bytes
from churn_core.formatting import segment_name
from churn_core.i18n import value_label
from ui.data import (
    customer_columns,
    customer_count,
    customer_sample,
    data_schema,
    missing_columns,
    segment_ids,
    segment_traits,
)
from ui.navigation import lang, relabel, tr

_FILTER_WIDGETS = (
    ("age_groups", "age_group", "filters.age_group"),
    ("genders", "gender", "filters.gender"),
    ("contracts", "contract", "filters.contract"),
    ("internet_services", "internet_service", "filters.internet_service"),
    ("payment_methods", "payment_method", "filters.payment_method"),
    ("offers", "offer", "filters.offer"),
)


def _reset_filters(only_missing: bool = False) -> None:
    defaults = {f"f_{field}": [] for field, _, _ in _FILTER_WIDGETS}
    defaults |= {"f_senior_only": False, "f_tenure": (0, TENURE_MAX_MONTHS), "f_segments": []}
    for key, value in defaults.items():
        if not only_missing or key not in st.session_state:
            st.session_state[key] = value


def filter_sidebar() -> eda.EdaFilters:
    """Render the EDA filters in the sidebar and return them (empty selection = all)."""
    lg = lang()
    sb = st.sidebar
    _reset_filters(only_missing=True)
    sb.header(tr("filters.header"))
    values: dict[str, Any] = {}
    senior_only = sb.checkbox(tr("filters.senior_only"), key="f_senior_only")
    have = set(customer_columns())
    for field, column, label in _FILTER_WIDGETS:
        if column not in have:  # a classic-schema warehouse has no age group or offer: no such filter
            continue
        values[field] = sb.multiselect(
            tr(label), eda.allowed_values(column), key=relabel(f"f_{field}"),
            format_func=lambda v: value_label(v, lg), placeholder=tr("filters.all"),
        )  # fmt: skip
    traits = segment_traits()  # the segments page's descriptive names (cached per data version)
    segments = sb.multiselect(
        tr("filters.segment"), segment_ids(), key=relabel("f_segments"), placeholder=tr("filters.all"),
        format_func=lambda s: segment_name(s, traits[s], lg) if traits.get(s) else tr("filters.segment_n", n=s),
    )  # fmt: skip
    low, high = sb.slider(tr("filters.tenure"), 0, TENURE_MAX_MONTHS, key="f_tenure")
    sb.button(tr("filters.reset"), on_click=_reset_filters)
    return eda.EdaFilters.from_widgets(senior_only, low, high, tuple(segments), values)


def requires_columns(*columns: str) -> bool:
    """True when the warehouse has every one of ``columns``; otherwise say which are missing and return False.

    A view that needs extended IBM columns (``age_group``, ``offer``, ``cltv`` …) calls it first, so
    that on a warehouse built from a classic Kaggle file it explains why it is not shown instead of failing.
    """
    missing = missing_columns(*columns)
    if missing:
        st.info(tr("schema.not_shown", columns=", ".join(missing)), icon=":material/table_chart:")
    return not missing


def schema_note() -> None:
    """On a warehouse built from a classic Kaggle file, say so once at the top of the page."""
    if data_schema() == "classic":
        st.info(tr("schema.classic_note"), icon=":material/dataset:")


#: Session-state key of the offer economics last set on any page (a plain value: it outlives the widgets).
ECONOMICS_KEY = "economics"


def scoring_report(report: dict) -> None:
    """Say which model scored an uploaded file (by its schema) and which label/leakage columns were ignored.

    Parameters
    ----------
    report : dict
        From the batch upload (:mod:`ui.uploads`): ``schema``, ``model`` (name, schema, version), ``ignored``
        and, optionally, ``n_columns`` (the file's column count, said instead of the schema's).
    """
    from churn_core.escaping import markdown_text
    from churn_core.formatting import to_kst

    model = report["model"]
    version = to_kst([model["version"]]).iloc[0] or str(model["version"])  # a training time: shown in KST
    n_columns = report.get("n_columns")  # the file's own column count (20 for a classic file without Churn)
    schema = tr(f"schema.{report['schema']}_file", n=n_columns) if n_columns else tr(f"schema.{report['schema']}")
    st.caption(
        tr(
            "score.model_used",
            schema=schema,
            name=markdown_text(model["name"]),
            version=markdown_text(version),
        )
    )
    if report["ignored"]:
        st.caption(tr("score.ignored_columns", columns=", ".join(markdown_text(c) for c in report["ignored"])))


def economics_sidebar():
    """Sidebar inputs of the retention-offer economics (USD); returns an Economics.

    The values hold for the whole session, on every page that shows these inputs:
    Streamlit drops a widget's state on a page that does not draw it, so the last
    values are also kept under :data:`ECONOMICS_KEY` and start the inputs when a page
    draws them anew (the settings' defaults before anything was set).
    """
    from churn_core.prediction.business import Economics

    kept = st.session_state.get(ECONOMICS_KEY) or Economics.from_settings()
    sb = st.sidebar
    sb.header(tr("model.economics"))
    cost = sb.number_input(tr("model.offer_cost"), 0.0, 1000.0, kept.offer_cost_usd, 5.0, key="econ_cost")
    success = sb.slider(tr("model.success_rate"), 0.05, 1.0, kept.success_rate, 0.05, key="econ_success")
    months = sb.slider(tr("model.value_months"), 1, 60, int(kept.value_months), key="econ_months")
    economics = Economics(offer_cost_usd=cost, success_rate=success, value_months=months)
    st.session_state[ECONOMICS_KEY] = economics
    return economics


def download_csv(df: pd.DataFrame) -> bytes:
    """A table as a CSV download: UTF-8 with a byte-order mark, formula-like cells neutralised.

    See :func:`churn_core.escaping.csv_bytes` (OWASP CSV injection).
    """
    return csv_bytes(df)


def download_button(
    label: str,
    data: pd.DataFrame | Callable[[], pd.DataFrame],
    file_name: str,
    permission: str | None = "download_customers",
    key: str | None = None,
) -> bool:
    """A CSV download button shown only to a role with ``permission``; otherwise a short note.

    Parameters
    ----------
    label : str
        The button's text.
    data : DataFrame or callable returning one
        The rows to download (:func:`download_csv` format); a callable is called only when
        the button is shown, so nothing is queried for a role that may not download.
    file_name : str
        Name of the downloaded file.
    permission : str or None, default "download_customers"
        Permission of :data:`churn_core.auth.ROLE_PERMISSIONS` the signed-in role needs;
        None for files without customer data (anyone may download them).
    key : str, optional
        Widget key.

    Returns
    -------
    bool
        True if the button was shown.
    """
    from ui.auth import allowed, role_names

    if not allowed(permission):
        st.caption(tr("auth.download_needs_role", roles=role_names(permission or "")))
        return False
    df = data() if callable(data) else data
    st.download_button(label, download_csv(df), file_name=file_name, mime="text/csv", key=key)
    return True


def upload_help() -> str:
    """Help text of a ``file_uploader``: the size and row limits of one upload (:func:`ui.data.upload_limits`)."""
    from churn_core.i18n import fmt_int
    from ui.data import upload_limits

    max_mb, max_rows = upload_limits()
    return tr("upload.limits", mb=fmt_int(max_mb), rows=fmt_int(max_rows))


def upload_limit_text(exc) -> str:
    """The message of an :class:`~churn_core.data.uploads.UploadLimitError`: the limit and the file's size or rows."""
    from churn_core.data.uploads import MB
    from churn_core.i18n import fmt_int

    if exc.kind == "size":
        return tr("upload.too_large", size=f"{exc.actual / MB:,.1f}", mb=fmt_int(exc.limit // MB))
    return tr("upload.too_many_rows", rows=fmt_int(exc.actual), limit=fmt_int(exc.limit))


def sample_page_intro(title_key: str) -> pd.DataFrame:
    """Title, the public-sample data note and the sample note of a page that fits models; returns the sample."""
    st.title(tr(title_key))
    st.info(tr("app.data_note"), icon=":material/info:")
    customers = customer_sample()
    sample_note()
    return customers


def sample_note() -> None:
    """Say so on the page when models and plots use a sample rather than every customer."""
    total = customer_count()
    n = min(total, get_settings().max_fit_rows)
    if n < total:
        st.caption(tr("app.sample_note", n=f"{n:,}", total=f"{total:,}"))


def template_label(template_id: str) -> str:
    """A message template's name in the UI language: shipped ones from the catalog (``tpl.<id>``),
    edited ones by their content-derived id (``custom-<hash>``)."""
    from churn_core.i18n import catalog

    if f"tpl.{template_id}" in catalog():
        return tr(f"tpl.{template_id}")
    return tr("tpl.custom", id=template_id)


def map_labels() -> dict[str, str]:
    """UI text used inside the map (layers, legend, popups) in the current language."""
    from churn_core.geo.geocoding import PRECISIONS
    from churn_core.geo.maps import LAYERS

    keys = ("legend", "detail", "me", "nearest", "boundaries", "locate", "base_layer")
    labels = {k: tr(f"map.{k}") for k in keys}
    labels |= {f"precision_{p}": tr(f"map.precision_{p}") for p in PRECISIONS}
    labels |= {f"layer.{layer.key}": tr(f"map.layer.{layer.key}") for layer in LAYERS}
    return labels


def contacts_from_upload(upload):
    """An uploaded contact book read, its columns matched, then validated once.

    As the scoring upload (:mod:`ui.uploads`): size and row limits first, a caption of the
    detected format (encoding and separator, or the Excel sheet), a sheet picker for a workbook
    with several sheets, and the mapping step when required headers are missing (the best match
    preselected; the mapping can be saved for files with the same headers, purpose ``"contacts"``).

    Returns
    -------
    churn_core.outreach.contacts.ContactImport or None
        None when the file is refused (the error is shown, naming the limit or the problems) or
        while the mapping step waits for the user.
    """
    from churn_core.data.schema import CONTACT_COLUMN_ALIASES
    from churn_core.outreach.contacts import CSV_COLUMNS, REQUIRED, validate_contacts
    from ui.data import once_per_upload
    from ui.uploads import CONTACTS_PURPOSE, column_step, read_upload

    data = upload.getvalue()
    refused = tr("upload.contacts_refused", detail="")
    table = read_upload(upload.name, data, slot="contacts", refused=refused)
    if table is None:
        return None
    match = column_step(
        table, lambda _matched: REQUIRED, slot="contacts", wanted=list(CSV_COLUMNS),
        aliases=CONTACT_COLUMN_ALIASES, purpose=CONTACTS_PURPOSE,
    )  # fmt: skip
    if match is None:
        return None

    def validate():
        known = set(customer_sample(columns=("customer_id",))["customer_id"])
        return validate_contacts(data, known, source=upload.name, sheet=table.sheet, saved=match.mapping)

    try:
        return once_per_upload("contacts", data, validate, str(table.sheet), repr(sorted(match.mapping.items())))
    except DataValidationError as exc:  # unreadable (encoding, CSV, workbook): the translated problems
        from ui.tables import show_problems

        st.error(refused)
        show_problems(exc.problems)
        return None
    except ValueError as exc:  # required headers missing (named in the message)
        from churn_core.escaping import markdown_text

        st.error(tr("upload.contacts_refused", detail=markdown_text(str(exc))))
        return None


def percent_slider(container, label: str, default: float, max_percent: int, key: str, min_percent: int = 0) -> float:
    """A slider in whole percent whose default is a library default (a fraction); returns a fraction."""
    return container.slider(label, min_percent, max_percent, round(100 * default), key=key) / 100
