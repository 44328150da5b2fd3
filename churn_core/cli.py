"""Command line of the retention studio (``churn-studio``), built with typer.

Examples
--------
``churn-studio warehouse build``       build the DuckDB warehouse if missing or stale
``churn-studio validate FILE.csv``     check a customer file against the schema
``churn-studio locations build``       raw lists in data/raw/locations → data/locations (also ``churn-locations build``)
``churn-studio model manifest``        record the SHA-256 of the artifacts in models/ after a deliberate change
``churn-studio api``                   serve the prediction API with uvicorn on 127.0.0.1:8502
``churn-studio api-key NAME``          make an API key and print the settings entry with its digest
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from churn_core.config import get_settings
from churn_core.data.loading import DataValidationError, file_sha256, load_any_customers
from churn_core.studio import open_studio_warehouse

app = typer.Typer(help="Multi-Telecom retention studio: data and model commands.", no_args_is_help=True)
warehouse_app = typer.Typer(help="The warehouse (DuckDB by default, BigQuery by settings).", no_args_is_help=True)
app.add_typer(warehouse_app, name="warehouse")
locations_app = typer.Typer(help="Seoul store and learning-centre locations (the map's table).", no_args_is_help=True)
app.add_typer(locations_app, name="locations")
model_app = typer.Typer(help="The churn model's artifacts in models/ (hashes, trusted types).", no_args_is_help=True)
app.add_typer(model_app, name="model")
console = Console()


class _ConsoleNotes(logging.Handler):
    """Print the loader's notes (category values normalised, counted) with a command's output."""

    def emit(self, record: logging.LogRecord) -> None:
        console.print(f"note: {escape(record.getMessage())}")


_notes = logging.getLogger("churn_core.data.loading")
_notes.setLevel(logging.INFO)  # yes → Yes is said, not only logged (nothing changed silently)
_notes.addHandler(_ConsoleNotes(logging.INFO))
logging.getLogger("churn_core.data.warehouse").addHandler(_ConsoleNotes(logging.WARNING))  # an ingest rebuilt over


@warehouse_app.command("build")
def warehouse_build(
    force: Annotated[bool, typer.Option(help="Rebuild even if the warehouse is current.")] = False,
) -> None:
    """Validate the raw customer CSV and build the warehouse (skipped if already current)."""
    wh = open_studio_warehouse()
    if not force and wh.is_current():
        wh.ensure_tables()
        console.print(f"warehouse is current: {wh.backend} {wh.location}")
        return
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("building warehouse", total=1.0)
            wh.build(lambda frac, msg: progress.update(task, completed=frac, description=msg))
            wh.ensure_tables()
    except DataValidationError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")  # headers, values: not markup
        raise typer.Exit(code=1) from exc
    console.print(f"built {wh.backend} {wh.location} ({wh.meta()['n_customers']} customers)")


@warehouse_app.command("info")
def warehouse_info() -> None:
    """Print the backend, location, build metadata and row count of every table."""
    from churn_core.data.tables import TABLES

    wh = open_studio_warehouse()
    console.print(wh.describe())
    console.print(wh.meta())
    for name in ("customers", *TABLES):
        n = wh.query(f"SELECT COUNT(*) AS n FROM {{{name}}}")["n"].iloc[0] if wh.table_exists(name) else "missing"
        console.print(f"{name:12s} {n}")


@app.command("score")
def score_command(
    chunk_rows: Annotated[int, typer.Option(help="Customers per chunk (bounds memory).")] = 0,
) -> None:
    """Score every warehouse customer (churn probability, risk tier, CLV) into the scores table."""
    from churn_core.data.customers import customer_columns
    from churn_core.data.schema import detect_schema
    from churn_core.prediction.batch import score_warehouse
    from churn_core.prediction.business import Economics
    from churn_core.prediction.training import MODEL_FILE, ModelFileError, bundle_dir, load_schema_bundle, model_label

    settings = get_settings()
    wh = open_studio_warehouse(settings)
    wh.ensure_built()
    schema = detect_schema(customer_columns(wh))  # the model trained on the warehouse's schema scores it
    try:
        bundle = load_schema_bundle(schema, settings.models_dir)
    except (ModelFileError, FileNotFoundError) as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")  # headers, values: not markup
        raise typer.Exit(code=1) from exc
    sha = file_sha256(bundle_dir(settings.models_dir, schema) / MODEL_FILE)
    label = model_label(bundle.card)
    console.print(f"scoring with {label['name']} (trained {label['version']}) on the {schema} schema")
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,.0f} customers"))
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("scoring", total=None)
        result = score_warehouse(
            wh, bundle.model, sha, Economics.from_settings(settings), chunk_rows or settings.score_chunk_rows,
            settings.max_fit_rows, progress=lambda done, total: progress.update(task, completed=done, total=total),
        )  # fmt: skip
    console.print(
        f"run {result['run_id']}: {result['n_rows']:,} customers in {result['seconds']:.1f} s "
        f"({result['customers_per_second']:,.0f}/s) -> {wh.table('scores')}"
    )


@model_app.command("manifest")
def model_manifest() -> None:
    """Record the SHA-256 of every artifact in models/ (only after a deliberate change: the app then loads them)."""
    import json

    from churn_core.prediction.training import write_manifest

    path = write_manifest(get_settings().models_dir)
    for name, digest in json.loads(path.read_text(encoding="utf-8"))["sha256"].items():
        console.print(f"{digest}  {name}")
    console.print(f"wrote {path}")


@app.command("train")
def train_command(
    trials: Annotated[int, typer.Option(help="Optuna trials per tuned family.")] = 20,
    evaluate: Annotated[bool, typer.Option(help="Nested repeated 5-fold CV of the ensemble (about 25 min).")] = True,
    grid: Annotated[bool, typer.Option(help="Leaderboard of the whole candidate grid (about 20 min).")] = True,
    repeats: Annotated[int, typer.Option(help="Repeats of the 5-fold CV.")] = 3,
    only_if_missing: Annotated[bool, typer.Option(help="Do nothing if the artifacts exist.")] = False,
    schema: Annotated[
        str, typer.Option(help="Feature set: extended (models/) or classic (the 19 Kaggle columns, models/classic/).")
    ] = "extended",
) -> None:
    """Train the churn ensemble on the customer file and write models/ (or models/classic/; fixed seeds)."""
    from churn_core.prediction.business import Economics
    from churn_core.prediction.features import FEATURE_SETS
    from churn_core.prediction.training import artifacts_exist, bundle_dir, train

    settings = get_settings()
    try:
        out_dir = bundle_dir(settings.models_dir, schema)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if only_if_missing and artifacts_exist(out_dir):
        console.print(f"model artifacts are present in {out_dir}")
        return
    try:
        customers = load_any_customers(settings.raw_customers_csv)
    except DataValidationError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")  # headers, values: not markup
        raise typer.Exit(code=1) from exc
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    if any(f not in customers.columns for f in FEATURE_SETS[schema]):
        console.print(f"[red]{settings.raw_customers_csv.name} lacks the {schema} features: use --schema classic[/red]")
        raise typer.Exit(code=1)
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("training", total=1.0)
        card = train(
            customers, settings.raw_customers_csv, out_dir, tune_trials=trials,
            evaluate=evaluate, grid=grid, n_repeats=repeats, economics=Economics.from_settings(settings),
            progress=lambda frac, msg: progress.update(task, completed=frac, description=msg), schema=schema,
        )  # fmt: skip
    console.print(f"trained in {card['training_seconds']:.0f} s; artifacts in {out_dir}")


@app.command("ingest")
def ingest(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A customer CSV (extended or classic).")],
) -> None:
    """Validate a customer file (extended IBM or classic Kaggle schema) and rebuild the customers table from it.

    Other tables (scores, contacts, the outreach ledger) are kept. The ingested table is kept
    (app, API, ``score``) until the configured customer file's content or the schema version changes.
    """
    from churn_core.data.ingest import ingest_file

    settings = get_settings()
    wh = open_studio_warehouse(settings)
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("ingesting", total=1.0)
            result = ingest_file(wh, path, lambda frac, msg: progress.update(task, completed=frac, description=msg))
    except DataValidationError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")  # headers, values: not markup
        raise typer.Exit(code=1) from exc
    console.print(
        f"ingested {escape(path.name)}: {result.n_customers:,} customers, {result.schema} schema -> "
        f"{result.backend} {result.location}"
    )
    if result.not_derived:
        missing = ", ".join(f"{c} (needs {n})" for c, n in result.not_derived.items())
        console.print(f"not derivable from this file: {missing}")
    if settings.raw_customers_csv.resolve() != path.resolve():
        console.print(
            f"kept until {escape(settings.raw_customers_csv.name)} (the configured file) changes; "
            "then the app and `score` rebuild customers from it"
        )


@app.command("validate")
def validate(path: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Check a customer file (extended IBM or classic Kaggle schema); print every problem, exit 1 if any."""
    try:
        df = load_any_customers(path)
    except DataValidationError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")  # headers, values: not markup
        raise typer.Exit(code=1) from exc
    console.print(f"{escape(path.name)}: {len(df):,} customers, valid ({df.attrs['schema']} schema)")


