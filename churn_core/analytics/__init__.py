"""Analytics for analysts: EDA in SQL, survival of tenure, revenue and CLV, segments, offer simulation.

Exploratory churn analytics pushed down to the warehouse (:mod:`~churn_core.analytics.eda`),
tenure survival models (:mod:`~churn_core.analytics.survival`), revenue identity, CLV and
revenue at risk (:mod:`~churn_core.analytics.clv`), customer segments
(:mod:`~churn_core.analytics.segments`) and the simulator of a retention offer"s effect on
revenue (:mod:`~churn_core.analytics.offer_simulation`; outreach campaigns that actually
send messages live in :mod:`churn_core.outreach`).
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submodules=["clv", "eda", "offer_simulation", "segments", "survival"],
    submod_attrs={
        "eda": [
            "EdaFilters",
            "kpis",
            "churn_by_category",
            "numeric_histograms",
            "churn_by_tenure",
            "senior_comparison",
            "churn_reasons",
            "correlations",
            "filtered_customers",
            "segment_profile",
            "add_rate_ci",
        ],
        "survival": ["SurvivalModel", "kaplan_meier", "evaluate_models"],
        "clv": ["CLVAssumptions", "customer_clv", "clv_from_survival", "revenue_identity", "revenue_at_risk_by"],
        "segments": ["Segmenter", "add_segments", "profile", "factor_loadings", "projection"],
        "offer_simulation": ["Campaign", "simulate", "break_even_reduction", "sensitivity", "audience"],
    },
)
