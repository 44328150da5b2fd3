"""The uplift model (issue #15) on simulated outcomes of the real customers.

Outcomes come from the outcomes helper's pure simulator (:func:`churn_core.outreach.outcomes.simulated_churn`)
with the shipped churn model's probability as base rate and half the customers treated at random.
The true uplift of each customer is then known (``p x effect[contract]``), and every tolerance is
derived from the data: the standard error of the treated-vs-control difference in each group, and
the spread of the Qini coefficient of random rankings (permutations) on the same customers.
"""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from churn_core.outreach.outcomes import TREATMENT_EFFECTS, simulated_churn
from churn_core.prediction.training import ModelIntegrityError, UntrustedModelError, load_bundle
from churn_core.uplift import storage
from churn_core.uplift.evaluation import evaluate, ranking_curves
from churn_core.uplift.model import UpliftModel

pytestmark = pytest.mark.model
FOLDS = 3
Z = 3.5  # standard errors allowed: a miss this large happens by chance about once in 2,000 groups
N_PERMUTATIONS = 200


@pytest.fixture(scope="module")
def base(customers):
    """Base churn probability (shipped model) and a seeded 50 % treatment assignment."""
    p = load_bundle().model.predict_proba(customers)[:, 1]
    treated = np.random.default_rng(11).random(len(customers)) < 0.5
    return p, treated


def _simulate(customers, base, assumption: str):
    p, treated = base
    y = simulated_churn(p, treated, customers["contract"], assumption, np.random.default_rng(12))
    return y, treated, p


@pytest.fixture(scope="module")
def evaluations(customers, base):
    out = {}
    for assumption in ("m2m_only", "none"):
        y, treated, p = _simulate(customers, base, assumption)
        out[assumption] = evaluate(UpliftModel(), customers, y, treated, p, n_splits=FOLDS, simulated=True)
    return out


def _diff_se(y: np.ndarray, treated: np.ndarray) -> float:
    """Standard error of (control churn rate - treated churn rate)."""
    rc, rt = y[~treated].mean(), y[treated].mean()
    return float(np.sqrt(rc * (1 - rc) / (~treated).sum() + rt * (1 - rt) / treated.sum()))


@pytest.mark.parametrize("assumption", ["m2m_only", "none"])
def test_model_recovers_the_assumed_effect_per_contract(customers, base, evaluations, assumption) -> None:
    y, treated, p = _simulate(customers, base, assumption)
    uplift = evaluations[assumption].oof_uplift  # out of fold: each customer predicted by a model that never saw them
    effects = TREATMENT_EFFECTS[assumption]
    for contract, effect in effects.items():
        group = (customers["contract"] == contract).to_numpy()
        truth = float((p[group] * effect).mean())  # the assumed uplift of this group
        se = _diff_se(y[group], treated[group])
        predicted = float(uplift[group].mean())
        assert abs(predicted - truth) < Z * se, (contract, predicted, truth, se)
        if truth > Z * se:  # a detectable effect (month-to-month under m2m_only) must be found, with its sign
            assert predicted > Z * se / 2, (contract, predicted, se)
    if assumption == "m2m_only":  # the offer helps month-to-month customers more than two-year ones
        m2m = uplift[(customers["contract"] == "Month-to-month").to_numpy()].mean()
        two = uplift[(customers["contract"] == "Two year").to_numpy()].mean()
        assert m2m - two > Z * _diff_se(y, treated)


def _null_qini(y, treated, uplift) -> np.ndarray:
    """Qini coefficients of random rankings (permutations of the model's scores) on the same customers."""
    rng = np.random.default_rng(5)
    scores = {f"perm{i}": rng.permutation(uplift) for i in range(N_PERMUTATIONS)}
    _, _, table = ranking_curves(y, treated, scores)
    return table.loc[table["ranking"] != "random", "qini"].to_numpy()


