"""``churn-locations``: scrape → normalise → geocode → write ``data/locations/``.

Examples
--------
``churn-locations build``                      raw lists in data/raw/locations → data/locations
``churn-locations build --raw-dir ../shared/data/locations``
``churn-locations scrape --source kt --source learning_centre --work-dir data/scrape``
``churn-locations scrape … --build``           and build from what was scraped
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from churn_core.cli import locations_build
from churn_core.config import DATA_DIR, get_settings

app = typer.Typer(help="Seoul store and learning-centre locations.", no_args_is_help=True)
console = Console()


# The build lives in churn_core (``churn-studio locations build``); kept here under its old name too.
app.command("build")(locations_build)


@app.command("scrape")
def scrape_command(
    source: Annotated[list[str], typer.Option(help="kt and/or learning_centre.")] = ["kt", "learning_centre"],  # noqa: B006
    work_dir: Annotated[Path, typer.Option(help="Pages, reports and raw CSVs (resumable).")] = DATA_DIR / "scrape",
    delay: Annotated[float, typer.Option(help="Seconds between pages (politeness).")] = 2.0,
    attempts: Annotated[int, typer.Option(help="Tries per page.")] = 3,
    build: Annotated[bool, typer.Option(help="Build data/locations from the scraped lists.")] = False,
) -> None:
    """Scrape the KT store finder and the 디지털배움터 place list with headless Chromium."""
    from scrapers.driver import make_driver
    from scrapers.run import RunOptions, scrape_kt, scrape_learning_centres

    settings = get_settings()
    work_dir.mkdir(parents=True, exist_ok=True)
    options = RunOptions(delay_s=delay, attempts=attempts)
    driver = make_driver()
    try:
        for name in source:
            if name == "kt":
                report = scrape_kt(driver, settings.kt_store_url, work_dir, options=options)
            elif name == "learning_centre":
                report = scrape_learning_centres(driver, settings.learning_centre_url, work_dir, options=options)
            else:
                raise typer.BadParameter(f"unknown source {name!r}")
            console.print(
                f"{name}: {report.pages_read} pages read, {report.pages_resumed} resumed, "
                f"{report.rows_read} rows, {len(report.failures)} failed pages -> {report.output}"
            )
            for failure in report.failures:
                console.print(f"[red]  page {failure['page']}: {failure['error']}[/red]")
    finally:
        driver.quit()
    if build:
        locations_build(raw_dir=work_dir, out_dir=None, geocoder=None, warehouse=True)


if __name__ == "__main__":
    app()
