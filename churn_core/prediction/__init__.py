"""Churn prediction: features, candidate models, the tuned ensemble, explanations, scoring.

Leakage-checked features (:mod:`~churn_core.prediction.features`), metrics
(:mod:`~churn_core.prediction.metrics`), the candidate grid and cross-validation
(:mod:`~churn_core.prediction.model_selection`), the calibrated :class:`ChurnEnsemble`
(:mod:`~churn_core.prediction.ensemble`), SHAP explanations (:mod:`~churn_core.prediction.explain`),
evaluation curves (:mod:`~churn_core.prediction.evaluation`), training and artifacts
(:mod:`~churn_core.prediction.training`), scoring files and customers
(:mod:`~churn_core.prediction.scoring`), batch scoring of the warehouse
(:mod:`~churn_core.prediction.batch`), the offer economics and risk tiers
(:mod:`~churn_core.prediction.business`) and the at-risk seniors list
(:mod:`~churn_core.prediction.at_risk`).
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submodules=[
        "at_risk",
        "batch",
        "business",
        "ensemble",
        "evaluation",
        "explain",
        "features",
        "metrics",
        "model_selection",
        "scoring",
        "training",
    ],
    submod_attrs={
        "features": ["MODEL_FEATURES", "FEATURE_SETS", "feature_frame", "check_no_leakage", "LeakageError"],
        "metrics": ["METRICS", "churn_metrics", "top_decile_lift"],
        "model_selection": [
            "Candidate",
            "candidate_grid",
            "cross_validate",
            "cv_splits",
            "leaderboard",
            "leaderboard_display",
        ],
        "ensemble": ["ChurnEnsemble"],
        "evaluation": [
            "roc_points",
            "pr_points",
            "reliability",
            "cumulative_gain",
            "confusion",
            "ProfitView",
            "profit_view",
            "card_metric",
        ],
        "explain": ["EnsembleExplainer", "top_drivers"],
        "training": ["Bundle", "load_bundle", "train", "artifacts_exist", "MODEL_FILE"],
        "scoring": [
            "score_one",
            "score_csv",
            "WHAT_IF_FEATURES",
            "what_if_options",
            "score_frame",
            "score_and_explain",
            "score_csv_chunks",
            "prepare_for_scoring",
        ],
        "batch": ["score_warehouse", "latest_run"],
        "business": [
            "Economics",
            "RISK_TIERS",
            "AT_RISK_TIERS",
            "risk_tier",
            "risk_score",
            "recommend",
            "profit_curve",
        ],
        "at_risk": ["at_risk_seniors", "at_risk_seniors_from_scores", "at_risk_seniors_in_warehouse"],
    },
)
