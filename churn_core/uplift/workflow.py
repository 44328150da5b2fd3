"""The uplift steps end to end on the warehouse: fit + evaluate + store, and rank an audience.

Used by the ``churn-studio uplift`` commands (:mod:`churn_core.uplift.commands`) and the app
(``ui/uplift.py``). Churn risk (the "highest risk first" ranking) is the champion model's
stored probability (:func:`churn_core.outreach.outcomes.base_probabilities`: the latest
``churn-studio score`` run, else the precomputed analytics); customers without one are scored
here with the champion.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from churn_core.data.warehouse import Warehouse
from churn_core.uplift.data import UpliftData, uplift_data
from churn_core.uplift.evaluation import UpliftEvaluation, evaluate
from churn_core.uplift.model import UpliftModel
from churn_core.uplift.storage import load_uplift, save_uplift
from churn_core.uplift.targeting import rank_by_profit


def warehouse_features(wh: Warehouse) -> tuple[str, ...]:
    """The churn model's features for the warehouse's schema (extended, or the classic Kaggle columns)."""
    from churn_core.data.customers import customer_columns
    from churn_core.data.schema import detect_schema
    from churn_core.prediction.features import FEATURE_SETS

    return FEATURE_SETS[detect_schema(customer_columns(wh))]


def churn_risk(wh: Warehouse, customers: pd.DataFrame, settings=None) -> np.ndarray:
    """The champion's churn probability of each customer (stored when available, else scored now).

    Parameters
    ----------
    customers : pandas.DataFrame of shape (n, n_columns)
        ``customer_id`` and the model features.

    Returns
    -------
    numpy.ndarray of float, shape (n,)
    """
    from churn_core.outreach.outcomes import base_probabilities

    ids = customers["customer_id"].astype(str)
    stored = base_probabilities(wh, sorted(set(ids)))
    risk = ids.map(stored).to_numpy(dtype=float)
    missing = np.isnan(risk)
    if missing.any():
        from churn_core.data.customers import customer_columns
        from churn_core.data.schema import detect_schema
        from churn_core.prediction.registry import load_champion

        bundle, _ = load_champion(settings, detect_schema(customer_columns(wh)))
        risk[missing] = bundle.model.predict_proba(customers[missing])[:, 1]
    return risk


def by_contract(data: UpliftData, uplift: np.ndarray) -> pd.DataFrame:
    """Mean out-of-fold uplift beside the observed difference, per contract type.

    Returns
    -------
    pandas.DataFrame
        ``contract``, ``n``, ``n_treated``, ``n_control``, ``predicted_uplift`` (mean),
        ``observed_uplift`` (control churn rate - treated churn rate).
    """
    frame = pd.DataFrame({
        "contract": data.customers["contract"].to_numpy(), "uplift": uplift,
        "churned": data.churned.to_numpy(), "treated": data.treated.to_numpy(),
    })  # fmt: skip
    rows = []
    for contract, g in frame.groupby("contract", sort=True):
        t, c = g[g["treated"]], g[~g["treated"]]
        observed = float(c["churned"].mean() - t["churned"].mean()) if len(t) and len(c) else float("nan")
        rows.append({"contract": contract, "n": len(g), "n_treated": len(t), "n_control": len(c),
                     "predicted_uplift": float(g["uplift"].mean()), "observed_uplift": observed})  # fmt: skip
    return pd.DataFrame(rows)


def fit_uplift(
    wh: Warehouse, campaign_ids: Sequence[str] | None, directory: Path, model: UpliftModel | None = None,
    n_splits: int = 5, random_state: int = 0, settings=None,
) -> tuple[UpliftModel, dict, UpliftEvaluation]:  # fmt: skip
    """Cross-validate, fit on all rows and store the uplift model of ``campaign_ids``.

    Parameters
    ----------
    campaign_ids : sequence of str or None
        Campaigns with outcomes (None: all).
    directory : Path
        Where to store (:func:`churn_core.uplift.storage.uplift_dir`).
    model : UpliftModel, optional
        Template (default: ``UpliftModel`` with the features of the warehouse's schema).
    n_splits, random_state : int
        Cross-validation folds and seed.

    Returns
    -------
    (UpliftModel, dict, UpliftEvaluation)
        The fitted model, its card, the evaluation.

    Raises
    ------
    NoUpliftDataError, ValueError
        See :func:`churn_core.uplift.data.uplift_data` and :func:`churn_core.uplift.evaluation.evaluate`.
    """
    template = model if model is not None else UpliftModel(features=warehouse_features(wh), random_state=random_state)
    data = uplift_data(wh, campaign_ids)
    risk = churn_risk(wh, data.customers, settings)
    evaluation = evaluate(template, data.customers, data.churned, data.treated, risk, n_splits, random_state,
                          simulated=data.simulated)  # fmt: skip
    from sklearn.base import clone

    fitted = clone(template).fit(data.customers, data.churned, data.treated)
    card = {
        "campaigns": list(data.campaigns), "sources": list(data.sources), "simulated": data.simulated,
        "assumptions": list(data.assumptions), "n": len(data.churned), "n_treated": data.n_treated,
        "n_control": data.n_control, "by_contract": by_contract(data, evaluation.oof_uplift).to_dict("list"),
    }  # fmt: skip
    save_uplift(fitted, directory, card, evaluation)
    return fitted, card, evaluation


def rank_audience(
    wh: Warehouse, audience: pd.DataFrame, model: UpliftModel, offer_cost_usd: float, value_months: float
) -> pd.DataFrame:
    """Rank an audience (``customer_id``, ``churn_probability``) by expected incremental profit.

    Features and monthly charges come from the ``customers`` table; the value of a kept customer
    is monthly charges x ``value_months`` (USD).

    Returns
    -------
    pandas.DataFrame
        :func:`churn_core.uplift.targeting.rank_by_profit` of the audience.

    Raises
    ------
    ValueError
        If audience customers are missing from ``customers`` (ids named).
    """
    from churn_core.data.customers import customer_rows

    ids = tuple(sorted(set(audience["customer_id"])))
    rows = customer_rows(wh, ids).drop_duplicates("customer_id").set_index("customer_id")
    absent = sorted(set(ids) - set(rows.index))
    if absent:
        raise ValueError(f"{len(absent)} audience customer(s) are not in the customers table: {absent[:10]}")
    features = rows.reindex(audience["customer_id"]).reset_index()
    uplift = model.predict(features) if len(features) else np.array([])
    value = features["monthly_charges"].to_numpy(dtype=float) * value_months
    return rank_by_profit(audience, uplift, value, offer_cost_usd)


def stored_model(directory: Path) -> tuple[UpliftModel, dict] | None:
    """The stored model and card, or None when none was fitted (other load errors propagate)."""
    try:
        return load_uplift(directory)
    except FileNotFoundError:
        return None
