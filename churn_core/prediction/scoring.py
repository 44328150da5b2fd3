"""Scoring customers with the trained ensemble: one customer, a table, or a large CSV.

A file to score needs only ``customerID`` and the raw columns behind the model features
(no target, no leakage columns); extra columns are ignored. Two schemas are accepted
(:data:`churn_core.data.schema.SCHEMAS`): the header says which (:func:`prepare_file`), and the
model trained on that schema's features scores it (``models/`` or ``models/classic/``). It is validated with the
same declared column rules as the training file, chunk by chunk, so a large file
streams in bounded memory and every problem names its CSV lines.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pandera.pandas as pa

from churn_core.data.loading import (
    SERVICE_COLUMNS,
    allowed_values,
    validate_with,
)
from churn_core.data.reading import canonical_columns, read_table_chunks
from churn_core.data.schema import (
    BLANK_TOTAL_CHARGES_CHECK,
    LEAKAGE_COLUMNS_RAW,
    RAW_SCHEMA,
    RENAME,
    SCHEMAS,
    detect_schema,
)
from churn_core.prediction.business import Economics, recommend, risk_score, risk_tier
from churn_core.prediction.ensemble import ChurnEnsemble
from churn_core.prediction.explain import EnsembleExplainer, top_drivers_table
from churn_core.prediction.features import feature_frame

if TYPE_CHECKING:
    from churn_core.analytics.survival import SurvivalModel

#: Raw columns a file to score must have, per schema (:data:`churn_core.data.schema.SCHEMAS`): the ID
#: and the inputs of every feature of that schema's model.
SCORING_COLUMNS_BY_SCHEMA: dict[str, tuple[str, ...]] = {
    name: spec.scoring_raw_columns for name, spec in SCHEMAS.items()
}
#: Raw columns a file in the extended schema must have (the extended model's inputs).
SCORING_RAW_COLUMNS: tuple[str, ...] = SCORING_COLUMNS_BY_SCHEMA["extended"]
_SCORING_SCHEMAS: dict[str, pa.DataFrameSchema] = {
    name: pa.DataFrameSchema(
        {c: RAW_SCHEMA.columns[c] for c in columns},
        checks=[BLANK_TOTAL_CHARGES_CHECK],
        strict=False,
        name=f"customers_to_score_{name}",
    )
    for name, columns in SCORING_COLUMNS_BY_SCHEMA.items()
}


def prepare_for_scoring(raw: pd.DataFrame, source: str = "<upload>", schema: str | None = None) -> pd.DataFrame:
    """Validate a raw table (text cells) for scoring and add the derived features.

    Parameters
    ----------
    raw : pandas.DataFrame of shape (n_customers, n_columns)
        Raw column names, text cells (see :func:`churn_core.data.loading.read_raw_text`).
        Index ``i`` is CSV line ``i + 2`` (chunks of a large file keep a running index).
    source : str
        Name used in error messages.
    schema : {"extended", "classic"}, optional
        The schema to validate against; default: detected from the columns
        (:func:`churn_core.data.schema.detect_schema`).

    Returns
    -------
    pandas.DataFrame of shape (n_customers, 1 + n_features)
        ``customer_id`` and the features of that schema's model, warehouse names.

    Raises
    ------
    DataValidationError
        Naming every missing column (for the schema the file is closest to) and every invalid
        cell with its CSV line.
    """
    schema = schema or detect_schema(raw.columns)
    columns = SCORING_COLUMNS_BY_SCHEMA[schema]
    valid = validate_with(_SCORING_SCHEMAS[schema], raw, source, columns)
    out = valid[list(columns)].rename(columns=RENAME)
    # blank only where tenure is 0 (checked above): not billed yet, 0.0 USD as in the warehouse
    out["total_charges"] = out["total_charges"].fillna(0.0).astype("float64")
    if "n_services" in SCHEMAS[schema].features:
        services = [(out[c] != "No") if c == "internet_service" else (out[c] == "Yes") for c in SERVICE_COLUMNS]
        out["n_services"] = np.sum(services, axis=0).astype("int64")
    return out


@dataclass(frozen=True)
class PreparedFile:
    """A customer file validated for scoring, and what the report says about it.

    Attributes
    ----------
    schema : {"extended", "classic"}
        The schema detected from the header; the model trained on it scores the file.
    customers : pandas.DataFrame of shape (n_customers, 1 + n_features)
        ``customer_id`` and that schema's model features (:func:`prepare_for_scoring`).
    ignored_columns : tuple of str
        Target and leakage columns the file has (``Churn`` …): never read for scoring.
    """

    schema: str
    customers: pd.DataFrame
    ignored_columns: tuple[str, ...]


def prepare_file(data: bytes, chunk_rows: int = 100_000, source: str = "<upload>") -> PreparedFile:
    """Validate a whole file for scoring in the schema its header follows (chunk by chunk).

    Parameters
    ----------
    data : bytes
        The file's content (CSV or Excel, read by :func:`churn_core.data.reading.read_table_chunks`).
    chunk_rows : int
        Rows validated at a time.
    source : str
        Name used in error messages.

    Returns
    -------
    PreparedFile
        The detected schema, the model inputs of every row and the ignored target/leakage columns.

    Raises
    ------
    DataValidationError
        At the first chunk with problems, naming its CSV lines; nothing is returned.
    """
    header = _header(data, source)
    schema = detect_schema(header)
    prepared = pd.concat([p for p, _ in _prepared_chunks(data, chunk_rows, source, schema)], ignore_index=True)
    ignored = tuple(c for c in header if c in LEAKAGE_COLUMNS_RAW)
    return PreparedFile(schema, prepared, ignored)


def _header(data: bytes, source: str) -> list[str]:
    """The column names of a file (CSV or Excel), matched to the declared raw names (:mod:`churn_core.data.reading`)."""
    first = next(read_table_chunks(data, source, 1))
    return list(canonical_columns(first.frame)[0].columns)


def score_frame(
    model: ChurnEnsemble,
    customers: pd.DataFrame,
    economics: Economics | None = None,
    explainer: EnsembleExplainer | None = None,
) -> pd.DataFrame:
    """Score customers: probability, risk score and tier, expected profit, and (optionally) drivers.

    Parameters
    ----------
    model : ChurnEnsemble
        The fitted ensemble.
    customers : pandas.DataFrame of shape (n_customers, ...)
        ``customer_id`` and the model features (warehouse names).
    economics : Economics, optional
        Offer assumptions for the expected profit and the contact decision.
    explainer : EnsembleExplainer, optional
        When given, adds ``drivers_up``, ``drivers_down`` (feature names, "|"-joined) and
        ``actions`` (action keys, "|"-joined). Slower: use for small tables.

    Returns
    -------
    pandas.DataFrame of shape (n_customers, 7) or (n_customers, 10)
        ``customer_id``, ``churn_probability`` (0-1), ``risk_score`` (0-100),
        ``risk_tier``, ``expected_profit_usd``, ``contact`` (bool: expected profit > 0),
        ``monthly_charges`` (USD/month) [, ``drivers_up``, ``drivers_down``, ``actions``].
    """
    if explainer is not None:
        return score_and_explain(model, customers, explainer, economics)[0]
    economics = economics or Economics.from_settings()
    if _is_compiled(model):  # encodes the raw feature columns itself, once for all members
        proba = model.predict_proba(customers)[:, 1]
        monthly = customers["monthly_charges"].to_numpy(dtype="float64")
    else:
        X = feature_frame(customers, model.features)  # the model's own feature set (extended or classic)
        proba = model.predict_proba(X)[:, 1]
        monthly = X["monthly_charges"].to_numpy()
    profit = economics.expected_profit(proba, monthly)
    return pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy(),
            "churn_probability": proba,
            "risk_score": risk_score(proba),
            "risk_tier": risk_tier(proba),
            "expected_profit_usd": profit,
            "contact": profit > 0,
            "monthly_charges": monthly,
        }
    )


def _is_compiled(model: object) -> bool:
    """Whether ``model`` is a :class:`~churn_core.prediction.compiled.CompiledEnsemble` (without importing it)."""
    return type(model).__name__ == "CompiledEnsemble" and type(model).__module__ == "churn_core.prediction.compiled"


def score_with_clv(
    model: ChurnEnsemble,
    clv_model: SurvivalModel,
    customers: pd.DataFrame,
    economics: Economics,
    clv_rows: int = 20_000,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Churn scores (:func:`score_frame`) and CLV (:func:`~churn_core.analytics.clv.customer_clv`) of a chunk.

    The batch-scoring step: ``model`` may be a compiled ensemble
    (:func:`churn_core.prediction.compiled.scoring_model`). A Weibull AFT ``clv_model`` is evaluated in
    closed form, ``S(t) = exp(-(t / λ)^ρ)`` with lifelines' fitted parameters, over the whole chunk
    (the same numbers as lifelines' survival curves, without their table of one column per
    customer); other survival models go through :func:`~churn_core.analytics.clv.customer_clv` in
    sub-chunks of ``clv_rows``.

    Parameters
    ----------
    model : ChurnEnsemble or CompiledEnsemble
        The churn ensemble.
    clv_model : SurvivalModel
        The fitted survival model behind CLV.
    customers : pandas.DataFrame of shape (n_customers, n_columns)
        ``customer_id``, the model features and the survival covariates (warehouse names).
    economics : Economics
        Offer assumptions for the expected profit.
    clv_rows : int
        Rows per CLV computation (closed form or lifelines): bounds the (rows × 60 months) arrays.

    Returns
    -------
    scored : pandas.DataFrame of shape (n_customers, 7)
        As :func:`score_frame`.
    clv : pandas.DataFrame of shape (n_customers, 4)
        As :func:`~churn_core.analytics.clv.customer_clv`: ``customer_id``, ``expected_months``,
        ``clv_usd``, ``revenue_at_risk_12m_usd`` (USD).

    Raises
    ------
    ValueError
        If a survival category holds a level the survival model was not fitted on.
    """
    from churn_core.analytics.clv import customer_clv

    step = max(1, clv_rows)  # sub-chunks bound the (rows × horizon) survival arrays

    def closed_form() -> pd.DataFrame | None:
        parts = [_weibull_clv(clv_model, customers.iloc[i : i + step]) for i in range(0, len(customers), step)]
        return None if not parts or parts[0] is None else pd.concat(parts, ignore_index=True)

    pending = _clv_worker().submit(closed_form)  # numpy's CLV fills the core the ensemble leaves idle
    scored = score_frame(model, customers, economics)
    clv = pending.result()
    if clv is None:  # lifelines' survival curves need far more memory per row than the closed form
        clv = pd.concat([customer_clv(clv_model, customers.iloc[i : i + step]) for i in range(0, len(customers), step)])
    return scored, clv


