"""Survival analysis of tenure, with lifelines (CLV built on it: :mod:`churn_core.analytics.clv`).

Tenure (months) is the duration and churn the event; customers who stayed are
right-censored at their current tenure. Covariates never encode the duration itself:
``total_charges``, ``total_revenue``, ``total_long_distance_charges``,
``total_extra_data_charges`` and ``total_refunds`` grow roughly as tenure × a monthly
amount, so a model that used them would "predict" tenure from tenure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# lifelines is imported inside the functions that fit or test a model: pages read the stored
# results (:mod:`churn_core.analytics.precomputed`) and never pay for importing it.

#: Groups whose Kaplan–Meier curves the revenue page compares.
KM_GROUPS: tuple[str, ...] = ("contract", "age_group", "internet_service", "offer")

#: Columns that accumulate over tenure and so encode the duration: never covariates.
DURATION_ENCODING: tuple[str, ...] = (
    "tenure", "tenure_band", "total_charges", "total_revenue", "total_long_distance_charges",
    "total_extra_data_charges", "total_refunds",
)  # fmt: skip
SURVIVAL_CATEGORICAL: tuple[str, ...] = (
    "contract", "internet_service", "payment_method", "online_security", "tech_support", "offer",
    "paperless_billing", "partner", "dependents", "married", "streaming_tv", "streaming_movies",
    "unlimited_data", "multiple_lines", "online_backup", "device_protection",
)  # fmt: skip
SURVIVAL_NUMERIC: tuple[str, ...] = (
    "monthly_charges", "age", "number_of_referrals", "avg_monthly_gb_download",
    "avg_monthly_long_distance_charges", "n_services",
)  # fmt: skip


def kaplan_meier(customers: pd.DataFrame, group: str) -> tuple[pd.DataFrame, float]:
    """Kaplan–Meier survival curves of tenure per level of ``group``, and a log-rank test.

    Returns
    -------
    curves : pandas.DataFrame
        ``level``, ``month``, ``survival``, ``ci_low``, ``ci_high`` (95 % pointwise CI).
    p_value : float
        Multivariate log-rank test that all levels share one survival curve.
    """
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import multivariate_logrank_test

    rows = []
    for level, grp in customers.groupby(group, observed=True):
        kmf = KaplanMeierFitter().fit(grp["tenure"], grp["churn_flag"], label=str(level))
        ci = kmf.confidence_interval_survival_function_
        rows.append(
            pd.DataFrame(
                {
                    "level": str(level),
                    "month": kmf.survival_function_.index.to_numpy(),
                    "survival": kmf.survival_function_.iloc[:, 0].to_numpy(),
                    "ci_low": ci.iloc[:, 0].to_numpy(),
                    "ci_high": ci.iloc[:, 1].to_numpy(),
                }
            )
        )
    test = multivariate_logrank_test(customers["tenure"], customers[group].astype(str), customers["churn_flag"])
    return pd.concat(rows, ignore_index=True), float(test.p_value)


def kaplan_meier_on_sample(wh, sample_rows: int, group: str) -> tuple[pd.DataFrame, float]:
    """:func:`kaplan_meier` of the deterministic sample of at most ``sample_rows`` customers.

    Parameters
    ----------
    wh : churn_core.data.warehouse.Warehouse
    sample_rows : int
        See :func:`churn_core.data.customers.customer_sample`.
    group : str
        One of :data:`KM_GROUPS`.
    """
    from churn_core.data.customers import customer_sample

    return kaplan_meier(customer_sample(wh, sample_rows), group)


def design_matrix(customers: pd.DataFrame, levels: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Covariates for the survival models: one-hot categories (first level dropped), numbers.

    Parameters
    ----------
    customers : pandas.DataFrame of shape (n_customers, n_columns)
    levels : dict of str to list of str, optional
        The levels of each category seen when the model was fitted (default: those of
        ``customers``), so that a subset lacking a level gets the same columns.

    Returns
    -------
    pandas.DataFrame of shape (n_customers, n_covariates)

    Raises
    ------
    ValueError
        If ``customers`` holds a level not in ``levels`` (naming column and values).
    """
    from churn_core.prediction.features import check_no_leakage  # scikit-learn: only where a model is fitted

    check_no_leakage([*SURVIVAL_CATEGORICAL, *SURVIVAL_NUMERIC])
    assert not set(DURATION_ENCODING) & {*SURVIVAL_CATEGORICAL, *SURVIVAL_NUMERIC}
    levels = levels or category_levels(customers)
    cats = customers[list(levels)].astype(str)  # the covariates present (a classic file has fewer)
    unseen = {c: sorted(set(cats[c]) - set(levels[c])) for c in cats}
    unseen = {c: v for c, v in unseen.items() if v}
    if unseen:
        raise ValueError(f"levels not seen when the survival model was fitted: {unseen}")
    dummies = pd.get_dummies(cats.astype({c: pd.CategoricalDtype(v) for c, v in levels.items()}), drop_first=True)
    numeric = [c for c in SURVIVAL_NUMERIC if c in customers.columns]
    return dummies.astype(float).join(customers[numeric].astype(float))


