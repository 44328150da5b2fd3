"""How the studio's parts are put together: the warehouse with the derived columns the app uses.

Storage (:mod:`churn_core.data`) computes no analytics of its own; this module wires the
segmentation step of :mod:`churn_core.analytics` into the warehouse build, so that the
app, the commands and the tests open the same warehouse.
"""

from __future__ import annotations

import logging
import threading

from churn_core.analytics.eda_cube import build_eda_cube
from churn_core.analytics.precomputed import precompute as precompute_analytics
from churn_core.analytics.segments import add_segments
from churn_core.config import Settings, get_settings
from churn_core.data.warehouse import Warehouse, open_warehouse

_log = logging.getLogger(__name__)

#: What the build adds to validated customers before writing them (k-means ``segment``).
STUDIO_ENRICH = add_segments


#: Steps run after every build or ingest, once ``customers`` is written (aggregate tables,
#: precomputed survival / CLV / segment tables): each ``step(wh, progress)``.
#: ``CHURN_BUILD_STEPS=false`` leaves them out (pages then compute on first load and say so).
def store_health_alerts(wh: Warehouse, progress=None) -> None:
    """After-build step: the latest snapshot's model-health alerts, stored for Home
    (:func:`churn_core.monitoring.health.store_latest_alerts`).

    A failure is logged as a warning and leaves the build as it is: Home then shows no alert
    until the health page or the next ``score`` / ``ingest`` stores them.
    """
    from churn_core.monitoring.health import store_latest_alerts

    try:
        store_latest_alerts(wh, progress)
    except Exception:  # a build must not fail on its monitoring summary
        _log.warning("model-health alerts not stored after the build", exc_info=True)


STUDIO_AFTER_BUILD: tuple = (
    build_eda_cube,  # EDA aggregate tables (churn_core.analytics.eda_cube)
    precompute_analytics,  # survival, CLV, segments, factor loadings for the pages (churn_core.analytics.precomputed)
    store_health_alerts,  # Home's alert (after precompute, which rewrites analytics_results)
)


def open_studio_warehouse(settings: Settings | None = None) -> Warehouse:
    """The settings' warehouse (DuckDB or BigQuery) whose build adds the ``segment`` column.

    Raises
    ------
    ValueError
        If BigQuery is selected without a project.
    """
    s = settings or get_settings()
    wh = open_warehouse(s, enrich=STUDIO_ENRICH)
    wh.after_build = STUDIO_AFTER_BUILD if s.build_steps else ()
    return wh


_SHARED: dict[str, Warehouse] = {}
_SHARED_LOCK = threading.Lock()


def shared_warehouse(settings: Settings) -> Warehouse:
    """The one warehouse object of this process for ``settings`` (opened once, never closed here).

    The Streamlit app and the API routes mounted in the same process (``app.py``) use it, so
    that they share DuckDB's single read-write connection: DuckDB lets one process at a time
    hold the file, and an opt-out posted while the app is open must be written at once.

    Raises
    ------
    ValueError
        If BigQuery is selected without a project.
    """
    key = settings.model_dump_json()
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = open_studio_warehouse(settings)
        return _SHARED[key]