@app.command("user-hash")
def user_hash(
    username: Annotated[str, typer.Argument(help="Staff user name.")],
    role: Annotated[str, typer.Option(help="analyst, marketer or staff.")] = "staff",
) -> None:
    """Print a CHURN_STAFF_USERS entry with an Argon2id hash of a password typed at the prompt."""
    import json

    from churn_core.auth import ROLE_PERMISSIONS, hash_password

    if role not in ROLE_PERMISSIONS:
        raise typer.BadParameter(f"role must be one of {sorted(ROLE_PERMISSIONS)}")
    password = typer.prompt("password (12+ characters)", hide_input=True, confirmation_prompt=True)
    try:
        entry = {username: {"password_hash": hash_password(password), "role": role}}
    except ValueError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")  # headers, values: not markup
        raise typer.Exit(code=1) from exc
    console.print("Add to .env (merge with existing users):")
    console.print(f"CHURN_STAFF_USERS='{json.dumps(entry)}'", highlight=False, soft_wrap=True)


@app.command("api")
def api_command(
    host: Annotated[str | None, typer.Option(help="Address (default: settings api_host, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: settings api_port, 8502).")] = None,
) -> None:
    """Serve the HTTP API (predictions, model card, health, opt-out) with uvicorn on 127.0.0.1."""
    import uvicorn

    from api.main import create_app

    settings = get_settings()
    uvicorn.run(create_app(settings), host=host or settings.api_host, port=port or settings.api_port,
                server_header=False)  # fmt: skip


