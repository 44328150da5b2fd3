"""Exploratory churn analytics as SQL aggregations pushed down to the warehouse.

Every function takes a warehouse (anything with ``query(sql, params)``, see
:class:`churn_core.data.warehouse.Warehouse`: DuckDB or BigQuery) and :class:`EdaFilters`, runs one query
written in BigQuery standard SQL, and returns a small aggregated DataFrame. Nothing here
reads the whole customer table into memory. Confidence intervals are Wilson score
intervals (Wilson 1927), from ``statsmodels.stats.proportion.proportion_confint``.
"""

from __future__ import annotations

from itertools import combinations_with_replacement
from typing import Any, Protocol

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from churn_core.data.loading import LEVEL_ORDER, TENURE_MAX_MONTHS, allowed_values


class Warehouse(Protocol):
    """What the EDA needs from a warehouse backend."""

    def query(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame: ...


#: Categorical features whose churn rate the EDA shows (warehouse names). Constant
#: columns (country, state, count) and leakage columns are left out.
CATEGORICAL_FEATURES: tuple[str, ...] = (
    "contract", "internet_service", "payment_method", "tenure_band", "age_group", "is_senior",
    "offer", "n_services", "online_security", "tech_support", "online_backup",
    "device_protection", "streaming_tv", "streaming_movies", "streaming_music",
    "unlimited_data", "premium_tech_support", "paperless_billing", "phone_service",
    "multiple_lines", "partner", "dependents", "married", "referred_a_friend", "under_30",
    "gender",
)  # fmt: skip

#: Numeric features shown as distributions split by churn (warehouse names).
NUMERIC_FEATURES: tuple[str, ...] = (
    "tenure", "monthly_charges", "total_charges", "age", "number_of_referrals",
    "avg_monthly_long_distance_charges", "avg_monthly_gb_download", "total_revenue",
    "total_refunds", "total_extra_data_charges", "total_long_distance_charges", "n_services",
)  # fmt: skip

#: Columns of the correlation heatmap: numeric features and the churn flag.
CORRELATION_COLUMNS: tuple[str, ...] = (*NUMERIC_FEATURES, "churn_flag")

#: Features compared between seniors and the rest.
SENIOR_COMPARISON_FEATURES: tuple[str, ...] = (
    "contract", "internet_service", "payment_method", "tech_support", "online_security",
    "tenure_band", "offer",
)  # fmt: skip


class EdaFilters(BaseModel):
    """Filters of the EDA page. An empty selection means "no restriction".

    Attributes
    ----------
    age_groups, genders, contracts, internet_services, payment_methods, offers : tuple of str
        Allowed values of each column (see :func:`allowed_values`).
    segments : tuple of int
        Customer segments (k-means, see :mod:`churn_core.analytics.segments`).
    senior_only : bool
        Keep only customers aged 65 or older.
    tenure_min, tenure_max : int
        Inclusive tenure range in months.
    """

    model_config = ConfigDict(frozen=True)

    age_groups: tuple[str, ...] = ()
    senior_only: bool = False
    genders: tuple[str, ...] = ()
    contracts: tuple[str, ...] = ()
    internet_services: tuple[str, ...] = ()
    payment_methods: tuple[str, ...] = ()
    offers: tuple[str, ...] = ()
    segments: tuple[int, ...] = ()
    tenure_min: int = Field(default=0, ge=0)
    tenure_max: int = Field(default=600, ge=0)

    @model_validator(mode="after")
    def _check(self) -> EdaFilters:
        if self.tenure_min > self.tenure_max:
            raise ValueError("tenure_min must not exceed tenure_max")
        for field, column in _LIST_FILTERS.items():
            unknown = set(getattr(self, field)) - set(allowed_values(column))
            if unknown:
                raise ValueError(f"unknown {column} value(s): {sorted(unknown)}")
        return self

    @classmethod
    def from_widgets(
        cls, senior_only: bool, tenure_low: int, tenure_high: int, segments: tuple[int, ...], lists: dict[str, Any]
    ) -> EdaFilters:
        """Filters from the sidebar widgets: the top of the tenure slider means "that many months or more".

        Parameters
        ----------
        tenure_low, tenure_high : int
            The slider's range in months; ``tenure_high`` equal to
            :data:`churn_core.data.loading.TENURE_MAX_MONTHS` leaves the top open.
        lists : dict of str to sequence
            Chosen values by field name (``age_groups``, ``contracts``, …).
        """
        top = cls.model_fields["tenure_max"].default if tenure_high == TENURE_MAX_MONTHS else tenure_high
        return cls(
            senior_only=senior_only,
            tenure_min=tenure_low,
            tenure_max=top,
            segments=tuple(segments),
            **{k: tuple(v) for k, v in lists.items()},
        )

    def where(self, tenure: bool = True) -> tuple[str, dict[str, Any]]:
        """Return a SQL ``WHERE`` condition (BigQuery dialect) and its parameters.

        Parameters
        ----------
        tenure : bool
            Include the tenure range (False: for tables without tenure, when the range covers every customer).
        """
        clauses = ["tenure BETWEEN @tenure_min AND @tenure_max"] if tenure else []
        params: dict[str, Any] = {"tenure_min": self.tenure_min, "tenure_max": self.tenure_max} if tenure else {}
        if self.senior_only:
            clauses.append("is_senior")
        for field, column in _LIST_FILTERS.items():
            values = getattr(self, field)
            if values:
                clauses.append(f"{column} IN UNNEST(@{field})")
                params[field] = list(values)
        if self.segments:
            clauses.append("segment IN UNNEST(@segments)")
            params["segments"] = [int(s) for s in self.segments]
        return " AND ".join(clauses) or "TRUE", params


_LIST_FILTERS = {
    "age_groups": "age_group",
    "genders": "gender",
    "contracts": "contract",
    "internet_services": "internet_service",
    "payment_methods": "payment_method",
    "offers": "offer",
}


def _cube(wh: Warehouse, filters: EdaFilters) -> Any:
    """The warehouse's fresh aggregate tables (:mod:`churn_core.analytics.eda_cube`) usable for ``filters``, or None."""
    from churn_core.analytics.eda_cube import cube_for

    cube = cube_for(wh)
    return cube if cube is not None and cube.filters_ok(filters) else None


def _checked(columns: tuple[str, ...] | list[str], allowed: tuple[str, ...]) -> list[str]:
    unknown = [c for c in columns if c not in allowed]
    if unknown:
        raise ValueError(f"not an EDA column: {unknown}")
    return list(columns)


def add_rate_ci(df: pd.DataFrame, n: str = "n", k: str = "churned") -> pd.DataFrame:
    """Add ``churn_rate``, ``ci_low`` and ``ci_high`` (Wilson 95 %) to a count table.

    Parameters
    ----------
    df : pandas.DataFrame of shape (n_groups, ...)
        Has integer columns ``n`` (customers) and ``k`` (churned customers).

    Returns
    -------
    pandas.DataFrame of shape (n_groups, ... + 3)
        Rates are fractions in [0, 1]; groups with n == 0 get NaN.
    """
    out = df.copy()
    out[n] = out[n].astype("int64")
    out[k] = out[k].astype("int64")
    valid = out[n] > 0
    out["churn_rate"] = np.nan
    out["ci_low"] = np.nan
    out["ci_high"] = np.nan
    if valid.any():
        from statsmodels.stats.proportion import proportion_confint  # on use: Home's import chain stays light

        total, churned = out.loc[valid, n].to_numpy(), out.loc[valid, k].to_numpy()
        low, high = proportion_confint(churned, total, alpha=0.05, method="wilson")
        out.loc[valid, "churn_rate"] = churned / total
        out.loc[valid, "ci_low"] = low
        out.loc[valid, "ci_high"] = high
    return out


def kpis(wh: Warehouse, filters: EdaFilters | None = None) -> dict[str, float]:
    """Headline figures of the (filtered) customer base.

    Returns
    -------
    dict
        ``customers``, ``churned`` (counts), ``churn_rate`` (fraction),
        ``senior_customers``, ``senior_churn_rate``, ``other_customers``,
        ``other_churn_rate``, ``mrr_lost_usd`` (monthly recurring revenue of churned
        customers, USD/month), ``mrr_usd`` (of all customers, USD/month),
        ``senior_gap_pp`` (seniors' churn rate minus the others', percentage points) and
        ``mrr_lost_share`` (``mrr_lost_usd / mrr_usd``). Rates are NaN for an empty group.
    """
    filters = filters or EdaFilters()
    where, params = filters.where()
    cube = _cube(wh, filters)
    if cube is not None and "is_senior" in cube.dims and "monthly_charges" in cube.averaged:
        table, where, params = cube.source("cells", filters)
        sql = f"""
            SELECT CAST(COALESCE(SUM(n), 0) AS INT64) AS customers,
                   CAST(COALESCE(SUM(churned), 0) AS INT64) AS churned,
                   CAST(COALESCE(SUM(IF(is_senior, n, 0)), 0) AS INT64) AS senior_customers,
                   CAST(COALESCE(SUM(IF(is_senior, churned, 0)), 0) AS INT64) AS senior_churned,
                   COALESCE(SUM(mc_churned), 0) AS mrr_lost_usd,
                   COALESCE(SUM(sum_monthly_charges), 0) AS mrr_usd
            FROM {table} WHERE {where}
        """
    else:
        sql = f"""
            SELECT COUNT(*) AS customers,
                   COALESCE(SUM(churn_flag), 0) AS churned,
                   COUNTIF(is_senior) AS senior_customers,
                   COUNTIF(is_senior AND churn_flag = 1) AS senior_churned,
                   COALESCE(SUM(IF(churn_flag = 1, monthly_charges, 0)), 0) AS mrr_lost_usd,
                   COALESCE(SUM(monthly_charges), 0) AS mrr_usd
            FROM {{customers}} WHERE {where}
        """
    row = wh.query(sql, params).iloc[0].fillna(0)
    n, k = int(row.customers), int(row.churned)
    sn, sk = int(row.senior_customers), int(row.senior_churned)
    on, ok = n - sn, k - sk
    return {
        "customers": n,
        "churned": k,
        "churn_rate": k / n if n else float("nan"),
        "senior_customers": sn,
        "senior_churn_rate": sk / sn if sn else float("nan"),
        "other_customers": on,
        "other_churn_rate": ok / on if on else float("nan"),
        "mrr_lost_usd": float(row.mrr_lost_usd),
        "mrr_usd": float(row.mrr_usd),
        "senior_gap_pp": 100 * (sk / sn - ok / on) if sn and on else float("nan"),
        "mrr_lost_share": float(row.mrr_lost_usd) / float(row.mrr_usd) if row.mrr_usd else float("nan"),
    }


def churn_by_category(
    wh: Warehouse,
    filters: EdaFilters | None = None,
    features: tuple[str, ...] = CATEGORICAL_FEATURES,
) -> pd.DataFrame:
    """Churn rate with counts and Wilson 95 % CI for every level of each feature.

    Returns
    -------
    pandas.DataFrame of shape (n_levels_total, 7)
        Columns ``feature``, ``level`` (str), ``n``, ``churned``, ``churn_rate``,
        ``ci_low``, ``ci_high``; within a feature, ordinal features keep their declared
        order and the others are sorted by churn rate, highest first.
    """
    filters = filters or EdaFilters()
    where, params = filters.where()
    cube = _cube(wh, filters)
    counts = _level_counts(wh, _checked(features, CATEGORICAL_FEATURES), where, params, cube=cube, filters=filters)
    out = add_rate_ci(counts)
    out["level"] = out["level"].str.lower().where(out["feature"] == "is_senior", out["level"])
    out["feature_order"] = out["feature"].map({f: i for i, f in enumerate(features)})
    out["level_order"] = [
        LEVEL_ORDER[f].index(lv) if f in LEVEL_ORDER and lv in LEVEL_ORDER[f] else -rate
        for f, lv, rate in zip(out["feature"], out["level"], out["churn_rate"], strict=True)
    ]
    n_services = out["feature"] == "n_services"
    out.loc[n_services, "level_order"] = out.loc[n_services, "level"].astype(int)
    out = out.sort_values(["feature_order", "level_order"]).drop(columns=["feature_order", "level_order"])
    return out.reset_index(drop=True)


def _level_counts(
    wh: Warehouse,
    features: tuple[str, ...],
    where: str,
    params: dict,
    by: str | None = None,
    cube: Any = None,
    filters: EdaFilters | None = None,
) -> pd.DataFrame:
    """Customers and churners per level of every feature (and of ``by``), in one scan (GROUPING SETS).

    With a usable ``cube`` covering the features, the level counts of its cells are summed instead.
    """
    keys = [by] if by else []
    if not features:
        return pd.DataFrame(columns=[*keys, "feature", "level", "n", "churned"])
    covered = cube is not None and set(features) <= set(cube.categorical) and set(keys) <= set(cube.dims)
    if covered and filters is not None:
        table, where, params = cube.source("levels", filters)
        select_keys = "".join(f"{k}, " for k in keys)
        sql = (
            f"SELECT {select_keys}feature, level, CAST(SUM(n) AS INT64) AS n, CAST(SUM(churned) AS INT64) AS churned "
            f"FROM {table} WHERE {where} AND feature IN UNNEST(@cube_features) "
            f"GROUP BY {select_keys}feature, level"
        )
        out = wh.query(sql, {**params, "cube_features": list(features)})
        return out[[*keys, "feature", "level", "n", "churned"]]
    levels = ", ".join(f"CAST({f} AS STRING) AS l_{f}, GROUPING({f}) AS g_{f}" for f in features)
    sets = ", ".join("(" + ", ".join([*keys, f]) + ")" for f in features)
    select_keys = "".join(f"{k}, " for k in keys)
    sql = (
        f"SELECT {select_keys}{levels}, COUNT(*) AS n, SUM(churn_flag) AS churned "
        f"FROM {{customers}} WHERE {where} GROUP BY GROUPING SETS ({sets})"
    )
    wide = wh.query(sql, params)
    frames = [
        wide.loc[wide[f"g_{f}"] == 0, [*keys, f"l_{f}", "n", "churned"]]
        .rename(columns={f"l_{f}": "level"})
        .assign(feature=f)
        for f in features
    ]
    out = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=[*keys, "feature", "level", "n", "churned"])
    )
    return out[[*keys, "feature", "level", "n", "churned"]]


