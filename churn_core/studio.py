"""How the studio's parts are put together: the warehouse with the derived columns the app uses.

Storage (:mod:`churn_core.data`) computes no analytics of its own; this module wires the
segmentation step of :mod:`churn_core.analytics` into the warehouse build, so that the
app, the commands and the tests open the same warehouse.
"""

from __future__ import annotations

from churn_core.analytics.segments import add_segments
from churn_core.config import Settings
from churn_core.data.warehouse import Warehouse, open_warehouse

#: What the build adds to validated customers before writing them (k-means ``segment``).
STUDIO_ENRICH = add_segments


def open_studio_warehouse(settings: Settings | None = None) -> Warehouse:
    """The settings' warehouse (DuckDB or BigQuery) whose build adds the ``segment`` column.

    Raises
    ------
    ValueError
        If BigQuery is selected without a project.
    """
    return open_warehouse(settings, enrich=STUDIO_ENRICH)