def category_levels(customers: pd.DataFrame) -> dict[str, list[str]]:
    """Sorted levels of each survival category in ``customers`` (the design matrix's columns).

    Only the categories ``customers`` has: a classic-schema table (no ``offer``, ``married``,
    ``unlimited_data``) is modelled on the covariates it provides.
    """
    return {c: sorted(customers[c].astype(str).unique()) for c in SURVIVAL_CATEGORICAL if c in customers.columns}


#: lifelines' ``safe_exp`` bound: ``exp`` of larger arguments is capped there.
_SAFE_EXP_MAX = float(np.log(np.finfo(float).max) - 75)


def weibull_conditional_survival(tenure, log_lambda, rho, horizon: int = 60) -> np.ndarray:
    """``S(t + k | T > t)`` of Weibull curves for k = 1..horizon months (no model object needed).

    Computes what :meth:`SurvivalModel.conditional_survival` computes for a Weibull AFT model,
    from the per-customer parameters of :meth:`SurvivalModel.weibull_parameters`: lifelines'
    cumulative hazard ``H(t) = exp(rho (log t - log_lambda))`` (its exponent capped as
    ``safe_exp`` does), ``S = exp(-H)``, ``S(t + k) / max(S(t), 1e-12)`` clipped to [0, 1].

    Parameters
    ----------
    tenure : array-like of shape (n_customers,)
        Current tenure t (months, at least 0.5).
    log_lambda : array-like of shape (n_customers,)
        Scale of each customer's curve (log months).
    rho : float or array-like of shape (n_customers,)
        Shape of each customer's curve (one value: the same for all).
    horizon : int
        Months ahead.

    Returns
    -------
    numpy.ndarray of shape (n_customers, horizon)
        Probabilities in [0, 1].
    """
    # log(t + k) for the few distinct tenures, then one row per customer
    distinct, index = np.unique(np.asarray(tenure, dtype=float), return_inverse=True)
    log_t = np.log(np.clip(distinct[:, None] + np.arange(0, horizon + 1, dtype=float)[None, :], 1e-100, np.inf))
    rho = np.asarray(rho, dtype=float).reshape(-1, 1)
    exponent = rho * (log_t[index] - np.asarray(log_lambda, dtype=float)[:, None])  # in place from here:
    np.minimum(exponent, _SAFE_EXP_MAX, out=exponent)  # (rows x horizon) arrays are the memory of batch CLV
    np.exp(exponent, out=exponent)
    np.negative(exponent, out=exponent)
    values = np.exp(exponent, out=exponent)  # S(t + k), k = 0..horizon
    out = values[:, 1:] / np.maximum(values[:, :1], 1e-12)
    return np.clip(out, 0.0, 1.0, out=out)


