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
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from churn_core import geocoding, locations
from churn_core.config import DATA_DIR, get_settings

app = typer.Typer(help="Seoul store and learning-centre locations.", no_args_is_help=True)
console = Console()


def _geocoder(name: str):
    settings = get_settings()
    if name == "offline":
        return None  # fitted on the rows being built
    if name == "kakao":
        if settings.kakao_api_key is None:
            raise typer.BadParameter("set CHURN_KAKAO_API_KEY for the Kakao geocoder")
        inner = geocoding.KakaoGeocoder(settings.kakao_api_key.get_secret_value())
    else:
        inner = geocoding.NominatimGeocoder()
    return geocoding.CachedGeocoder(inner, settings.geocode_cache_path)


@app.command("build")
def build_command(
    raw_dir: Annotated[Path | None, typer.Option(help="Folder of *_raw.csv lists.")] = None,
    out_dir: Annotated[Path | None, typer.Option(help="Output folder.")] = None,
    geocoder: Annotated[str | None, typer.Option(help="offline, kakao or nominatim.")] = None,
    warehouse: Annotated[bool, typer.Option(help="Also load the table into the warehouse.")] = True,
) -> None:
    """Normalise, deduplicate and geocode the raw lists; write locations.csv, rejects.csv, report.json."""
    settings = get_settings()
    raw_dir = raw_dir or settings.raw_locations_dir
    files = sorted(p for p in raw_dir.glob("*_raw.csv") if p.name in locations.RAW_FORMATS)
    if not files:
        console.print(f"[red]no raw lists in {raw_dir}[/red]")
        raise typer.Exit(1)
    frames = [locations.read_raw(p) for p in files]
    columns = (TextColumn("geocoding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("geocoding", total=sum(map(len, frames)))
        result = locations.build(
            frames, _geocoder(geocoder or settings.geocoder), lambda i, n: progress.update(task, completed=i, total=n)
        )
    paths = locations.write(result, out_dir or settings.locations_dir)
    summary = result.summary()
    console.print(f"{summary['rows']} places, precision {summary['precision']}, rejects {summary['rejects']}")
    for note in summary["notes"]:
        console.print(f"note: {note}")
    if warehouse:
        from churn_core.warehouse import open_warehouse

        wh = open_warehouse(settings)
        wh.ensure_built()
        wh.replace_table("locations", result.locations)
        console.print(f"loaded into {wh.backend} {wh.location}: locations")
    console.print(f"wrote {paths['locations']}")


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
        build_command(raw_dir=work_dir, out_dir=None, geocoder=None, warehouse=True)


if __name__ == "__main__":
    app()