def test_qini_beats_random_with_an_effect_and_not_without(customers, base, evaluations) -> None:
    for assumption in ("m2m_only", "none"):
        y, treated, _ = _simulate(customers, base, assumption)
        ev = evaluations[assumption]
        table = ev.table.set_index("ranking")
        null = _null_qini(y, treated, ev.oof_uplift)
        qini = table.loc["uplift", "qini"]
        assert table.loc["random", "qini"] == 0.0
        if assumption == "m2m_only":
            assert qini > null.max(), (qini, null.max())
            assert table.loc["uplift", "auuc"] > table.loc["random", "auuc"]
            assert ev.simulated and ev.observed_uplift > 0
        else:  # no effect: the model ranks like a random ranking (inside the permutations' range)
            assert null.min() <= qini <= null.max(), (qini, null.min(), null.max())
    curve = evaluations["m2m_only"].qini
    assert list(curve.columns) == ["customers", "share", "uplift", "risk", "random"]
    assert curve["share"].iloc[0] == 0 and curve["share"].iloc[-1] == 1
    assert curve["random"].iloc[-1] == pytest.approx(curve["uplift"].iloc[-1])  # every ranking ends at the same total


@pytest.fixture(scope="module")
def small(customers, base):
    y, treated, _ = _simulate(customers, base, "m2m_only")
    return customers.iloc[:1500].reset_index(drop=True), y[:1500], treated[:1500]


def test_estimator_contract(small) -> None:
    X, y, treated = small
    model = UpliftModel(n_estimators=20)
    with pytest.raises(NotFittedError):
        model.predict(X)
    assert clone(model).get_params() == model.get_params()
    for bad in ({"learner": "s"}, {"base": "xgb"}, {"n_estimators": 0}, {"learning_rate": 2.0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            UpliftModel(**bad).fit(X, y, treated)
    with pytest.raises(ValueError, match="treatment"):
        model.fit(X, y, np.where(treated, 1, 2))
    with pytest.raises(ValueError, match="control group"):
        model.fit(X, y, np.ones(len(X), dtype=bool))
    uplift = model.fit(X, y, treated).predict(X)
    assert uplift.shape == (len(X),) and np.all(np.abs(uplift) <= 1)
    x_learner = UpliftModel(learner="x", n_estimators=20).fit(X, y, treated).predict(X)
    assert x_learner.shape == (len(X),) and np.isfinite(x_learner).all()
    with pytest.raises(KeyError):
        model.predict(X.drop(columns="contract"))


def test_saved_model_loads_with_trusted_types_only(small, tmp_path) -> None:
    X, y, treated = small
    model = UpliftModel(n_estimators=20).fit(X, y, treated)
    storage.save_uplift(model, tmp_path, {"campaigns": ["c1"], "simulated": True})
    loaded, card = storage.load_uplift(tmp_path)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert set(card["trusted_types"]) <= storage.ALLOWED_UPLIFT_TYPES and card["simulated"]
    assert "churn_core.uplift.model.UpliftModel" in card["trusted_types"]

    path = tmp_path / storage.MODEL_FILE
    good = path.read_bytes()
    path.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))  # one bit changed
    with pytest.raises(ModelIntegrityError, match="changed"):
        storage.load_uplift(tmp_path)
    path.write_bytes(good)

    card_path = tmp_path / storage.CARD_FILE
    widened = dict(card, trusted_types=[*card["trusted_types"], "os.system"])
    card_path.write_text(json.dumps(widened), encoding="utf-8")
    with pytest.raises(UntrustedModelError) as refused:  # a card cannot widen trust
        storage.load_uplift(tmp_path)
    assert refused.value.types == ["os.system"]

    model.smuggled_ = Fraction(1, 3)  # a type nobody reviewed, with a card that matches the file's hash
    data = sio.dumps(model)
    path.write_bytes(data)
    card_path.write_text(json.dumps(dict(card, model_sha256=storage._sha256(data))), encoding="utf-8")
    with pytest.raises(UntrustedModelError) as untrusted:
        storage.load_uplift(tmp_path)
    assert untrusted.value.types == ["fractions.Fraction"]
    with pytest.raises(UntrustedModelError, match=r"fractions\.Fraction"):  # and it is never written in the first place
        storage.save_uplift(model, tmp_path / "other", {})
    assert not (tmp_path / "other" / storage.MODEL_FILE).exists()


def test_risk_ranking_uses_churn_probability(customers, base, evaluations) -> None:
    y, treated, p = _simulate(customers, base, "m2m_only")
    _, _, table = ranking_curves(y, treated, {"risk": p, "reverse": -p})
    by = table.set_index("ranking")["qini"]
    assert by["risk"] == pytest.approx(evaluations["m2m_only"].table.set_index("ranking").loc["risk", "qini"])
    assert by["risk"] > 0 > by["reverse"]  # the effect grows with risk here: riskiest first beats least risky first
    assert isinstance(evaluations["m2m_only"].table, pd.DataFrame)