def stored_rows(stored: pd.DataFrame | pd.Series, customers: pd.DataFrame, what: str):
    """Rows of ``stored`` (indexed by ``customer_id``) for each of ``customers``, in their order.

    Raises
    ------
    KeyError
        If a customer has no stored row (naming ``what`` and up to five IDs).
    """
    ids = customers["customer_id"]
    missing = ids[~ids.isin(stored.index)]
    if len(missing):
        raise KeyError(f"no stored {what} for {len(missing)} customers, e.g. {list(missing[:5])}")
    return stored.loc[ids.to_numpy()]


class StoredSurvival:
    """A fitted Weibull AFT model's curves for known customers, read back from storage.

    Stands in for a :class:`SurvivalModel` wherever only :meth:`conditional_survival` is
    used (CLV, the offer simulator), so that a page never fits or even imports lifelines.

    Parameters
    ----------
    parameters : pandas.DataFrame
        :meth:`SurvivalModel.weibull_parameters` of the customers it will be asked about.
    """

    kind = "weibull"

    def __init__(self, parameters: pd.DataFrame):
        self.parameters_ = parameters.set_index("customer_id")[["tenure", "log_lambda", "rho"]]

    def conditional_survival(self, customers: pd.DataFrame, horizon: int = 60) -> np.ndarray:
        """``S(t + k | T > t)`` for k = 1..horizon of ``customers`` (matched by ``customer_id``).

        Returns
        -------
        numpy.ndarray of shape (n_customers, horizon)

        Raises
        ------
        KeyError
            If a customer has no stored curve (naming up to five IDs).
        """
        p = stored_rows(self.parameters_, customers, "survival curve")
        return weibull_conditional_survival(p["tenure"], p["log_lambda"], p["rho"], horizon)


