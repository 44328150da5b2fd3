"""churn_core: all logic of the Multi-Telecom retention studio; never imports Streamlit.

Subpackages, one per concern:

- :mod:`churn_core.data` — schema, validation, customers, the DuckDB / BigQuery warehouse;
- :mod:`churn_core.analytics` — EDA, survival, revenue and CLV, segments, offer simulation;
- :mod:`churn_core.prediction` — features, models, the churn ensemble, SHAP, scoring;
- :mod:`churn_core.geo` — geocoding, Seoul store and learning-centre locations, the map;
- :mod:`churn_core.outreach` — 정보통신망법 rules, contact book, campaigns and channels.

Cross-cutting modules: :mod:`churn_core.config` (settings and paths), :mod:`churn_core.i18n`
(the message catalog), :mod:`churn_core.charts` (every figure the app shows),
:mod:`churn_core.auth` (staff accounts and roles), :mod:`churn_core.escaping` (values from data
or users escaped for HTML, JavaScript and CSV), :mod:`churn_core.logs` (one JSON, redacted log
setup for the app, the API and the commands), :mod:`churn_core.studio` (how the parts are put
together) and :mod:`churn_core.cli` (the ``churn-studio`` command).
"""

__all__ = [
    "analytics", "auth", "charts", "cli", "config", "data", "escaping",
    "geo", "i18n", "logs", "outreach", "prediction", "studio",
]  # fmt: skip
