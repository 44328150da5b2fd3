"""Ingest a customer file into the warehouse: validate it, then (re)build the ``customers`` table.

``churn-studio ingest FILE`` calls :func:`ingest_file`. The file may follow either schema of
:data:`churn_core.data.schema.SCHEMAS` (the extended IBM file or the classic Kaggle file); the
schema is detected from its header and recorded in the build metadata (``customer_schema``).
Nothing is written unless the whole file is valid, and only ``customers`` (and the build
metadata) is replaced: scores, contacts, consent history and the outreach ledger are kept.

The rule that keeps an ingest: the build metadata records ``source = "ingest"``, the ingested
file (``raw_file``, ``raw_sha256``) and the SHA-256 of the *configured* raw file at ingest time
(``configured_raw_file``, ``configured_raw_sha256``; ``""`` if it does not exist). The app, the
API and ``churn-studio score`` keep the ingested ``customers`` until the configured file's
content or the schema version changes; then they rebuild from the configured file as before and
log a warning saying so (:meth:`churn_core.data.warehouse.Warehouse.is_current`).

With ``--as-of YYYY-MM-DD`` the file becomes a dated snapshot instead, kept beside the earlier
ones (:func:`churn_core.data.snapshots.ingest_snapshot`, issue #14): same validation, ``customers``
is the latest snapshot, re-ingesting the same file for the same date changes nothing, another file
for an existing date needs ``--replace``, and outcomes are recorded for the previous snapshot.
Without ``--as-of`` (this module) the snapshots are left as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from churn_core.data.schema import SCHEMAS
from churn_core.data.warehouse import SOURCE_INGEST, Warehouse

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


def ingest_meta(wh: Warehouse) -> dict[str, str]:
    """Build metadata an ingest adds: its source and the configured raw file's name and SHA-256 now.

    Parameters
    ----------
    wh : Warehouse
        The configured warehouse (its ``raw_csv`` is the settings' customer file).

    Returns
    -------
    dict of str to str
        ``source``, ``configured_raw_file`` and ``configured_raw_sha256`` (``""`` if the file is missing).
    """
    return {
        "source": SOURCE_INGEST,
        "configured_raw_file": Path(wh.raw_csv).name,
        "configured_raw_sha256": wh.configured_sha256(),
    }


def ingest_file(wh: Warehouse, path: str | Path, progress: ProgressFn | None = None) -> IngestResult:
    """Validate ``path`` and rebuild ``wh``'s ``customers`` table from it (even if current).

    Parameters
    ----------
    wh : Warehouse
        The configured warehouse (:func:`churn_core.studio.open_studio_warehouse`, with the studio's
        enrich step); its ``raw_csv`` stays the configured customer file.
    path : str or Path
        The customer file to ingest (extended or classic schema).
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
    wh.build(progress, source=path, extra_meta=ingest_meta(wh))
    wh.ensure_tables()
    meta = wh.meta()
    schema = meta.get("customer_schema", "extended")
    return IngestResult(
        path=Path(path),
        schema=schema,
        n_customers=int(meta["n_customers"]),
        backend=wh.backend,
        location=wh.location,
        not_derived=dict(SCHEMAS[schema].not_derivable),
    )
