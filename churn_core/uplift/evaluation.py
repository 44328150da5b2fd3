"""Honest evaluation of an uplift model: cross-validated Qini curve and AUUC against two baselines.

Every customer's uplift is predicted by a model that never saw the customer
(:func:`out_of_fold_uplift`: stratified k-fold on treatment x outcome, so each fold keeps the
shares of treated / control churners and stayers). The rankings compared on those out-of-fold
predictions (:func:`evaluate`):

* ``uplift``: the uplift model, highest predicted uplift first;
* ``risk``: highest churn risk first (the churn model's probability: what the audience builder
  did before);
* ``random``: random targeting, the straight line from (0, 0) to the whole population's gain
  (its expected curve; no random draw).

Curves use ``causalml.metrics`` with the outcome **kept** (= not churned), so a higher curve is
better. With ``k`` customers targeted in ranking order:

* **Qini curve** (Radcliffe 2007, :func:`causalml.metrics.get_qini`): kept among the treated of
  the top ``k`` minus kept among the control of the top ``k`` scaled to the treated count:
  the extra customers kept among those who got the offer;
* **cumulative gain** (:func:`causalml.metrics.get_cumgain`): (retention rate of the treated -
  of the control) in the top ``k``, times ``k``: extra customers kept had all ``k`` been offered.

Summary numbers (customers, not normalised, so a campaign with no effect does not divide by ~0):
**Qini coefficient** = mean height of the Qini curve minus the random line's
(:func:`causalml.metrics.qini_score` with ``normalize=False``); **AUUC** = mean height of the
cumulative-gain curve (:func:`causalml.metrics.auuc_score`, ``normalize=False``), the random
line's beside it. A ranking better than random has a positive Qini coefficient and an AUUC above
the random one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold

RANKINGS = ("uplift", "risk", "random")
#: Points of the stored curves (population shares 0, 1/(n-1), …, 1).
CURVE_POINTS = 101


def out_of_fold_uplift(model, X: pd.DataFrame, y, treatment, n_splits: int = 5, random_state: int = 0) -> np.ndarray:
    """Uplift of each customer predicted by a clone of ``model`` fitted on the other folds.

    Parameters
    ----------
    model : UpliftModel
        Unfitted template (cloned per fold).
    X : pandas.DataFrame of shape (n_customers, n_columns)
        Customers.
    y, treatment : array-like of bool, shape (n_customers,)
        Churned after the campaign; got the offer.
    n_splits : int
        Folds (>= 2), stratified by treatment x outcome.
    random_state : int
        Seed of the fold assignment.

    Returns
    -------
    numpy.ndarray of float, shape (n_customers,)
        Out-of-fold uplift (reduction of churn probability).

    Raises
    ------
    ValueError
        If a treatment x outcome cell has fewer customers than ``n_splits`` (named with its count).
    """
    y = np.asarray(y, dtype=bool)
    t = np.asarray(treatment, dtype=bool)
    cells = 2 * t.astype(int) + y.astype(int)
    counts = np.bincount(cells, minlength=4)
    small = {name: int(c) for name, c in zip(_CELL_NAMES, counts, strict=True) if c < n_splits}
    if small:
        raise ValueError(f"too few customers for {n_splits}-fold cross-validation in {small} (need >= {n_splits} each)")
    out = np.full(len(X), np.nan)
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    for train, test in folds.split(np.zeros(len(X)), cells):
        fitted = clone(model).fit(X.iloc[train], y[train], t[train])
        out[test] = fitted.predict(X.iloc[test])
    return out


_CELL_NAMES = ("control stayed", "control churned", "treated stayed", "treated churned")


def _curve_frame(curve: pd.DataFrame, n: int) -> pd.DataFrame:
    """Curves at :data:`CURVE_POINTS` population shares, with the random line."""
    at = np.unique(np.round(np.linspace(0, n, CURVE_POINTS)).astype(int))
    picked = curve.reindex(at).interpolate().fillna(0.0)
    end = float(curve.iloc[-1].mean())  # every ranking ends at the whole population's value
    columns = {"customers": at, "share": at / n}
    columns |= {name: picked[name].to_numpy(dtype=float) for name in curve.columns}
    return pd.DataFrame(columns | {"random": end * at / n})


@dataclass(frozen=True)
class UpliftEvaluation:
    """Cross-validated evaluation of an uplift model (see the module docstring).

    Attributes
    ----------
    qini : pandas.DataFrame of shape (<= 101, 5)
        ``customers``, ``share`` (0-1), ``uplift``, ``risk``, ``random``: Qini curves (customers kept).
    gain : pandas.DataFrame
        The same for the cumulative-gain curves.
    table : pandas.DataFrame of shape (3, 4)
        One row per ranking (``uplift``, ``risk``, ``random``): ``ranking``, ``qini`` (Qini
        coefficient, customers), ``auuc`` (customers), ``kept_top_30`` (cumulative gain when the top
        30 % are offered, customers).
    n, n_treated, n_control, n_splits : int
    observed_uplift : float
        Churn rate of the control minus of the treated, whole population.
    oof_uplift : numpy.ndarray of float, shape (n,)
        The out-of-fold predictions.
    simulated : bool
        The outcomes were (at least partly) simulated.
    """

    qini: pd.DataFrame
    gain: pd.DataFrame
    table: pd.DataFrame
    n: int
    n_treated: int
    n_control: int
    n_splits: int
    observed_uplift: float
    oof_uplift: np.ndarray = field(repr=False)
    simulated: bool = False

    def to_dict(self) -> dict:
        """JSON-ready form (curves and table as records; no per-customer predictions)."""
        return {
            "qini": self.qini.to_dict("list"), "gain": self.gain.to_dict("list"), "table": self.table.to_dict("list"),
            "n": self.n, "n_treated": self.n_treated, "n_control": self.n_control, "n_splits": self.n_splits,
            "observed_uplift": self.observed_uplift, "simulated": self.simulated,
        }  # fmt: skip

    def qini_of(self, ranking: str) -> float:
        """The cross-validated Qini coefficient (customers) of ``ranking`` (``uplift``, ``risk``, ``random``)."""
        return float(self.table.set_index("ranking").loc[ranking, "qini"])

    @property
    def beats_risk(self) -> bool:
        """True if the model's out-of-fold ranking beat both random targeting and highest churn risk first.

        When it does not, ranking an audience by the model's uplift is not supported by the
        campaign data, and the expected figures of its top customers are optimistic (they are
        chosen on the same noisy estimates): callers say so and keep the risk ranking.
        """
        model = self.qini_of("uplift")
        return model > 0 and model > self.qini_of("risk")

    @classmethod
    def from_dict(cls, doc: dict) -> UpliftEvaluation:
        """Inverse of :meth:`to_dict` (``oof_uplift`` empty)."""
        return cls(
            qini=pd.DataFrame(doc["qini"]), gain=pd.DataFrame(doc["gain"]), table=pd.DataFrame(doc["table"]),
            n=int(doc["n"]), n_treated=int(doc["n_treated"]), n_control=int(doc["n_control"]),
            n_splits=int(doc["n_splits"]), observed_uplift=float(doc["observed_uplift"]),
            oof_uplift=np.array([]), simulated=bool(doc["simulated"]),
        )  # fmt: skip


def ranking_curves(y, treatment, scores: dict[str, np.ndarray]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Qini and cumulative-gain curves and the summary table of rankings on the same customers.

    Parameters
    ----------
    y, treatment : array-like of bool, shape (n,)
        Churned; got the offer.
    scores : dict of str to array of float, shape (n,)
        Ranking scores (higher = targeted first), e.g. ``{"uplift": ..., "risk": ...}``.

    Returns
    -------
    (qini, gain, table) : tuple of pandas.DataFrame
        See :class:`UpliftEvaluation`.
    """
    from causalml.metrics import auuc_score, get_cumgain, get_qini, qini_score

    y = np.asarray(y, dtype=bool)
    frame = pd.DataFrame({name: np.asarray(s, dtype=float) for name, s in scores.items()})
    frame["y"] = (~y).astype(int)  # kept: higher is better
    frame["w"] = np.asarray(treatment, dtype=bool).astype(int)
    n = len(frame)
    qini = get_qini(frame, outcome_col="y", treatment_col="w", normalize=False)
    gain = get_cumgain(frame, outcome_col="y", treatment_col="w", normalize=False)
    q_score = qini_score(frame, outcome_col="y", treatment_col="w", normalize=False)
    auuc = auuc_score(frame, outcome_col="y", treatment_col="w", normalize=False)
    qini_curve, gain_curve = _curve_frame(qini, n), _curve_frame(gain, n)
    top = round(0.3 * n)
    rows = [
        {
            "ranking": name,
            "qini": float(q_score[name]),
            "auuc": float(auuc[name]),
            "kept_top_30": float(gain[name].loc[top]),
        }
        for name in scores
    ]
    end_gain = float(gain.iloc[-1].mean())
    rows.append({"ranking": "random", "qini": 0.0, "auuc": end_gain / 2, "kept_top_30": end_gain * top / n})
    return qini_curve, gain_curve, pd.DataFrame(rows)