@functools.cache
def _clv_worker() -> ThreadPoolExecutor:
    """One long-lived CLV thread (a new thread per chunk would leave a malloc arena behind each time)."""
    return ThreadPoolExecutor(1, thread_name_prefix="clv")


def _weibull_clv(clv_model: SurvivalModel, customers: pd.DataFrame) -> pd.DataFrame | None:
    """:func:`~churn_core.analytics.clv.customer_clv` of a Weibull AFT model in closed form; None for other models.

    The curves are :func:`~churn_core.analytics.survival.weibull_conditional_survival` of the
    fitted shape and of each customer's scale, whose linear predictor comes from the fitted
    coefficients of the design-matrix columns.
    """
    from churn_core.analytics.clv import CLVAssumptions, clv_table
    from churn_core.analytics.survival import weibull_conditional_survival

    fitter = getattr(clv_model, "model_", None)
    if clv_model.kind != "weibull" or clv_model.strata or type(fitter).__name__ != "WeibullAFTFitter":
        return None
    lam, rho = fitter.params_.loc["lambda_"], fitter.params_.loc["rho_"]
    if list(rho.index) != ["Intercept"] or "Intercept" not in lam.index:
        return None
    log_lambda = _survival_linear_predictor(clv_model.levels_, lam, customers)
    if log_lambda is None:
        return None
    assumptions = CLVAssumptions()
    tenure = customers["tenure"].clip(lower=0.5).to_numpy(dtype="float64")  # as SurvivalModel: joined this month
    surv = weibull_conditional_survival(tenure, log_lambda, np.exp(rho["Intercept"]), assumptions.horizon_months)
    return clv_table(customers, surv, assumptions)


