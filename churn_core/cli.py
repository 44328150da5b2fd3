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


@app.command("train")
def train_command(
    trials: Annotated[int, typer.Option(help="Optuna trials per tuned family.")] = 20,
    evaluate: Annotated[bool, typer.Option(help="Nested 5x3 CV of the ensemble (about 25 min).")] = True,
    grid: Annotated[bool, typer.Option(help="Leaderboard of the whole candidate grid (about 20 min).")] = True,
    repeats: Annotated[int, typer.Option(help="Repeats of the 5-fold CV.")] = 3,
    only_if_missing: Annotated[bool, typer.Option(help="Do nothing if the artifacts exist.")] = False,
) -> None:
    """Train the churn ensemble on the warehouse customers and write models/ (fixed seeds)."""
    from churn_core.business import Economics
    from churn_core.training import artifacts_exist, train

    settings = get_settings()
    if only_if_missing and artifacts_exist(settings.models_dir):
        console.print(f"model artifacts are present in {settings.models_dir}")
        return
    customers = load_customers(settings.raw_customers_csv)
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("training", total=1.0)
        card = train(
            customers, settings.raw_customers_csv, settings.models_dir, tune_trials=trials,
            evaluate=evaluate, grid=grid, n_repeats=repeats, economics=Economics.from_settings(settings),
            progress=lambda frac, msg: progress.update(task, completed=frac, description=msg),
        )  # fmt: skip
    console.print(f"trained in {card['training_seconds']:.0f} s; artifacts in {settings.models_dir}")


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