def feature_spread(by_category: pd.DataFrame, min_n: int = 30) -> pd.DataFrame:
    """Rank features by the spread of their churn rate across levels.

    Parameters
    ----------
    by_category : pandas.DataFrame
        Output of :func:`churn_by_category`.
    min_n : int
        Levels with fewer customers are ignored (their rate is too noisy).

    Returns
    -------
    pandas.DataFrame of shape (n_features, 3)
        ``feature``, ``spread`` (max minus min churn rate, fraction), ``levels``.
    """
    big = by_category[by_category["n"] >= min_n]
    agg = big.groupby("feature")["churn_rate"].agg(["max", "min", "count"])
    out = pd.DataFrame({"feature": agg.index, "spread": agg["max"] - agg["min"], "levels": agg["count"]})
    return out.sort_values("spread", ascending=False).reset_index(drop=True)


def bin_sql(feature: str) -> str:
    """SQL (BigQuery) of the 0-based histogram bin of ``feature``: equal width between ``@lo_<feature>``
    and ``@hi_<feature>``, ``@bins`` bins, the maximum in the last bin, NULL (and a constant feature) in bin 0.

    Shared by :func:`numeric_histograms` and the aggregate tables, so both cut the same bins.
    """
    f = feature
    scaled = f"COALESCE(SAFE_DIVIDE(CAST({f} AS FLOAT64) - @lo_{f}, @hi_{f} - @lo_{f}), 0)"
    return f"LEAST(CAST(FLOOR({scaled} * @bins) AS INT64), @bins - 1)"