def evaluate(
    model, X: pd.DataFrame, y, treatment, risk, n_splits: int = 5, random_state: int = 0, simulated: bool = False
) -> UpliftEvaluation:
    """Cross-validate ``model`` and compare its ranking with churn risk first and random targeting.

    Parameters
    ----------
    model : UpliftModel
        Unfitted template.
    X : pandas.DataFrame of shape (n, n_columns)
        Customers.
    y, treatment : array-like of bool, shape (n,)
        Churned after the campaign; got the offer.
    risk : array-like of float, shape (n,)
        Churn probability of each customer by the churn model (the "highest risk first" ranking).
    n_splits, random_state : int
        Cross-validation folds and seed.
    simulated : bool
        The outcomes are simulated (carried into the result's label).

    Returns
    -------
    UpliftEvaluation

    Raises
    ------
    ValueError
        Lengths differ, or a treatment x outcome cell is too small for ``n_splits`` folds.
    """
    y = np.asarray(y, dtype=bool)
    t = np.asarray(treatment, dtype=bool)
    risk = np.asarray(risk, dtype=float)
    if not (len(X) == len(y) == len(t) == len(risk)):
        raise ValueError(f"lengths differ: X {len(X)}, y {len(y)}, treatment {len(t)}, risk {len(risk)}")
    if np.isnan(risk).any():
        raise ValueError(f"churn risk missing at rows {np.flatnonzero(np.isnan(risk))[:10].tolist()}")
    oof = out_of_fold_uplift(model, X, y, t, n_splits, random_state)
    qini, gain, table = ranking_curves(y, t, {"uplift": oof, "risk": risk})
    observed = float(y[~t].mean() - y[t].mean())
    return UpliftEvaluation(
        qini=qini, gain=gain, table=table, n=len(y), n_treated=int(t.sum()), n_control=int((~t).sum()),
        n_splits=n_splits, observed_uplift=observed, oof_uplift=oof, simulated=simulated,
    )  # fmt: skip
