"""Model health: scoring runs logged with summaries, data drift (PSI), realised performance, alerts.

Every scoring run (``churn-studio score``, the app's batch upload, the API) is logged in the
``scoring_runs`` table with a summary of each feature and of the scores, without personal data
(:mod:`~churn_core.monitoring.runs`). Drift is the population stability index of each feature
between the champion's training data and each run or snapshot (:mod:`~churn_core.monitoring.drift`).
Once outcomes arrive, realised ROC-AUC, PR-AUC, lift, Brier score and calibration per snapshot
get bootstrap confidence intervals (:mod:`~churn_core.monitoring.performance`). Thresholds are
settings; breaches become alerts (:mod:`~churn_core.monitoring.health`), shown with the figures of
:mod:`~churn_core.monitoring.charts` on the Model health page and on Home.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submodules=["charts", "drift", "health", "performance", "runs"],
    submod_attrs={
        "runs": [
            "QUANTILES",
            "RunBuffer",
            "RunSummary",
            "SCORE_EDGES",
            "SOURCES",
            "feature_kinds",
            "has_scoring_run",
            "log_scoring_run",
            "model_version_of",
            "new_run_id",
            "run_bins",
            "scoring_runs",
            "write_run",
        ],
        "drift": [
            "EPSILON",
            "bins_of",
            "frame_drift",
            "psi",
            "reference_bins",
            "reference_dates",
            "reference_frame",
            "runs_drift",
            "snapshot_drift",
            "snapshot_features",
            "snapshot_list",
            "status",
            "summary_drift",
            "view",
        ],
        "performance": [
            "METRIC_NAMES",
            "calibration_table",
            "card_cv_metrics",
            "expected_calibration_error",
            "latest_snapshot_run",
            "outcome_dates",
            "performance_table",
            "realised_metrics",
            "realised_performance",
            "scored_outcomes",
        ],
        "health": [
            "ALERTS_RESULT",
            "Alert",
            "alerts_key",
            "health_alerts",
            "latest_alerts",
            "monitoring_version",
            "store_latest_alerts",
            "stored_latest_alerts",
        ],
        "charts": ["calibration_figure", "drift_bars", "realised_metric_figure", "score_distribution_figure"],
    },
)
