"""Aggregate tables of the EDA ("the cube"), rebuilt with ``customers`` and read instead of it.

At 10 million customers a scan of ``customers`` per EDA query costs seconds on DuckDB and
gigabytes on BigQuery. Every filter of :class:`churn_core.analytics.eda.EdaFilters` is a column
with few values (age group, senior, gender, contract, internet service, payment method, offer,
segment, tenure 0-72 months), so the EDA's figures are sums over *cells* of those columns. The
post-build step :func:`build_eda_cube` (in :data:`churn_core.studio.STUDIO_AFTER_BUILD`) writes,
in the warehouse itself (one ``CREATE OR REPLACE TABLE … AS SELECT`` per table, BigQuery SQL):

* ``eda_cube_cells``   one row per cell: customers, churners, sums and counts of the averaged
  columns, monthly charges of churners, and the shifted moment sums (``Σ(x−c)``, ``Σ(x−c)(y−c)``)
  and minima/maxima of the correlation columns;
* ``eda_cube_levels``  cell × (categorical feature, level): customers and churners;
* ``eda_cube_hist``    cell × (numeric feature, bin, churn flag): customers, with the bins of
  :func:`churn_core.analytics.eda.numeric_histograms` (equal width between the feature's
  minimum and maximum over all customers);
* ``eda_cube_reasons`` cell × (churn category, churn reason) among churners;
* ``eda_cube_meta``    key/value: the build it belongs to (``built_at``, ``raw_sha256``,
  ``n_customers`` of ``_meta``), what it covers, the histogram bounds and moment shifts.

A query uses the cube only when :func:`cube_for` finds it *fresh*: its recorded build keys
equal the warehouse's current ``_meta`` (one small query), the warehouse's ``{customers}`` is
the ``customers`` table itself (an older snapshot, ``Warehouse.at(d)``, renders it to another
table) and it covers the requested columns. Otherwise the EDA runs its plain SQL over
``customers`` — slower, never different numbers. The tables are created by the step rather
than declared in :mod:`churn_core.data.tables`: their columns follow the customer schema
(the classic schema has no age group or offer) and an empty declared stand-in would be useless.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from churn_core.analytics.eda import (
    CATEGORICAL_FEATURES,
    CORRELATION_COLUMNS,
    NUMERIC_FEATURES,
    SEGMENT_MEANS,
    bin_sql,
    histogram_bounds,
)

_log = logging.getLogger(__name__)

#: Bump when the layout of the cube changes: an older cube is then ignored (plain SQL).
CUBE_VERSION = "1"
#: Filter columns of :class:`~churn_core.analytics.eda.EdaFilters`: the cells of the cube.
FILTER_DIMS: tuple[str, ...] = (
    "age_group", "is_senior", "gender", "contract", "internet_service", "payment_method", "offer", "segment",
    "tenure",
)  # fmt: skip
#: Bins of the stored histograms (the EDA page's default).
HIST_BINS = 30
#: Columns averaged by the EDA (senior profile, segment profile): sums and non-null counts per cell.
AVERAGED: tuple[str, ...] = tuple(dict.fromkeys(("monthly_charges", "tenure", "n_services", *SEGMENT_MEANS)))
#: Keys of ``_meta`` a cube is tied to: a rebuild of ``customers`` changes at least one.
BUILD_KEYS: tuple[str, ...] = ("built_at", "raw_sha256", "n_customers")
CELLS, LEVELS, HIST, REASONS, META = (
    "eda_cube_cells", "eda_cube_levels", "eda_cube_hist", "eda_cube_reasons", "eda_cube_meta",
)  # fmt: skip
#: Suffix of the roll-ups over tenure (read when the tenure filter covers every customer: 73× fewer cells).
ALL_TENURE = "_all_tenure"
KINDS: dict[str, str] = {"cells": CELLS, "levels": LEVELS, "hist": HIST, "reasons": REASONS}
_CUSTOMERS_NAME = re.compile(r"(^|[.`\"])customers[`\"]?$")

ProgressFn = Callable[[float, str], None]


@dataclass(frozen=True)
class Cube:
    """A fresh cube of one warehouse: qualified table names and what it covers.

    Attributes
    ----------
    cells, levels, hist, reasons : str
        Qualified table names for SQL text (``reasons`` empty when not built).
    dims : tuple of str
        Filter columns the cells have.
    categorical, numeric, moments, averaged : tuple of str
        Features with level counts, with histograms, correlation columns with moment sums,
        columns with sums for averages.
    hist_bins : int
        Bins of the stored histograms.
    hist_bounds : dict of str to float
        ``lo_<feature>`` / ``hi_<feature>``: the bounds the bins were cut between.
    shifts : dict of str to float
        ``c_<i>``: the shift of correlation column ``i`` (its mean over all customers).
    rollups : dict of str to str
        By kind (``cells``, ``levels``, ``hist``, ``reasons``): the same table summed over tenure
        (empty when not built, e.g. a NULL tenure).
    tenure_lo, tenure_hi : int
        Smallest and largest tenure of the customers.
    """

    cells: str
    levels: str
    hist: str
    reasons: str
    dims: tuple[str, ...]
    categorical: tuple[str, ...]
    numeric: tuple[str, ...]
    moments: tuple[str, ...]
    averaged: tuple[str, ...]
    hist_bins: int
    hist_bounds: dict[str, float]
    shifts: dict[str, float]
    rollups: dict[str, str]
    tenure_lo: int
    tenure_hi: int

    def source(self, kind: str, filters: Any) -> tuple[str, str, dict[str, Any]]:
        """The table of ``kind`` to read for ``filters``, and its ``WHERE`` condition and parameters.

        The roll-up over tenure when the tenure range covers every customer (the page's default),
        else the table with tenure and the full condition of ``filters.where()``.
        """
        if kind in self.rollups and filters.tenure_min <= self.tenure_lo and filters.tenure_max >= self.tenure_hi:
            where, params = filters.where(tenure=False)
            return self.rollups[kind], where, params
        where, params = filters.where()
        return getattr(self, kind), where, params

    def filters_ok(self, filters: Any) -> bool:
        """True if every column ``filters.where()`` may mention is a cell column."""
        used = {"tenure"}
        if filters.senior_only:
            used.add("is_senior")
        for field, column in (
            ("age_groups", "age_group"), ("genders", "gender"), ("contracts", "contract"),
            ("internet_services", "internet_service"), ("payment_methods", "payment_method"), ("offers", "offer"),
            ("segments", "segment"),
        ):  # fmt: skip
            if getattr(filters, field):
                used.add(column)
        return used <= set(self.dims)


def _reads_customers_table(wh: Any) -> bool:
    """True if ``{customers}`` of ``wh`` is the ``customers`` table (not an older snapshot's table)."""
    try:
        rendered = wh.render("{customers}")
        return rendered == wh.table("customers") and bool(_CUSTOMERS_NAME.search(rendered))
    except (AttributeError, KeyError, TypeError):
        return False


def cube_for(wh: Any) -> Cube | None:
    """The warehouse's cube if it is fresh and may be used, else None (the EDA then runs plain SQL).

    Parameters
    ----------
    wh : churn_core.data.warehouse.Warehouse
        Any object with ``query``; without ``render`` / ``table`` (a test double) there is no cube.

    Returns
    -------
    Cube or None
        None when the cube is missing, was built for another build of ``customers``
        (:data:`BUILD_KEYS` of ``_meta`` differ), has another :data:`CUBE_VERSION`, or when
        ``wh`` reads another customers table (``Warehouse.at(d)`` of an older snapshot).
    """
    if not _reads_customers_table(wh):
        return None
    try:
        table = wh.table
        rows = wh.query(
            f"SELECT 'cube' AS src, key, value FROM {table(META)} "
            "UNION ALL SELECT 'build' AS src, key, value FROM {_meta}"
        )
    except Exception as exc:
        _log.debug("no EDA cube: %s", exc)
        return None
    cube = {k: v for s, k, v in rows.itertuples(index=False) if s == "cube"}
    build = {k: v for s, k, v in rows.itertuples(index=False) if s == "build"}
    if cube.get("cube_version") != CUBE_VERSION:
        return None
    if any(cube.get(f"source_{k}") != build.get(k) or build.get(k) is None for k in BUILD_KEYS):
        return None
    return Cube(
        cells=table(CELLS),
        levels=table(LEVELS),
        hist=table(HIST),
        reasons=table(REASONS) if cube.get("reasons") == "true" else "",
        dims=tuple(json.loads(cube["dims"])),
        categorical=tuple(json.loads(cube["categorical"])),
        numeric=tuple(json.loads(cube["numeric"])),
        moments=tuple(json.loads(cube["moments"])),
        averaged=tuple(json.loads(cube["averaged"])),
        hist_bins=int(cube["hist_bins"]),
        hist_bounds={k: float(v) for k, v in json.loads(cube["hist_bounds"]).items()},
        shifts={k: float(v) for k, v in json.loads(cube["shifts"]).items()},
        rollups={k: table(v) for k, v in json.loads(cube["rollups"]).items()},
        tenure_lo=int(cube["tenure_lo"]),
        tenure_hi=int(cube["tenure_hi"]),
    )


def build_eda_cube(wh: Any, progress: ProgressFn | None = None) -> dict[str, Any]:
    """Rebuild the EDA's aggregate tables from ``customers`` (a post-build step, see the module docstring).

    Runs in the warehouse (DuckDB or BigQuery), one statement per table. The cube's metadata
    is dropped first and written last, so a half-built cube is never used. A failure is
    logged and leaves the EDA on plain SQL; it does not undo the build of ``customers``.

    Parameters
    ----------
    wh : churn_core.data.warehouse.Warehouse
        The warehouse whose ``customers`` (and ``_meta``) were just written.
    progress : callable(fraction, message), optional
        Told when the step starts and ends.

    Returns
    -------
    dict
        ``seconds`` (build time), ``rows`` per table (empty and ``error`` set on failure).
    """
    report = progress or (lambda fraction, message: None)
    report(0.9, "building EDA aggregate tables")
    t0 = time.perf_counter()
    try:
        rows = _build(wh)
    except Exception as exc:
        _log.warning("EDA aggregate tables not built (the EDA reads customers instead): %s", exc)
        return {"seconds": time.perf_counter() - t0, "rows": {}, "error": str(exc)}
    seconds = time.perf_counter() - t0
    _log.info("EDA aggregate tables built in %.1f s: %s", seconds, rows)
    report(0.95, "EDA aggregate tables built")
    return {"seconds": seconds, "rows": rows}


def drop_eda_cube(wh: Any) -> None:
    """Drop the cube's tables (the EDA then runs plain SQL)."""
    for name in (META, *KINDS.values(), *(f"{t}{ALL_TENURE}" for t in KINDS.values())):
        wh.execute(f"DROP TABLE IF EXISTS {wh.table(name)}")


def _build(wh: Any) -> dict[str, int]:
    t = wh.table
    wh.execute(f"DROP TABLE IF EXISTS {t(META)}")
    columns = set(wh.schema("customers"))
    build = wh.meta()
    dims = [d for d in FILTER_DIMS if d in columns]
    cats = [c for c in CATEGORICAL_FEATURES if c in columns]
    nums = [c for c in NUMERIC_FEATURES if c in columns]
    averaged = [c for c in AVERAGED if c in columns]
    corr = [c for c in CORRELATION_COLUMNS if c in columns]
    d = ", ".join(dims)

    # column statistics over all customers: histogram bounds, moment shifts, NULLs of correlation columns
    stats = wh.query(
        "SELECT COUNT(*) AS n, "
        + ", ".join(f"COUNT({c}) AS k_{i}, AVG(CAST({c} AS FLOAT64)) AS a_{i}" for i, c in enumerate(corr))
        + " FROM {customers}"
    ).iloc[0]
    moments = [c for i, c in enumerate(corr) if int(stats[f"k_{i}"]) == int(stats["n"]) and int(stats["n"]) > 0]
    shifts = {f"c_{i}": float(stats[f"a_{corr.index(c)}"]) for i, c in enumerate(moments)}
    bounds = histogram_bounds(wh, nums) if nums else None
    hist_bounds = {} if bounds is None else bounds

    # 1. cells
    sums = [f"SUM(CAST({c} AS FLOAT64)) AS sum_{c}, COUNT({c}) AS cnt_{c}" for c in averaged]
    centred = [f"(CAST({c} AS FLOAT64) - @c_{i})" for i, c in enumerate(moments)]
    mom = [f"SUM({x}) AS m_{i}" for i, x in enumerate(centred)]
    mom += [
        f"SUM({centred[i]} * {centred[j]}) AS mm_{i}_{j}" for i in range(len(moments)) for j in range(i, len(moments))
    ]
    mom += [f"MIN(CAST({c} AS FLOAT64)) AS lo_{i}, MAX(CAST({c} AS FLOAT64)) AS hi_{i}" for i, c in enumerate(moments)]
    select = ", ".join(
        [
            d,
            "COUNT(*) AS n",
            "SUM(churn_flag) AS churned",
            "SUM(IF(churn_flag = 1, monthly_charges, 0)) AS mc_churned",
            *sums,
            *mom,
        ]
    )
    wh.execute(f"CREATE OR REPLACE TABLE {t(CELLS)} AS SELECT {select} FROM {{customers}} GROUP BY {d}", shifts)

    # 2. levels: non-cell features in one scan (GROUPING SETS), cell features from the cells
    free = [c for c in cats if c not in dims]
    parts = []
    if free:
        feature = " ".join(f"WHEN GROUPING({f}) = 0 THEN '{f}'" for f in free)
        level = " ".join(f"WHEN GROUPING({f}) = 0 THEN CAST({f} AS STRING)" for f in free)
        sets = ", ".join(f"({d}, {f})" for f in free)
        parts.append(
            f"SELECT {d}, CASE {feature} END AS feature, CASE {level} END AS level, COUNT(*) AS n, "
            f"SUM(churn_flag) AS churned FROM {{customers}} GROUP BY GROUPING SETS ({sets})"
        )
    for f in (c for c in cats if c in dims):
        parts.append(f"SELECT {d}, '{f}' AS feature, CAST({f} AS STRING) AS level, n, churned FROM {t(CELLS)}")
    wh.execute(f"CREATE OR REPLACE TABLE {t(LEVELS)} AS " + " UNION ALL ".join(parts))

    # 3. histograms (bins between the bounds over all customers, as the plain SQL cuts them)
    if nums and bounds is not None:
        binned = ", ".join(f"{bin_sql(f)} AS b_{f}" for f in nums)
        feature = " ".join(f"WHEN GROUPING(b_{f}) = 0 THEN '{f}'" for f in nums)
        bin_ = " ".join(f"WHEN GROUPING(b_{f}) = 0 THEN b_{f}" for f in nums)
        sets = ", ".join(f"({d}, b_{f}, churn_flag)" for f in nums)
        wh.execute(
            f"CREATE OR REPLACE TABLE {t(HIST)} AS SELECT {d}, CASE {feature} END AS feature, "
            f"CASE {bin_} END AS bin, churn_flag, COUNT(*) AS n "
            f"FROM (SELECT {d}, churn_flag, {binned} FROM {{customers}}) GROUP BY GROUPING SETS ({sets})",
            {**bounds, "bins": HIST_BINS},
        )
    else:
        nums = []

    # 4. churn reasons among churners
    reasons = {"churn_category", "churn_reason"} <= columns
    if reasons:
        wh.execute(
            f"CREATE OR REPLACE TABLE {t(REASONS)} AS SELECT {d}, churn_category, churn_reason, COUNT(*) AS n_churned "
            f"FROM {{customers}} WHERE churn_flag = 1 GROUP BY {d}, churn_category, churn_reason"
        )

    built = [CELLS, LEVELS, *([HIST] if nums else []), *([REASONS] if reasons else [])]
    # 5. roll-ups over tenure, from the tables above (small): read while the tenure filter is open
    span = wh.query(
        f"SELECT MIN(tenure) AS lo, MAX(tenure) AS hi, COUNTIF(tenure IS NULL) AS nulls FROM {t(CELLS)}"
    ).iloc[0]
    rollups: dict[str, str] = {}
    rest = [c for c in dims if c != "tenure"]
    if int(span["nulls"]) == 0 and rest and not pd.isna(span["lo"]):
        measures = {name: [c for c in wh.schema(name) if c not in dims] for name in built}
        for kind, name in KINDS.items():
            if name not in built:
                continue
            keys = rest + [c for c in measures[name] if c in ("feature", "level", "bin", "churn_flag")]
            keys += [c for c in measures[name] if c in ("churn_category", "churn_reason")]
            aggs = [_rollup_agg(c) for c in measures[name] if c not in keys]
            wh.execute(
                f"CREATE OR REPLACE TABLE {t(name + ALL_TENURE)} AS SELECT {', '.join(keys + aggs)} "
                f"FROM {t(name)} GROUP BY {', '.join(keys)}"
            )
            rollups[kind] = name + ALL_TENURE
    rows = {
        name: int(wh.query(f"SELECT COUNT(*) AS n FROM {t(name)}").iloc[0]["n"]) for name in (*built, *rollups.values())
    }
    meta = {
        "cube_version": CUBE_VERSION,
        **{f"source_{k}": build.get(k, "") for k in BUILD_KEYS},
        "dims": json.dumps(dims),
        "categorical": json.dumps(cats),
        "numeric": json.dumps(nums),
        "moments": json.dumps(moments),
        "averaged": json.dumps(averaged),
        "hist_bins": str(HIST_BINS),
        "hist_bounds": json.dumps({k: repr(v) for k, v in hist_bounds.items()}),
        "shifts": json.dumps({k: repr(v) for k, v in shifts.items()}),
        "reasons": "true" if reasons else "false",
        "rollups": json.dumps(rollups),
        "tenure_lo": str(int(span["lo"])) if not pd.isna(span["lo"]) else "0",
        "tenure_hi": str(int(span["hi"])) if not pd.isna(span["hi"]) else "0",
        "rows": json.dumps(rows),
    }
    wh.replace_table(META, pd.DataFrame(list(meta.items()), columns=["key", "value"]))
    return rows


def _rollup_agg(column: str) -> str:
    """How a measure of the cube sums over tenure: minima and maxima stay so, counts stay integers."""
    if column.startswith("lo_"):
        return f"MIN({column}) AS {column}"
    if column.startswith("hi_"):
        return f"MAX({column}) AS {column}"
    if column in ("n", "churned", "n_churned") or column.startswith("cnt_"):
        return f"CAST(SUM({column}) AS INT64) AS {column}"
    return f"SUM({column}) AS {column}"
