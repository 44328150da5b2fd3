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
        "features": ["FEATURE_SETS", "LeakageError", "MODEL_FEATURES", "check_no_leakage", "feature_frame"],
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
            "ProfitView",
            "card_metric",
            "confusion",
            "cumulative_gain",
            "pr_points",
            "profit_view",
            "reliability",
            "roc_points",
        ],
        "explain": ["EnsembleExplainer", "top_drivers"],
        "training": [
            "Bundle",
            "LEADERBOARD_FILE",
            "MODEL_FILE",
            "ModelFileError",
            "OOF_FILE",
            "UntrustedModelError",
            "artifacts_exist",
            "bundle_dir",
            "load_bundle",
            "load_schema_bundle",
            "model_label",
            "train",
            "write_manifest",
        ],
        "scoring": [
            "PreparedFile",
            "SCORING_COLUMNS_BY_SCHEMA",
            "WHAT_IF_DERIVED",
            "WHAT_IF_FEATURES",
            "WHAT_IF_MAX_MONTHLY_USD",
            "codes",
            "prepare_csv",
            "prepare_file",
            "prepare_for_scoring",
            "score_and_explain",
            "score_csv",
            "score_csv_chunks",
            "score_frame",
            "score_one",
            "score_prepared",
            "what_if_options",
            "what_if_totals",
        ],
        "batch": ["latest_run", "score_warehouse"],
        "business": [
            "AT_RISK_TIERS",
            "Economics",
            "RISK_TIERS",
            "profit_curve",
            "recommend",
            "risk_score",
            "risk_tier",
        ],
        "at_risk": ["at_risk_seniors", "at_risk_seniors_from_scores", "at_risk_seniors_in_warehouse"],
    },
)
