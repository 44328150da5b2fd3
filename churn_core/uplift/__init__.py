"""Uplift: who a retention offer actually keeps, learned from campaigns with control groups.

Training data from treated and control customers of campaigns with outcomes
(:mod:`~churn_core.uplift.data`), the :class:`UpliftModel` around a causalml meta-learner with
the churn model's features (:mod:`~churn_core.uplift.model`), honest cross-validated evaluation:
Qini curve and AUUC against random targeting and highest churn risk first
(:mod:`~churn_core.uplift.evaluation`), ranking an audience by expected incremental profit
(:mod:`~churn_core.uplift.targeting`), storing the fitted model with explicitly trusted types
(:mod:`~churn_core.uplift.storage`), the steps on the warehouse (:mod:`~churn_core.uplift.workflow`)
and the ``churn-studio uplift`` commands (:mod:`~churn_core.uplift.commands`).
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submodules=["commands", "data", "evaluation", "model", "storage", "targeting", "workflow"],
    submod_attrs={
        "data": ["NoUpliftDataError", "UpliftData", "campaigns_with_outcomes", "uplift_data"],
        "model": ["UpliftModel"],
        "evaluation": ["RANKINGS", "UpliftEvaluation", "evaluate", "out_of_fold_uplift", "ranking_curves"],
        "targeting": ["RANKING_CHOICES", "TargetingOutlook", "choose_audience", "compare_rankings", "rank_by_profit"],
        "storage": [
            "ALLOWED_UPLIFT_TYPES",
            "load_uplift",
            "read_card",
            "read_evaluation",
            "save_uplift",
            "uplift_dir",
        ],
        "workflow": ["by_contract", "churn_risk", "fit_uplift", "rank_audience", "stored_model", "warehouse_features"],
        "commands": ["uplift_app"],
    },
)
