"""Dependencies of the API routes: the settings and the warehouse.

The settings are the ones :func:`api.main.create_app` was given (``app.state.settings``).

Mounted in the Streamlit process (``app.py``), every request uses the process's one
warehouse, shared with the app (:func:`churn_core.studio.shared_warehouse`). Standalone, the
warehouse is opened per request on DuckDB and closed after it: DuckDB lets one process
at a time hold the file, so the API holds it only for the few milliseconds of a write (the
app or a command holding it makes the write wait up to 10 s, then fail: a 503). On BigQuery
one client is shared by every request of the process. Opening never touches the data; the
first query does, inside the route, where a failure becomes a 503.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from churn_core.config import Settings
from churn_core.data.warehouse import Warehouse, open_warehouse


def get_settings(request: Request) -> Settings:
    """The settings of the running app."""
    return request.app.state.settings


def get_warehouse(request: Request) -> Iterator[Warehouse]:
    """The settings' warehouse for one request (see the module docstring); never built here."""
    settings: Settings = request.app.state.settings
    if settings.warehouse_backend == "duckdb" and not request.app.state.in_app_process:
        wh = open_warehouse(settings)
        try:
            yield wh
        finally:
            wh.close()
        return
    yield request.app.state.warehouse  # made by create_app (no connection until the first query)


SettingsDep = Annotated[Settings, Depends(get_settings)]
WarehouseDep = Annotated[Warehouse, Depends(get_warehouse)]
