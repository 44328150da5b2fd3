"""Command line of the retention studio (``churn-studio``), built with typer.

Examples
--------
``churn-studio warehouse build``       build the DuckDB warehouse if missing or stale
``churn-studio validate FILE.csv``     check a customer file against the schema
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from churn_core.config import get_settings
from churn_core.loading import DataValidationError, load_customers
from churn_core.warehouse import DuckDBWarehouse

app = typer.Typer(help="Multi-Telecom retention studio: data and model commands.", no_args_is_help=True)
warehouse_app = typer.Typer(help="The embedded DuckDB warehouse.", no_args_is_help=True)
app.add_typer(warehouse_app, name="warehouse")
console = Console()


@warehouse_app.command("build")
def warehouse_build(
    force: Annotated[bool, typer.Option(help="Rebuild even if the warehouse is current.")] = False,
) -> None:
    """Validate the raw customer CSV and build the warehouse (skipped if already current)."""
    settings = get_settings()
    wh = DuckDBWarehouse(settings.warehouse_path, settings.raw_customers_csv)
    if not force and wh.is_current():
        console.print(f"warehouse is current: {wh.path}")
        return
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("building warehouse", total=1.0)
            wh.build(lambda frac, msg: progress.update(task, completed=frac, description=msg))
    except DataValidationError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(code=1) from exc
    console.print(f"built {wh.path} ({wh.meta()['n_customers']} customers)")


@app.command("validate")
def validate(path: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Check a customer CSV (extended IBM schema); print every problem, exit 1 if any."""
    try:
        df = load_customers(path)
    except DataValidationError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(code=1) from exc
    console.print(f"{path.name}: {len(df):,} customers, valid")


if __name__ == "__main__":
    app()