def _survival_linear_predictor(
    levels: dict[str, list[str]], lam: pd.Series, customers: pd.DataFrame
) -> np.ndarray | None:
    """``log λ`` of every customer from the Weibull coefficients (design-matrix columns ``<category>_<level>``).

    None when a coefficient is not a column :func:`~churn_core.analytics.survival.design_matrix` makes.

    Raises
    ------
    ValueError
        If a category holds a level the model was not fitted on (as ``design_matrix``).
    """
    from churn_core.analytics.survival import SURVIVAL_NUMERIC

    out = np.full(len(customers), float(lam["Intercept"]))
    used = {"Intercept"}
    unseen = {}
    for column, known in levels.items():
        codes, uniques = pd.factorize(customers[column].to_numpy(), use_na_sentinel=False)
        text = [str(u) for u in uniques]
        missing = sorted(set(text) - set(known))
        if missing:
            unseen[column] = missing
            continue
        names = [f"{column}_{v}" for v in text]
        used.update(f"{column}_{v}" for v in known[1:])
        out += np.array([float(lam.get(n, 0.0)) for n in names])[codes]
    if unseen:
        raise ValueError(f"levels not seen when the survival model was fitted: {unseen}")
    numeric = [c for c in SURVIVAL_NUMERIC if c in customers.columns]
    used.update(numeric)
    if set(lam.index) != used:
        return None
    out += customers[numeric].to_numpy(dtype="float64") @ lam[numeric].to_numpy()
    return out


