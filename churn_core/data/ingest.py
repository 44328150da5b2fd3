"""Ingest a customer file into the warehouse: validate it, then (re)build the ``customers`` table.

``churn-studio ingest FILE`` calls :func:`ingest_file`. The file may follow either schema of
:data:`churn_core.data.schema.SCHEMAS` (the extended IBM file or the classic Kaggle file); the
schema is detected from its header and recorded in the build metadata (``customer_schema``).
Nothing is written unless the whole file is valid, and only ``customers`` (and the build
metadata) is replaced: scores, contacts, consent history and the outreach ledger are kept.

Kept small on purpose: monthly snapshots (``--as-of``) will add a snapshot date to
:class:`IngestResult` and a ``snapshots`` table beside ``customers`` (issue #14).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from churn_core.data.schema import SCHEMAS
from churn_core.data.warehouse import Warehouse

ProgressFn = Callable[[float, str], None]


@dataclass(frozen=True)
class IngestResult:
    """What an ingest did.

    Attributes
    ----------
    path : Path
        The file ingested.
    schema : {"extended", "classic"}
        The schema detected from its header.
    n_customers : int
        Customers now in the ``customers`` table.
    backend, location : str
        The warehouse written (``duckdb`` and its file, or ``bigquery`` and its dataset).
    not_derived : dict of str to str
        Derived columns the schema cannot provide, with the raw column each would need
        (``{"age_group": "Age"}`` for a classic file).
    """

    path: Path
    schema: str
    n_customers: int
    backend: str
    location: str
    not_derived: dict[str, str] = field(default_factory=dict)


def ingest_file(wh: Warehouse, progress: ProgressFn | None = None) -> IngestResult:
    """Validate ``wh``'s customer file and rebuild its ``customers`` table from it (even if current).

    Parameters
    ----------
    wh : Warehouse
        A warehouse opened on the file to ingest (its ``raw_csv``), with the studio's enrich step
        (:func:`churn_core.studio.open_studio_warehouse` of settings whose ``raw_customers_csv``
        is the file).
    progress : callable(fraction in [0, 1], message), optional
        Told of each build step.

    Returns
    -------
    IngestResult

    Raises
    ------
    churn_core.data.loading.DataValidationError
        If the file breaks its schema (every problem with column, CSV lines and reason); the
        warehouse is left as it was.
    """
    wh.build(progress)
    wh.ensure_tables()
    meta = wh.meta()
    schema = meta.get("customer_schema", "extended")
    return IngestResult(
        path=Path(wh.raw_csv),
        schema=schema,
        n_customers=int(meta["n_customers"]),
        backend=wh.backend,
        location=wh.location,
        not_derived=dict(SCHEMAS[schema].not_derivable),
    )
