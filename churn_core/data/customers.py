"""Customers from the warehouse: by ID, counted, or as a deterministic bounded sample.

Every page, model fit and command that needs customer rows (not aggregates) reads them
through these functions, so that memory stays bounded at millions of customers.
"""

from __future__ import annotations

import pandas as pd

from churn_core.data.loading import DERIVED_COLUMNS, SEGMENT_COLUMN
from churn_core.data.schema import COLUMN_BY_NAME
from churn_core.data.warehouse import Warehouse


def customer_rows(
    wh: Warehouse,
    ids: tuple[str, ...] | None = None,
    columns: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Customers by ID (or every customer), with the given columns (default: all).

    Parameters
    ----------
    ids : tuple of str, optional
        ``customer_id`` values to fetch; None fetches every customer matching the rest.
    columns : tuple of str, optional
        Warehouse column names; checked against the declared schema.

    Raises
    ------
    ValueError
        If a column is not a declared warehouse column.
    """
    select = customer_rows_columns(columns)
    clauses, params = ["TRUE"], {}
    if ids is not None:
        clauses.append("customer_id IN UNNEST(@ids)")
        params["ids"] = list(ids)
    sql = f"SELECT {select} FROM {{customers}} WHERE {' AND '.join(clauses)} ORDER BY customer_id"
    return wh.query(sql, params)


def customer_columns(wh: Warehouse) -> tuple[str, ...]:
    """The columns of the warehouse's ``customers`` table (warehouse names, in table order).

    A warehouse built from a classic Kaggle file has only the classic columns and the derived
    ones they allow (:data:`churn_core.data.schema.SCHEMAS`); pass the result to
    :func:`churn_core.data.schema.detect_schema` to know which.
    """
    return tuple(wh.schema("customers"))


def customer_count(wh: Warehouse, seniors_only: bool = False) -> int:
    """Number of customers (or of seniors) in the warehouse."""
    where = "is_senior" if seniors_only else "TRUE"
    return int(wh.query(f"SELECT COUNT(*) AS n FROM {{customers}} WHERE {where}")["n"].iloc[0])


def customer_sample(
    wh: Warehouse, n: int, seniors_only: bool = False, columns: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """A deterministic sample of at most ``n`` customers (all of them when there are fewer).

    Rows are the ``n`` smallest ``FARM_FINGERPRINT(customer_id)`` values: the same sample on
    every call, spread over the whole table, and computed in the warehouse, so that pages
    and model fits stay bounded in memory at millions of customers.

    Returns
    -------
    pandas.DataFrame of shape (min(n, n_customers), n_columns)
        Ordered by ``customer_id``.

    Raises
    ------
    ValueError
        If a column is not a declared warehouse column.
    """
    cols = customer_rows_columns(columns)
    where = "is_senior" if seniors_only else "TRUE"
    sql = (
        f"SELECT {cols} FROM (SELECT * FROM {{customers}} WHERE {where} "
        "ORDER BY FARM_FINGERPRINT(customer_id) LIMIT @n) ORDER BY customer_id"
    )
    return wh.query(sql, {"n": int(n)})


def customer_rows_columns(columns: tuple[str, ...] | None) -> str:
    """The SELECT list for declared warehouse ``columns`` (``*`` for all).

    Raises
    ------
    ValueError
        If a column is not a declared warehouse column.
    """
    known = set(COLUMN_BY_NAME) | set(DERIVED_COLUMNS) | {SEGMENT_COLUMN}
    cols = list(columns or ())
    unknown = [c for c in cols if c not in known]
    if unknown:
        raise ValueError(f"unknown column(s): {unknown}")
    return ", ".join(cols) if cols else "*"