def histogram_bounds(wh: Warehouse, features: list[str] | tuple[str, ...]) -> dict[str, float] | None:
    """Minimum and maximum of each numeric feature over all customers (one scan), or None if there are none.

    Returns
    -------
    dict or None
        ``lo_<feature>`` and ``hi_<feature>`` as floats (the feature's unit).
    """
    ranges = wh.query(
        "SELECT "
        + ", ".join(f"CAST(MIN({f}) AS FLOAT64) AS lo_{f}, CAST(MAX({f}) AS FLOAT64) AS hi_{f}" for f in features)
        + " FROM {customers}"
    ).iloc[0]
    if ranges.isna().all():
        return None
    return {f"lo_{f}": float(ranges[f"lo_{f}"]) for f in features} | {
        f"hi_{f}": float(ranges[f"hi_{f}"]) for f in features
    }


def numeric_histograms(
    wh: Warehouse,
    filters: EdaFilters | None = None,
    features: tuple[str, ...] = NUMERIC_FEATURES,
    bins: int = 30,
) -> pd.DataFrame:
    """Histogram counts of numeric features, split by churn, computed in SQL.

    Bins are equal-width between the minimum and maximum of each feature over *all*
    customers (of the warehouse's customer table), so a filtered histogram shares the
    unfiltered one's bins (and the aggregate tables can hold the counts per filter cell).

    Returns
    -------
    pandas.DataFrame
        Columns ``feature``, ``bin`` (int, 0-based), ``churn_flag`` (0/1), ``n``,
        ``bin_low``, ``bin_high`` (in the feature's unit); only non-empty bins.
    """
    filters = filters or EdaFilters()
    where, params = filters.where()
    feats = _checked(features, NUMERIC_FEATURES)
    columns = ["feature", "bin", "churn_flag", "n", "bin_low", "bin_high"]
    cube = _cube(wh, filters)
    if feats and cube is not None and bins == cube.hist_bins and set(feats) <= set(cube.numeric):
        bounds = {k: cube.hist_bounds[k] for f in feats for k in (f"lo_{f}", f"hi_{f}")}
        table, where, params = cube.source("hist", filters)
        sql = (
            f"SELECT feature, bin, churn_flag, CAST(SUM(n) AS INT64) AS n FROM {table} "
            f"WHERE {where} AND feature IN UNNEST(@cube_features) GROUP BY feature, bin, churn_flag"
        )
        out = wh.query(sql, {**params, "cube_features": feats})
    else:
        bounds = histogram_bounds(wh, feats) if feats else None
        if bounds is None:
            return pd.DataFrame(columns=columns)
        # one scan that bins every feature (GROUPING SETS)
        binned = ", ".join(f"{bin_sql(f)} AS b_{f}" for f in feats)
        sets = ", ".join(f"(b_{f}, churn_flag)" for f in feats)
        grouping = ", ".join(f"GROUPING(b_{f}) AS g_{f}" for f in feats)
        sql = (
            f"SELECT {', '.join(f'b_{f}' for f in feats)}, churn_flag, {grouping}, COUNT(*) AS n "
            f"FROM (SELECT {binned}, churn_flag FROM {{customers}} WHERE {where}) GROUP BY GROUPING SETS ({sets})"
        )
        wide = wh.query(sql, {**params, **bounds, "bins": bins})
        parts = [wide[wide[f"g_{f}"] == 0] for f in feats]
        out = pd.concat(
            [
                pd.DataFrame({"feature": f, "bin": p[f"b_{f}"].to_numpy(), "churn_flag": p["churn_flag"].to_numpy(),
                              "n": p["n"].to_numpy()})
                for f, p in zip(feats, parts, strict=True)
            ],
            ignore_index=True,
        )  # fmt: skip
    if out.empty:
        return pd.DataFrame(columns=columns)
    lo = out["feature"].map(lambda f: bounds[f"lo_{f}"])
    hi = out["feature"].map(lambda f: bounds[f"hi_{f}"])
    out["bin"] = out["bin"].fillna(0).astype("int64")
    out["churn_flag"] = out["churn_flag"].astype("int64")
    out["n"] = out["n"].astype("int64")
    width = (hi - lo) / bins
    out["bin_low"] = lo + out["bin"] * width
    out["bin_high"] = out["bin_low"] + width
    return out[columns].sort_values(["feature", "bin", "churn_flag"]).reset_index(drop=True)