def score_and_explain(
    model: ChurnEnsemble,
    customers: pd.DataFrame,
    explainer: EnsembleExplainer,
    economics: Economics | None = None,
    n_drivers: int = 3,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`score_frame` with drivers and actions, plus the SHAP contributions it used.

    Returns
    -------
    scored : pandas.DataFrame of shape (n_customers, 10)
        As :func:`score_frame` with an explainer.
    contributions : pandas.DataFrame of shape (n_customers, n_features)
        Log-odds SHAP contribution of every feature (see :class:`EnsembleExplainer`).
    """
    scored = score_frame(model, customers, economics)
    X = feature_frame(customers, model.features)
    contributions = explainer.contributions(X)
    ups, downs = top_drivers_table(contributions, n_drivers)
    records = X.to_dict("records")
    scored["drivers_up"] = ["|".join(up) for up in ups]
    scored["drivers_down"] = ["|".join(down) for down in downs]
    scored["actions"] = ["|".join(recommend(rec, set(up))) for rec, up in zip(records, ups, strict=True)]
    return scored, contributions


def score_one(
    model: ChurnEnsemble, customer: pd.Series, explainer: EnsembleExplainer, economics: Economics | None = None
) -> tuple[pd.Series, pd.Series]:
    """Score and explain one customer (the single-customer view and its what-if).

    Parameters
    ----------
    customer : pandas.Series
        One customer with warehouse column names (every model feature).

    Returns
    -------
    (pandas.Series, pandas.Series)
        The :func:`score_and_explain` row (probability, risk score, tier, expected profit in
        USD, drivers, actions) and the SHAP log-odds contribution of each feature.
    """
    scored, contributions = score_and_explain(model, pd.DataFrame([customer]), explainer, economics)
    return scored.iloc[0], contributions.iloc[0]


def prepare_csv(data: bytes, chunk_rows: int = 100_000, source: str = "<upload>") -> pd.DataFrame:
    """Validate a whole CSV file for scoring (chunk by chunk) and return its model inputs.

    Returns
    -------
    pandas.DataFrame of shape (n_customers, 1 + n_features)
        As :func:`prepare_for_scoring`, every chunk stacked (index 0..n-1).

    Raises
    ------
    DataValidationError
        At the first chunk with problems, naming its CSV lines; nothing is returned.
    """
    return pd.concat([prepared for prepared, _ in _prepared_chunks(data, chunk_rows, source)], ignore_index=True)


def score_prepared(
    model: ChurnEnsemble,
    customers: pd.DataFrame,
    economics: Economics | None = None,
    explainer: EnsembleExplainer | None = None,
    chunk_rows: int = 20_000,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """:func:`score_frame` on validated customers (:func:`prepare_csv`), ``chunk_rows`` at a time.

    Parameters
    ----------
    progress : callable(rows_done, rows_total), optional
        Called after each chunk.

    Returns
    -------
    pandas.DataFrame of shape (n_customers, n_score_columns)
    """
    parts, total = [], len(customers)
    for start in range(0, total, chunk_rows):
        parts.append(score_frame(model, customers.iloc[start : start + chunk_rows], economics, explainer))
        if progress is not None:
            progress(min(total, start + chunk_rows), total)
    return pd.concat(parts, ignore_index=True)


def score_csv(
    model: ChurnEnsemble,
    data: bytes,
    chunk_rows: int = 20_000,
    economics: Economics | None = None,
    source: str = "<upload>",
    explainer: EnsembleExplainer | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Validate a whole CSV file (:func:`prepare_csv`), then score it (:func:`score_prepared`).

    Parameters
    ----------
    progress : callable(rows_done, rows_total), optional
        Called after each scored chunk.

    Returns
    -------
    pandas.DataFrame of shape (n_customers, n_score_columns)

    Raises
    ------
    DataValidationError
        If any row breaks the schema (nothing is scored then).
    """
    prepared = prepare_csv(data, max(chunk_rows, 100_000), source)
    return score_prepared(model, prepared, economics, explainer, chunk_rows, progress)


def score_csv_chunks(
    model: ChurnEnsemble,
    data: bytes,
    chunk_rows: int = 100_000,
    economics: Economics | None = None,
    source: str = "<upload>",
    explainer: EnsembleExplainer | None = None,
) -> Iterator[tuple[pd.DataFrame, int]]:
    """Validate and score a CSV file chunk by chunk (with drivers and actions if ``explainer`` is given).

    Yields
    ------
    scored : pandas.DataFrame
        The scored chunk (see :func:`score_frame`).
    rows_done : int
        Rows scored so far (for a progress bar).

    Raises
    ------
    DataValidationError
        At the first chunk with problems (earlier chunks were already yielded).
    """
    for prepared, done in _prepared_chunks(data, chunk_rows, source):
        yield score_frame(model, prepared, economics, explainer), done


def _prepared_chunks(
    data: bytes, chunk_rows: int, source: str, schema: str | None = None
) -> Iterator[tuple[pd.DataFrame, int]]:
    """Read (:func:`~churn_core.data.reading.read_table_chunks`) and validate a file in chunks: (prepared, rows so far).

    ``schema`` (default: detected from each chunk's columns, which are the header's) selects the
    columns checked.
    """
    done = 0
    for chunk in read_table_chunks(data, source, chunk_rows):  # CSV in any usual encoding / separator, or Excel
        raw = canonical_columns(chunk.frame)[0]  # 고객ID, monthly_charges … → the declared raw names
        prepared = prepare_for_scoring(raw, source, schema)
        done += len(raw)
        yield prepared, done


#: The level of add-on services for customers without internet: listed last in choices.
NO_INTERNET_LEVEL = "No internet service"
#: Features a user may change in the single-customer what-if (their values come from the schema).
WHAT_IF_FEATURES: tuple[str, ...] = (
    "contract", "internet_service", "tech_support", "online_security", "payment_method", "offer",
)  # fmt: skip


def what_if_options(feature: str) -> tuple[str, ...]:
    """The values a what-if feature may take, in display order ("No internet service" last).

    Parameters
    ----------
    feature : str
        One of :data:`WHAT_IF_FEATURES`.

    Returns
    -------
    tuple of str
        :func:`churn_core.data.loading.allowed_values`, with the "not applicable" level moved last.

    Raises
    ------
    ValueError
        If ``feature`` has no declared set of values.
    """
    values = allowed_values(feature)
    return tuple(v for v in values if v != NO_INTERNET_LEVEL) + tuple(v for v in values if v == NO_INTERNET_LEVEL)


#: Upper end of the what-if monthly charges input (USD/month): the IBM sample's largest is 118.75.
WHAT_IF_MAX_MONTHLY_USD: float = 500.0

#: Totals the what-if derives from tenure and monthly charges (not inputs): they follow a change
#: of either so the customer stays possible (:func:`what_if_totals`).
WHAT_IF_DERIVED: tuple[str, ...] = (
    "total_charges", "total_long_distance_charges", "total_extra_data_charges", "total_refunds", "total_revenue",
)  # fmt: skip


def what_if_totals(base: pd.Series, customer: pd.Series) -> pd.Series:
    """The what-if customer with its totals made consistent with its tenure and monthly charges.

    When neither changed from ``base`` the customer is returned unchanged. Otherwise, in USD:
    total charges scale with monthly charges × tenure (``monthly × tenure`` when the base had
    none), total long-distance charges are the monthly average × tenure (as in the data),
    extra data charges scale with tenure, refunds are at most the total charges, and total
    revenue is the identity ``charges + extra data + long distance − refunds``. Columns a
    table lacks (the classic schema) are left out.

    Parameters
    ----------
    base : pandas.Series
        The customer as stored (warehouse names).
    customer : pandas.Series
        The same customer with the what-if inputs applied (``tenure`` in months,
        ``monthly_charges`` in USD/month).

    Returns
    -------
    pandas.Series
        A copy of ``customer`` with :data:`WHAT_IF_DERIVED` recomputed.
    """
    out = customer.copy()
    t0, m0 = float(base["tenure"]), float(base["monthly_charges"])
    t1, m1 = float(customer["tenure"]), float(customer["monthly_charges"])
    if (t0, m0) == (t1, m1):
        return out
    has = set(out.index)
    if "total_charges" in has:
        billed = m0 * t0
        out["total_charges"] = float(base["total_charges"]) * m1 * t1 / billed if billed > 0 else m1 * t1
    if {"total_long_distance_charges", "avg_monthly_long_distance_charges"} <= has:
        out["total_long_distance_charges"] = float(base["avg_monthly_long_distance_charges"]) * t1
    if "total_extra_data_charges" in has:
        out["total_extra_data_charges"] = float(base["total_extra_data_charges"]) * t1 / t0 if t0 > 0 else 0.0
    if {"total_refunds", "total_charges"} <= has:
        out["total_refunds"] = min(float(base["total_refunds"]), float(out["total_charges"]))
    if set(WHAT_IF_DERIVED) <= has:
        parts = out[["total_charges", "total_extra_data_charges", "total_long_distance_charges"]].astype(float)
        out["total_revenue"] = float(parts.sum()) - float(out["total_refunds"])
    return out


def codes(joined: str) -> list[str]:
    """The codes of a ``|``-joined score column (``drivers_up``, ``drivers_down``, ``actions``); [] when empty."""
    return [c for c in str(joined).split("|") if c]
