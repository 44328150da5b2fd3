"""Analytics for analysts: EDA in SQL, survival of tenure, revenue and CLV, segments, offer simulation.

Exploratory churn analytics pushed down to the warehouse (:mod:`~churn_core.analytics.eda`),
tenure survival models (:mod:`~churn_core.analytics.survival`), revenue identity, CLV and
revenue at risk (:mod:`~churn_core.analytics.clv`), customer segments
(:mod:`~churn_core.analytics.segments`) and the simulator of a retention offer's effect on
revenue (:mod:`~churn_core.analytics.offer_simulation`; outreach campaigns that actually
send messages live in :mod:`churn_core.outreach`).
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submodules=["clv", "eda", "eda_cube", "offer_simulation", "precomputed", "segments", "survival"],
    submod_attrs={
        "eda": [
            "CATEGORICAL_FEATURES",
            "EdaFilters",
            "NUMERIC_FEATURES",
            "SENIOR_COMPARISON_FEATURES",
            "add_rate_ci",
            "allowed_values",
            "churn_by_category",
            "churn_by_tenure",
            "churn_reasons",
            "correlations",
            "feature_spread",
            "filtered_customers",
            "kpis",
            "numeric_histograms",
            "segment_ids",
            "segment_profile",
            "senior_comparison",
        ],
        "eda_cube": ["Cube", "build_eda_cube", "cube_for", "drop_eda_cube"],
        "survival": [
            "KM_GROUPS",
            "SURVIVAL_NUMERIC",
            "StoredSurvival",
            "SurvivalModel",
            "evaluate_models",
            "kaplan_meier",
            "kaplan_meier_on_sample",
            "weibull_conditional_survival",
        ],
        "precomputed": [
            "FACTORS",
            "PROJECTION",
            "TRAITS",
            "build_key",
            "precompute",
            "stored_kaplan_meier",
            "stored_probabilities",
            "stored_result",
            "stored_segmenters",
            "stored_survival",
        ],
        "clv": [
            "CLVAssumptions",
            "IDENTITY_COLUMNS",
            "RISK_GROUPS",
            "clv_by_customer",
            "clv_cltv_correlation",
            "clv_from_survival",
            "clv_table",
            "customer_clv",
            "fit_on_sample",
            "identity_breaks",
            "revenue_at_risk_by",
            "revenue_identity",
        ],
        "segments": [
            "SEGMENT_TRAITS",
            "Segmenter",
            "add_segments",
            "factor_labels",
            "factor_loadings",
            "factor_loadings_on_sample",
            "fit_segmenters_on_sample",
            "profile",
            "projection",
            "projection_on_sample",
            "projection_sample",
            "segment_clv_means",
            "segment_traits",
            "segment_traits_on_sample",
            "StoredSegmenter",
        ],
        "offer_simulation": [
            "Campaign",
            "audience",
            "audience_options",
            "break_even_reduction",
            "evaluate_offer",
            "sensitivity",
            "simulate",
        ],
    },
)
