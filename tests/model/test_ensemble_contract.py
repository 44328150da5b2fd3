"""ChurnEnsemble against the scikit-learn estimator contract.

Two halves:

- scikit-learn's own estimator checks (``parametrize_with_checks``) on small, untuned
  ensembles. The checks feed numpy arrays while ChurnEnsemble selects its feature columns
  from a DataFrame by name, so they run on :class:`ArrayChurnEnsemble`, a subclass that
  only names array columns; every check that does not apply to a DataFrame-only estimator
  is listed in :data:`NOT_APPLICABLE` with its reason (strict xfail: if one starts to
  pass, the list must be updated);
- explicit tests on the real customers: parameters round trip, NotFittedError, predict vs
  predict_proba, score, validation before any work, ``tune_cv`` vs ``cv``, and the model
  shipped in ``models/`` (saved before ``tune_cv`` existed).
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from scipy.sparse import issparse
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from churn_core.prediction import ensemble as ensemble_module
from churn_core.prediction.ensemble import ChurnEnsemble
from churn_core.prediction.features import MODEL_FEATURES, feature_frame
from churn_core.prediction.model_selection import Candidate
from churn_core.prediction.training import load_bundle

pytestmark = pytest.mark.model

#: Numeric schema columns the array checks' columns are named after (column j -> NUMERIC[j]).
NUMERIC: tuple[str, ...] = ("tenure", "monthly_charges")


class ArrayChurnEnsemble(ChurnEnsemble):
    """ChurnEnsemble that also takes dense 2-D arrays, for scikit-learn's generic checks.

    An array's column ``j`` is named ``features[j]``; further columns get names that are no
    feature (``extra_j``), which ChurnEnsemble ignores like any extra DataFrame column.
    Because array columns are positional, an array passed to a prediction method must be
    as wide as the one ``fit`` saw. DataFrames, sparse matrices and anything not 2-D reach
    ChurnEnsemble unchanged (it accepts only DataFrames).
    """

    def _frame(self, X, fitting: bool = False):
        if isinstance(X, pd.DataFrame) or issparse(X):
            return X
        array = np.asarray(X)
        if array.ndim != 2:
            return X
        width = getattr(self, "array_width_", array.shape[1])
        if not fitting and array.shape[1] != width:
            raise ValueError(f"X has {array.shape[1]} columns, but {type(self).__name__} was fitted on {width}.")
        names = [*self.features, *(f"extra_{j}" for j in range(array.shape[1]))][: array.shape[1]]
        return pd.DataFrame(array, columns=names)

    def fit(self, X, y):
        super().fit(self._frame(X, fitting=True), y)
        if not isinstance(X, pd.DataFrame):
            self.array_width_ = np.asarray(X).shape[1]
        return self

    def member_proba(self, X):
        return super().member_proba(self._frame(X))


#: Checks that do not apply to an estimator taking a DataFrame and selecting named feature columns.
NOT_APPLICABLE: dict[str, str] = {
    "check_n_features_in_after_fitting": (
        "n_features_in_ counts the named feature columns the members use (len(features)), not the width "
        "of X: extra columns are ignored by design, so a 4-column array fitted on 2 features gives 2"
    ),
    "check_classifier_data_not_an_array": (
        "passes a DataFrame with integer column labels; ChurnEnsemble selects its features by name and "
        "rightly reports them missing"
    ),
    "check_estimators_empty_data_messages": (
        "a 0-column X lacks the named feature columns: ChurnEnsemble raises a ValueError naming them "
        "instead of scikit-learn's '0 feature(s)' array message"
    ),
    "check_fit2d_1feature": "a 1-column X lacks the second named feature column (ValueError naming it)",
    "check_complex_data": "uses a 1-column X, which lacks the second named feature column (ValueError naming it)",
    "check_fit1d": "a 1-D array is not a DataFrame: ChurnEnsemble raises TypeError, the check wants ValueError",
    "check_fit2d_predict1d": (
        "a 1-D array is not a DataFrame: ChurnEnsemble raises TypeError, the check wants ValueError 'Reshape your data'"
    ),
}


def small_ensemble(**params) -> ArrayChurnEnsemble:
    """A fresh untuned two-member ensemble on :data:`NUMERIC` (fast enough for every check)."""
    members = (Candidate("logreg", "standard"), Candidate("tree"))
    return ArrayChurnEnsemble(members=members, features=NUMERIC, tune_trials=0, cv=2, **params)


@parametrize_with_checks(
    [small_ensemble(), small_ensemble(calibration="isotonic")],  # sigmoid (the default) and isotonic
    expected_failed_checks=lambda estimator: NOT_APPLICABLE,
    xfail_strict=True,
)
def test_sklearn_estimator_checks(estimator, check) -> None:
    check(clone(estimator))  # a fresh copy: no state shared between checks


# --- explicit tests on the real customers --------------------------------------------------------


@pytest.fixture
def data(customers: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """A fresh random sample of 800 real customers: (model feature frame, churn 0/1)."""
    rows = customers.sample(800, random_state=11).reset_index(drop=True)
    return feature_frame(rows), rows["churn_flag"].to_numpy().astype(int)


def logreg_ensemble(**params) -> ChurnEnsemble:
    """An untuned one-member ensemble on every model feature."""
    return ChurnEnsemble(members=(Candidate("logreg", "standard"),), tune_trials=0, cv=3, **params)


class TuneCalled(Exception):
    """Raised by the spy that replaces :func:`churn_core.prediction.ensemble.tune`."""


@pytest.fixture
def tune_calls(monkeypatch) -> list[dict]:
    """Replace ``tune`` by a spy that records its arguments and stops the fit."""
    calls: list[dict] = []

    def spy(candidate, X, y, n_trials, cv=3, seed=0, features=()):
        calls.append({"family": candidate.family, "n_trials": n_trials, "cv": cv, "n_rows": len(X)})
        raise TuneCalled

    monkeypatch.setattr(ensemble_module, "tune", spy)
    return calls


def test_defaults_of_the_shipped_configuration_are_unchanged() -> None:
    params = ChurnEnsemble().get_params()
    assert params["cv"] == 5 and params["tune_cv"] == 3 and params["tune_trials"] == 20
    assert params["calibration"] == "sigmoid" and params["features"] == MODEL_FEATURES


def test_get_params_set_params_and_clone_round_trip() -> None:
    members = (Candidate("logreg", "robust"), Candidate("tree"))
    est = ChurnEnsemble(members=members, features=NUMERIC, tune_trials=4, calibration="isotonic", cv=4, tune_cv=2)
    params = est.get_params(deep=False)
    assert params == {
        "members": members,
        "features": NUMERIC,
        "tune_trials": 4,
        "calibration": "isotonic",
        "cv": 4,
        "tune_cv": 2,
        "seed": est.seed,
    }
    copy = clone(est)
    assert copy is not est and copy.get_params(deep=False) == params
    assert ChurnEnsemble(**params).get_params(deep=False) == params
    assert copy.set_params(cv=6, tune_cv=5) is copy
    assert (copy.cv, copy.tune_cv) == (6, 5)
    assert (est.cv, est.tune_cv) == (4, 2)  # the original is untouched
    with pytest.raises(ValueError, match="Invalid parameter 'folds'"):
        copy.set_params(folds=3)


def test_clone_of_a_fitted_ensemble_is_unfitted(data) -> None:
    X, y = data
    fitted = logreg_ensemble().fit(X, y)
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not [name for name in vars(copy) if name.endswith("_")]
    with pytest.raises(NotFittedError):
        copy.predict(X)


@pytest.mark.parametrize("method", ["predict_proba", "predict", "member_proba"])
def test_not_fitted_error_before_fit(data, method) -> None:
    X, _ = data
    with pytest.raises(NotFittedError, match="ChurnEnsemble instance is not fitted"):
        getattr(logreg_ensemble(), method)(X)


def test_set_inference_threads_needs_a_fitted_model() -> None:
    with pytest.raises(NotFittedError):
        ChurnEnsemble().set_inference_threads(2)


def test_predict_is_predict_proba_at_one_half_and_score_is_accuracy(data) -> None:
    X, y = data
    model = logreg_ensemble().fit(X[:600], y[:600])
    X_test, y_test = X[600:], y[600:]
    proba = model.predict_proba(X_test)
    pred = model.predict(X_test)
    assert proba.shape == (200, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert np.array_equal(model.classes_, [0, 1])
    assert np.array_equal(pred, (proba[:, 1] >= 0.5).astype(int))
    assert set(pred) == {0, 1}  # a non-trivial split, so the comparison above means something
    assert model.score(X_test, y_test) == pytest.approx(accuracy_score(y_test, pred))
    assert model.score(X_test, y_test) > max(y_test.mean(), 1 - y_test.mean())  # beats the majority class
    assert model.n_features_in_ == len(MODEL_FEATURES)
    assert list(model.feature_names_in_) == list(MODEL_FEATURES)


def test_classes_come_from_y_and_column_one_is_the_positive_class(data) -> None:
    X, y = data
    by_int = logreg_ensemble().fit(X, y)
    labels = np.where(y == 1, "yes", "no")
    by_str = logreg_ensemble().fit(X, labels)
    assert list(by_str.classes_) == ["no", "yes"]
    assert np.array_equal(by_str.predict_proba(X), by_int.predict_proba(X))
    assert np.array_equal(by_str.predict(X), np.where(by_int.predict(X) == 1, "yes", "no"))


INVALID_PARAMETERS = {  # test id: (parameters, pattern the ValueError message must match)
    "calibration-unknown": ({"calibration": "platt"}, "'calibration'"),
    "calibration-case": ({"calibration": "Sigmoid"}, "'calibration'"),
    "cv-1": ({"cv": 1}, "'cv'"),
    "cv-float": ({"cv": 3.0}, "'cv'"),
    "tune_cv-1": ({"tune_cv": 1}, "'tune_cv'"),
    "tune_cv-0": ({"tune_cv": 0}, "'tune_cv'"),
    "tune_trials-negative": ({"tune_trials": -1}, "'tune_trials'"),
    "seed-negative": ({"seed": -1}, "'seed'"),
    "members-empty": ({"members": ()}, "'members'"),
    "members-str": ({"members": "logreg"}, "'members'"),
    "members-not-candidates": ({"members": ("logreg",)}, "'members'"),
    "members-unknown-scaler": ({"members": (Candidate("lightgbm", "zscore"),)}, "'members'"),
    "features-empty": ({"features": ()}, "'features'"),
    "features-repeated": ({"features": ("tenure", "tenure")}, "'features'"),
    "features-unknown": ({"features": ("tenure", "shoe_size")}, "'features'"),
    "features-leakage": ({"features": (*MODEL_FEATURES, "churn_score")}, "leakage"),
}


@pytest.mark.parametrize(("params", "names"), list(INVALID_PARAMETERS.values()), ids=list(INVALID_PARAMETERS))
def test_invalid_parameters_raise_before_any_work(data, tune_calls, params, names) -> None:
    X, y = data
    model = ChurnEnsemble(**{"tune_trials": 20, **params})  # the real tuned members: tuning would take minutes
    with pytest.raises(ValueError, match=names):
        model.fit(X, y)
    assert tune_calls == []  # no tuning ran, and (below) nothing was fitted: the check came first
    assert not [name for name in vars(model) if name.endswith("_")]


def test_invalid_data_raise_before_any_work(data, tune_calls) -> None:
    X, y = data
    model = ChurnEnsemble(tune_trials=20)
    with pytest.raises(ValueError, match=r"lacks feature columns.*'tenure'"):
        model.fit(X.drop(columns="tenure"), y)
    with pytest.raises(TypeError, match="pandas DataFrame"):
        model.fit(X.to_numpy(), y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        model.fit(X, y[:-1])
    with pytest.raises(ValueError, match="Only binary classification"):
        model.fit(X, np.arange(len(y)) % 3)
    with pytest.raises(ValueError, match="one class"):
        model.fit(X, np.zeros(len(y), dtype=int))
    with pytest.raises(ValueError, match="Unknown label type"):
        model.fit(X, np.linspace(0, 1, len(y)))
    few = np.zeros(len(y), dtype=int)
    few[:4] = 1
    with pytest.raises(ValueError, match="'cv' parameter"):  # 4 churners cannot fill 5 folds
        model.fit(X, few)
    with pytest.raises(ValueError, match="'tune_cv' parameter"):  # cv=2 fits, tune_cv=5 does not
        ChurnEnsemble(tune_trials=20, cv=2, tune_cv=5).fit(X, few)
    assert tune_calls == []


def test_tuning_uses_tune_cv_and_not_cv(data, tune_calls) -> None:
    X, y = data
    with pytest.raises(TuneCalled):
        ChurnEnsemble(tune_trials=7, cv=5, tune_cv=4).fit(X, y)
    assert tune_calls == [{"family": "lightgbm", "n_trials": 7, "cv": 4, "n_rows": len(X)}]


def test_no_tuning_with_zero_trials(data, tune_calls) -> None:
    X, y = data
    members = (Candidate("xgboost", params={"n_estimators": 5}), Candidate("logreg", "standard"))
    model = ChurnEnsemble(members=members, tune_trials=0, cv=2, tune_cv=2).fit(X, y)
    assert tune_calls == [] and model.tuned_params_ == {}
    assert [name for name, _ in model.members_] == ["xgboost/none", "logreg/standard/none"]


@pytest.mark.parametrize("persist", ["pickle", "skops"])
def test_a_model_saved_before_tune_cv_existed_still_works(data, persist) -> None:
    X, y = data
    old = logreg_ensemble().fit(X, y)
    expected = old.predict_proba(X)
    del old.tune_cv  # what an instance pickled by the previous version holds
    with pytest.raises(AttributeError):
        old.get_params()
    if persist == "pickle":
        loaded = pickle.loads(pickle.dumps(old))
    else:
        dump = sio.dumps(old)
        loaded = sio.loads(dump, trusted=sio.get_untrusted_types(data=dump))
    assert loaded.get_params()["tune_cv"] == 3
    assert np.array_equal(loaded.predict_proba(X), expected)
    assert clone(loaded).get_params() == loaded.get_params()


def test_shipped_model_loads_and_predict_agrees_with_predict_proba(customers) -> None:
    model = load_bundle().model
    X = feature_frame(customers)
    proba = model.predict_proba(X)
    pred = model.predict(X)
    assert proba.shape == (len(customers), 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert np.array_equal(model.classes_, [0, 1])
    assert np.array_equal(pred, model.classes_[(proba[:, 1] >= 0.5).astype(int)])
    assert set(pred) == {0, 1}
    assert model.score(X, customers["churn_flag"].to_numpy()) > 0.8
    params = model.get_params()
    assert params["tune_cv"] == 3 and params["cv"] == 5 and params["features"] == MODEL_FEATURES
    assert clone(model).get_params(deep=False) == model.get_params(deep=False)
    assert model.set_inference_threads(1) is model
    assert np.array_equal(model.predict_proba(X), proba)
