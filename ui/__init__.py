"""Streamlit glue shared by ``Home.py`` and ``pages/``; all logic lives in :mod:`churn_core`.

- :mod:`ui.navigation` — language, translation, page setup and translated navigation, lazy tabs;
- :mod:`ui.data` — the warehouse and every cached query, model and fitted analysis
  (one cache helper keyed by data version and model version);
- :mod:`ui.widgets` — sidebar filters, offer economics, downloads, notes, map labels;
- :mod:`ui.map` — the map page's "nearest to me": origin and its precision, distance bands, tables;
- :mod:`ui.auth` — sign-in and the role check of every page and download.
"""

from ui.auth import staff_role
from ui.data import (
    address_geocoder,
    at_risk_senior_scores,
    cached,
    contact_book,
    customer_count,
    customer_sample,
    explainer,
    factor_loadings,
    gu_geojson,
    model_bundle,
    model_table,
    places,
    query,
    query_customers,
    segment_ids,
    segmenters,
    survival_results,
    warehouse,
)
from ui.navigation import PAGES, lang, page_setup, page_tabs, relabel, tr
from ui.widgets import (
    download_button,
    download_csv,
    economics_sidebar,
    filter_sidebar,
    map_labels,
    sample_note,
    sample_page_intro,
)

__all__ = [
    "PAGES",
    "address_geocoder",
    "at_risk_senior_scores",
    "cached",
    "contact_book",
    "customer_count",
    "customer_sample",
    "download_button",
    "download_csv",
    "economics_sidebar",
    "explainer",
    "factor_loadings",
    "filter_sidebar",
    "gu_geojson",
    "lang",
    "map_labels",
    "model_bundle",
    "model_table",
    "page_setup",
    "page_tabs",
    "places",
    "query",
    "query_customers",
    "relabel",
    "sample_note",
    "sample_page_intro",
    "segment_ids",
    "segmenters",
    "staff_role",
    "survival_results",
    "tr",
    "warehouse",
]