def churn_by_tenure(wh: Warehouse, filters: EdaFilters | None = None) -> pd.DataFrame:
    """Churn rate by tenure month with Wilson 95 % CI.

    Returns
    -------
    pandas.DataFrame of shape (n_tenure_values, 6)
        ``tenure`` (months), ``n``, ``churned``, ``churn_rate``, ``ci_low``, ``ci_high``.
    """
    filters = filters or EdaFilters()
    where, params = filters.where()
    cube = _cube(wh, filters)
    if cube is not None:
        sql = f"""SELECT tenure, CAST(SUM(n) AS INT64) AS n, CAST(SUM(churned) AS INT64) AS churned
                  FROM {cube.cells} WHERE {where} GROUP BY tenure ORDER BY tenure"""
    else:
        sql = f"""SELECT tenure, COUNT(*) AS n, SUM(churn_flag) AS churned
                  FROM {{customers}} WHERE {where} GROUP BY tenure ORDER BY tenure"""
    return add_rate_ci(wh.query(sql, params))


def senior_comparison(
    wh: Warehouse,
    filters: EdaFilters | None = None,
    features: tuple[str, ...] = SENIOR_COMPARISON_FEATURES,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seniors (65+) against everyone else.

    Returns
    -------
    profile : pandas.DataFrame of shape (n_groups, 9)
        One row per group (``is_senior`` True/False): ``n``, ``churned``, ``churn_rate``
        and CI, mean ``monthly_charges`` (USD/month), mean ``tenure`` (months), mean
        ``n_services``.
    by_feature : pandas.DataFrame
        ``is_senior``, ``feature``, ``level``, ``n``, ``churned``, ``churn_rate``, CI.
    """
    filters = filters or EdaFilters()
    where, params = filters.where()
    cube = _cube(wh, filters)
    averaged = ("monthly_charges", "tenure", "n_services")
    if cube is not None and "is_senior" in cube.dims and set(averaged) <= set(cube.averaged):
        means = ", ".join(f"SAFE_DIVIDE(SUM(sum_{c}), SUM(cnt_{c})) AS {c}" for c in averaged)
        table, cube_where, cube_params = cube.source("cells", filters)
        profile_sql = f"""
            SELECT is_senior, CAST(SUM(n) AS INT64) AS n, CAST(SUM(churned) AS INT64) AS churned, {means}
            FROM {table} WHERE {cube_where} GROUP BY is_senior ORDER BY is_senior DESC"""
        profile = add_rate_ci(wh.query(profile_sql, cube_params))
    else:
        profile_sql = f"""
            SELECT is_senior, COUNT(*) AS n, SUM(churn_flag) AS churned,
                   AVG(monthly_charges) AS monthly_charges, AVG(tenure) AS tenure,
                   AVG(n_services) AS n_services
            FROM {{customers}} WHERE {where} GROUP BY is_senior ORDER BY is_senior DESC"""
        profile = add_rate_ci(wh.query(profile_sql, params))
    counts = _level_counts(
        wh, _checked(features, CATEGORICAL_FEATURES), where, params, by="is_senior", cube=cube, filters=filters
    )
    by_feature = add_rate_ci(counts)
    return profile, by_feature.sort_values(["feature", "level", "is_senior"]).reset_index(drop=True)


def churn_reasons(wh: Warehouse, filters: EdaFilters | None = None) -> pd.DataFrame:
    """Churn categories and stated reasons among churned customers.

    Returns
    -------
    pandas.DataFrame
        ``churn_category``, ``churn_reason``, ``n`` (churned customers), ``share``
        (fraction of the churned customers in the filter), most frequent first.
    """
    filters = filters or EdaFilters()
    where, params = filters.where()
    cube = _cube(wh, filters)
    if cube is not None and cube.reasons:
        table, where, params = cube.source("reasons", filters)
        sql = f"""SELECT churn_category, COALESCE(churn_reason, 'Unknown') AS churn_reason,
                         CAST(SUM(n_churned) AS INT64) AS n
                  FROM {table} WHERE {where}
                  GROUP BY churn_category, churn_reason ORDER BY n DESC, churn_reason"""
    else:
        sql = f"""SELECT churn_category, COALESCE(churn_reason, 'Unknown') AS churn_reason,
                         COUNT(*) AS n
                  FROM {{customers}} WHERE {where} AND churn_flag = 1
                  GROUP BY churn_category, churn_reason ORDER BY n DESC, churn_reason"""
    out = wh.query(sql, params)
    out["share"] = out["n"] / out["n"].sum() if len(out) else []
    return out


def correlations(
    wh: Warehouse,
    filters: EdaFilters | None = None,
    columns: tuple[str, ...] = CORRELATION_COLUMNS,
) -> pd.DataFrame:
    """Pearson correlation matrix of numeric features and the churn flag, computed in SQL.

    Returns
    -------
    pandas.DataFrame of shape (n_columns, n_columns)
        Symmetric, 1.0 on the diagonal; NaN where a column is constant in the filter.
    """
    cols = _checked(columns, CORRELATION_COLUMNS)
    filters = filters or EdaFilters()
    where, params = filters.where()
    cube = _cube(wh, filters)
    if cube is not None and set(cols) <= set(cube.moments):
        return _cube_correlations(wh, cube, cols, *cube.source("cells", filters))
    # One scan of plain sums (means, then centred cross-products): Pearson's r from moments.
    means = wh.query(
        "SELECT COUNT(*) AS n, "
        + ", ".join(f"AVG(CAST({c} AS FLOAT64)) AS m_{i}" for i, c in enumerate(cols))
        + f" FROM {{customers}} WHERE {where}",
        params,
    ).iloc[0]
    if not means["n"]:
        return pd.DataFrame(np.full((len(cols), len(cols)), np.nan), index=cols, columns=cols)
    centred = [f"(CAST({c} AS FLOAT64) - @m_{i})" for i, c in enumerate(cols)]
    pairs = list(combinations_with_replacement(range(len(cols)), 2))
    select = ", ".join(f"SUM({centred[i]} * {centred[j]}) AS s_{i}_{j}" for i, j in pairs)
    mean_params = {f"m_{i}": float(means[f"m_{i}"]) for i in range(len(cols))}
    row = wh.query(f"SELECT {select} FROM {{customers}} WHERE {where}", {**params, **mean_params}).iloc[0]
    cov = np.zeros((len(cols), len(cols)))
    for i, j in pairs:
        cov[i, j] = cov[j, i] = float(row[f"s_{i}_{j}"])
    return _correlation_frame(cov, cols)


def _cube_correlations(wh: Warehouse, cube: Any, cols: list[str], table: str, where: str, params: dict) -> pd.DataFrame:
    """Pearson's r from the shifted moment sums of the cube's cells: ``n·cov = Σxy − Σx·Σy / n``."""
    idx = [cube.moments.index(c) for c in cols]
    pairs = list(combinations_with_replacement(range(len(cols)), 2))
    mm = [f"SUM(mm_{min(idx[a], idx[b])}_{max(idx[a], idx[b])}) AS s_{a}_{b}" for a, b in pairs]
    select = ", ".join(
        ["CAST(COALESCE(SUM(n), 0) AS INT64) AS n", *(f"SUM(m_{i}) AS m_{a}" for a, i in enumerate(idx)), *mm]
        + [f"MIN(lo_{i}) AS lo_{a}, MAX(hi_{i}) AS hi_{a}" for a, i in enumerate(idx)]
    )
    row = wh.query(f"SELECT {select} FROM {table} WHERE {where}", params).iloc[0]
    n = int(row["n"])
    if not n:
        return pd.DataFrame(np.full((len(cols), len(cols)), np.nan), index=cols, columns=cols)
    m = np.array([float(row[f"m_{a}"]) for a in range(len(cols))])
    cov = np.zeros((len(cols), len(cols)))
    for a, b in pairs:
        cov[a, b] = cov[b, a] = float(row[f"s_{a}_{b}"]) - m[a] * m[b] / n
    constant = np.array([float(row[f"lo_{a}"]) == float(row[f"hi_{a}"]) for a in range(len(cols))])
    cov[constant, :] = 0.0
    cov[:, constant] = 0.0
    return _correlation_frame(cov, cols)


def _correlation_frame(cov: np.ndarray, cols: list[str]) -> pd.DataFrame:
    """Correlation matrix from centred cross-product sums; NaN for (numerically) constant columns."""
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        matrix = cov / np.outer(sd, sd)
    matrix[:, sd <= 1e-12 * max(1.0, float(sd.max()))] = np.nan
    matrix[sd <= 1e-12 * max(1.0, float(sd.max())), :] = np.nan
    np.fill_diagonal(matrix, 1.0)
    return pd.DataFrame(matrix, index=cols, columns=cols)


def filtered_customers(wh: Warehouse, filters: EdaFilters | None = None, limit: int = 1_000) -> pd.DataFrame:
    """Return at most ``limit`` filtered customers (all columns), ordered by ``customer_id``."""
    where, params = (filters or EdaFilters()).where()
    sql = f"SELECT * FROM {{customers}} WHERE {where} ORDER BY customer_id LIMIT @limit"
    return wh.query(sql, {**params, "limit": int(limit)})


def segment_ids(wh: Warehouse) -> list[int]:
    """The customer segments present in the warehouse, ascending."""
    cube = _cube(wh, EdaFilters())
    table = cube.source("cells", EdaFilters())[0] if cube is not None and "segment" in cube.dims else "{customers}"
    return [int(v) for v in wh.query(f"SELECT DISTINCT segment FROM {table} ORDER BY segment")["segment"]]


#: Columns whose mean :func:`segment_profile` reports per segment.
SEGMENT_MEANS: tuple[str, ...] = ("monthly_charges", "total_revenue", "age", "n_services", "tenure")


def segment_profile(
    wh: Warehouse, filters: EdaFilters | None = None, columns: tuple[str, ...] = SEGMENT_MEANS
) -> pd.DataFrame:
    """Per stored k-means segment, computed in the warehouse (one scan).

    Parameters
    ----------
    columns : tuple of str
        Columns of :data:`SEGMENT_MEANS` to average (a classic-schema warehouse has no
        ``total_revenue`` or ``age``).

    Returns
    -------
    pandas.DataFrame of shape (n_segments, 4 + len(columns))
        ``segment``, ``customers``, ``churn_rate`` (0-1), means of ``monthly_charges``
        (USD/month), ``total_revenue`` (USD), ``age`` (years), ``n_services``, ``tenure``
        (months) (those in ``columns``), and ``senior_share`` (0-1): the columns of
        :func:`churn_core.analytics.segments.profile` without CLV.
    """
    filters = filters or EdaFilters()
    where, params = filters.where()
    cols = _checked(columns, SEGMENT_MEANS)
    cube = _cube(wh, filters)
    if cube is not None and {"segment", "is_senior"} <= set(cube.dims) and set(cols) <= set(cube.averaged):
        means = "".join(f"SAFE_DIVIDE(SUM(sum_{c}), SUM(cnt_{c})) AS {c}, " for c in cols)
        table, where, params = cube.source("cells", filters)
        sql = f"""
            SELECT segment, CAST(SUM(n) AS INT64) AS customers, CAST(SUM(churned) AS FLOAT64) / SUM(n) AS churn_rate,
                   {means} CAST(SUM(IF(is_senior, n, 0)) AS FLOAT64) / SUM(n) AS senior_share
            FROM {table} WHERE {where} GROUP BY segment ORDER BY segment"""
        return wh.query(sql, params)
    means = "".join(f"AVG({c}) AS {c}, " for c in cols)
    sql = f"""
        SELECT segment, COUNT(*) AS customers, AVG(churn_flag) AS churn_rate, {means}
               AVG(IF(is_senior, 1.0, 0.0)) AS senior_share
        FROM {{customers}} WHERE {where} GROUP BY segment ORDER BY segment"""
    return wh.query(sql, params)