class SurvivalModel:
    """Multivariable survival model of tenure: Cox proportional hazards or Weibull AFT.

    Parameters
    ----------
    kind : {"cox", "weibull"}
        ``lifelines.CoxPHFitter`` or ``lifelines.WeibullAFTFitter``.
    penalizer : float
        L2 penalty of the fitter.
    strata : tuple of str
        Cox only: categorical covariates to stratify on instead of estimating a
        proportional effect (the usual remedy when they violate proportional hazards).

    Attributes
    ----------
    model_ : lifelines fitter
    levels_ : dict of str to list of str
        Levels of each category in the training data (predictions use the same columns).
    columns_ : list of str
        Design-matrix columns used in ``fit``.
    """

    def __init__(self, kind: str = "cox", penalizer: float = 0.01, strata: tuple[str, ...] = ()):
        self.kind = kind
        self.penalizer = penalizer
        self.strata = strata

    def _frame(self, customers: pd.DataFrame) -> pd.DataFrame:
        X = design_matrix(customers, getattr(self, "levels_", None))
        if self.strata:
            dropped = [c for c in X if any(c.startswith(f"{s}_") for s in self.strata)]
            X = X.drop(columns=dropped).join(customers[list(self.strata)].astype(str))
        X["tenure"] = customers["tenure"].clip(lower=0.5).astype(float)  # tenure 0: joined this month
        X["churn_flag"] = customers["churn_flag"].astype(int)
        return X

    def fit(self, customers: pd.DataFrame) -> SurvivalModel:
        from lifelines import CoxPHFitter, WeibullAFTFitter

        self.levels_ = category_levels(customers)
        frame = self._frame(customers)
        self.columns_ = [c for c in frame if c not in ("tenure", "churn_flag")]
        if self.kind == "cox":
            self.model_ = CoxPHFitter(penalizer=self.penalizer)
            self.model_.fit(frame, "tenure", "churn_flag", strata=list(self.strata) or None)
        elif self.kind == "weibull":
            if self.strata:
                raise ValueError("strata are for the Cox model only")
            self.model_ = WeibullAFTFitter(penalizer=self.penalizer).fit(frame, "tenure", "churn_flag")
        else:
            raise ValueError(f"unknown survival model {self.kind!r}")
        return self

    def concordance(self, customers: pd.DataFrame) -> float:
        """Harrell's concordance index of the model's risk ranking on ``customers`` (held out)."""
        from lifelines.utils import concordance_index

        frame = self._frame(customers)
        cox = self.kind == "cox"
        score = -self.model_.predict_partial_hazard(frame) if cox else self.model_.predict_median(frame)
        return float(concordance_index(frame["tenure"], score, frame["churn_flag"]))

    def ph_violations(self, customers: pd.DataFrame, alpha: float = 0.01) -> pd.DataFrame:
        """Covariates whose Schoenfeld-residual test rejects proportional hazards (Cox only)."""
        from lifelines.statistics import proportional_hazard_test

        test = proportional_hazard_test(self.model_, self._frame(customers), time_transform="rank")
        summary = test.summary
        return summary[summary["p"] < alpha].sort_values("p")

    def weibull_parameters(self, customers: pd.DataFrame) -> pd.DataFrame:
        """Each customer's fitted Weibull curve, enough to evaluate it without lifelines.

        The cumulative hazard of a customer is ``H(T) = exp(rho · (log T − log_lambda))``
        (lifelines' ``WeibullAFTFitter``); :class:`StoredSurvival` evaluates it exactly as
        :meth:`conditional_survival` does.

        Returns
        -------
        pandas.DataFrame of shape (n_customers, 4)
            ``customer_id``, ``tenure`` (months, as modelled: at least 0.5), ``log_lambda``
            (log months) and ``rho`` (shape, > 0).

        Raises
        ------
        ValueError
            If the model is not a fitted Weibull AFT model.
        """
        if self.kind != "weibull" or not hasattr(self, "model_"):
            raise ValueError("weibull_parameters needs a fitted Weibull AFT model")
        frame = self._frame(customers)
        fitter = self.model_
        Xs = fitter.regressors.transform_df(frame)  # the same design lifelines predicts with
        params = {name: fitter.params_.loc[name].values for name in fitter._fitted_parameter_names}
        log_lambda = Xs["lambda_"].values @ params["lambda_"]
        rho = np.exp(np.clip(Xs["rho_"].values @ params["rho_"], -np.inf, _SAFE_EXP_MAX))
        return pd.DataFrame(
            {
                "customer_id": customers["customer_id"].to_numpy(),
                "tenure": frame["tenure"].to_numpy(dtype=float),
                "log_lambda": np.asarray(log_lambda, dtype=float),
                "rho": np.asarray(rho, dtype=float),
            }
        )

    def conditional_survival(self, customers: pd.DataFrame, horizon: int = 60) -> np.ndarray:
        """``S(t + k | T > t)`` for k = 1..horizon months, t = each customer's current tenure.

        Returns
        -------
        numpy.ndarray of shape (n_customers, horizon)
        """
        frame = self._frame(customers)
        tenure = frame["tenure"].to_numpy()
        wanted = tenure[:, None] + np.arange(0, horizon + 1, dtype=float)[None, :]
        grid = np.unique(wanted)
        surv = self.model_.predict_survival_function(frame, times=grid).to_numpy()  # (len(grid), n)
        rows = np.searchsorted(grid, wanted)  # (n, horizon + 1)
        values = surv[rows, np.arange(len(frame))[:, None]]
        out = values[:, 1:] / np.maximum(values[:, :1], 1e-12)
        return np.clip(out, 0.0, 1.0)


def evaluate_models(customers: pd.DataFrame, test_size: float = 0.25, seed: int = 0) -> dict:
    """Held-out concordance of Cox and Weibull AFT, and the Cox proportional-hazards check.

    Returns
    -------
    dict
        ``cox_c_index``, ``weibull_c_index`` (held out, stratified split),
        ``ph_violations`` (DataFrame from :meth:`SurvivalModel.ph_violations` on the
        training part), ``n_train``, ``n_test``.
    """
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(customers, test_size=test_size, random_state=seed, stratify=customers["churn_flag"])
    cox = SurvivalModel("cox").fit(train)
    weibull = SurvivalModel("weibull").fit(train)
    return {
        "cox_c_index": cox.concordance(test),
        "weibull_c_index": weibull.concordance(test),
        "ph_violations": cox.ph_violations(train),
        "n_train": len(train),
        "n_test": len(test),
    }