@app.command("api-key")
def api_key(
    name: Annotated[str, typer.Argument(help="Name of the client the key is for (e.g. crm).")],
) -> None:
    """Make a new API key: print the key once and the CHURN_API_KEYS entry holding only its digest."""
    import json

    from api.keys import generate_api_key, hash_api_key

    key = generate_api_key()
    console.print(f"API key for {name} (shown only now; send it in the X-API-Key header):")
    console.print(key, highlight=False, soft_wrap=True)
    console.print("Add to .env (merge with existing keys; revoke by removing the entry or listing the name in "
                  "CHURN_API_REVOKED_KEYS):")  # fmt: skip
    console.print(f"CHURN_API_KEYS='{json.dumps({name: hash_api_key(key)})}'", highlight=False, soft_wrap=True)


@app.command("demo-accounts")
def demo_accounts(
    reset: Annotated[bool, typer.Option(help="Make new passwords even if the demo accounts exist.")] = False,
) -> None:
    """Say how to sign in; without configured accounts, make one demo account per role (passwords printed once)."""
    from churn_core.auth import DEMO_USERS, create_demo_accounts

    settings = get_settings()
    if settings.staff_users or settings.oidc_roles:
        console.print("sign in with an account of CHURN_STAFF_USERS or CHURN_OIDC_ROLES (see the README)")
        return
    path = settings.demo_accounts_file
    passwords = create_demo_accounts(path, replace=reset)
    if passwords is None:
        console.print(f"demo accounts {', '.join(DEMO_USERS)}: passwords were printed when {path} was made")
        console.print("forgot them? churn-studio demo-accounts --reset")
        return
    console.print(f"[bold]Demo accounts[/bold] (hashes only in {path}; these passwords are shown only now):")
    for name, password in passwords.items():
        console.print(f"  {name:15s} {password}   role {DEMO_USERS[name]}", highlight=False)


@locations_app.command("build")
def locations_build(
    raw_dir: Annotated[Path | None, typer.Option(help="Folder of *_raw.csv lists.")] = None,
    out_dir: Annotated[Path | None, typer.Option(help="Output folder.")] = None,
    geocoder: Annotated[str | None, typer.Option(help="offline, kakao or nominatim.")] = None,
    warehouse: Annotated[bool, typer.Option(help="Also load the table into the warehouse.")] = True,
) -> None:
    """Normalise, deduplicate and geocode the raw lists; write locations.csv, rejects.csv, report.json."""
    from rich.progress import MofNCompleteColumn

    from churn_core.geo import geocoding, locations

    settings = get_settings()
    try:
        coder = geocoding.geocoder_from_settings(geocoder or settings.geocoder, settings)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    columns = (TextColumn("geocoding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("geocoding", total=None)
            result = locations.build_from_dir(
                raw_dir or settings.raw_locations_dir,
                coder,
                lambda i, n: progress.update(task, completed=i, total=n),
            )
    except FileNotFoundError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")  # headers, values: not markup
        raise typer.Exit(1) from exc
    paths = locations.write(result, out_dir or settings.locations_dir)
    summary = result.summary()
    console.print(f"{summary['rows']} places, precision {summary['precision']}, rejects {summary['rejects']}")
    for note in summary["notes"]:
        console.print(f"note: {note}")
    if warehouse:
        wh = open_studio_warehouse(settings)
        wh.ensure_built()
        wh.replace_table("locations", result.locations)
        console.print(f"loaded into {wh.backend} {wh.location}: locations")
    console.print(f"wrote {paths['locations']}")


if __name__ == "__main__":
    app()
