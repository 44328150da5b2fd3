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
from churn_core.logs import bind_log_context, new_run_id, setup_logging, uvicorn_log_config
from churn_core.studio import open_studio_warehouse

_log = logging.getLogger("churn_core.cli")


class _LoggedTyper(typer.Typer):
    """The ``churn-studio`` app: an unexpected error is logged (JSON, with the run's context) before typer shows it."""

    def __call__(self, *args, **kwargs):
        try:
            return super().__call__(*args, **kwargs)
        except Exception:
            _log.exception("churn-studio failed")
            raise


app = _LoggedTyper(help="Multi-Telecom retention studio: data and model commands.", no_args_is_help=True)
warehouse_app = typer.Typer(help="The warehouse (DuckDB by default, BigQuery by settings).", no_args_is_help=True)
app.add_typer(warehouse_app, name="warehouse")
locations_app = typer.Typer(help="Seoul store and learning-centre locations (the map's table).", no_args_is_help=True)
app.add_typer(locations_app, name="locations")
model_app = typer.Typer(
    help="The churn model: artifacts in models/ (hashes, trusted types) and the registry (versions, champion).",
    no_args_is_help=True,
)
app.add_typer(model_app, name="model")
snapshot_app = typer.Typer(help="Dated customer snapshots (monthly extracts, synthetic month).", no_args_is_help=True)
app.add_typer(snapshot_app, name="snapshot")
from churn_core.outreach.commands import campaign_app  # noqa: E402  plan → send → outcomes → report (issue #15)

app.add_typer(campaign_app, name="campaign")
from churn_core.uplift.commands import uplift_app  # noqa: E402  uplift model: fit → evaluate → audience (issue #15)

app.add_typer(uplift_app, name="uplift")
console = Console()


class _ConsoleNotes(logging.Handler):
    """Print the loader's notes (category values normalised, counted) with a command's output."""

    def emit(self, record: logging.LogRecord) -> None:
        console.print(f"note: {escape(record.getMessage())}")


_notes = logging.getLogger("churn_core.data.loading")
_notes.setLevel(logging.INFO)  # yes → Yes is said, not only logged (nothing changed silently)
_notes.addHandler(_ConsoleNotes(logging.INFO))
logging.getLogger("churn_core.data.warehouse").addHandler(_ConsoleNotes(logging.WARNING))  # an ingest rebuilt over


@app.callback()
def _logging(ctx: typer.Context) -> None:
    # every command: JSON log lines to stderr and data/logs/cli.log (churn_core.logs), one run id per invocation;
    # the human lines above stay on stdout
    setup_logging("cli")  # an unwritable log folder: stderr only (said in the first line)
    # a fresh run: nothing of an earlier invocation in this process (tests, scripts) carries over
    bind_log_context(run_id=new_run_id(), command=ctx.invoked_subcommand, model_version=None)
    _log.info("command started")


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
        _log.exception("command failed")  # with run_id, command, model_version
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
    from churn_core.prediction.registry import load_champion, schema_dir
    from churn_core.prediction.training import MODEL_FILE, model_label

    settings = get_settings()
    wh = open_studio_warehouse(settings)
    wh.ensure_built()
    schema = detect_schema(customer_columns(wh))  # the model trained on the warehouse's schema scores it
    try:
        bundle, version = load_champion(settings, schema)  # the registry's champion (the shipped model at first)
    except (ValueError, FileNotFoundError) as exc:  # ModelFileError, RegistryError: refused or unreadable
        console.print(f"[red]{escape(str(exc))}[/red]")  # headers, values: not markup
        _log.exception("command failed")  # with run_id, command, model_version
        raise typer.Exit(code=1) from exc
    folder = schema_dir(settings, schema) / version
    bind_log_context(model_version=version)  # every later line of this run names the model
    sha = file_sha256(folder / MODEL_FILE)
    label = model_label(bundle.card)
    console.print(f"scoring with champion {version} ({label['name']}, trained {label['version']}), {schema} schema")
    from churn_core.prediction.compiled import scoring_model  # compiled form if `model compile` built it

    fast_model = scoring_model(bundle.model, folder, bundle.background)
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,.0f} customers"))
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("scoring", total=None)
        result = score_warehouse(
            wh, fast_model, sha, Economics.from_settings(settings), chunk_rows or settings.score_chunk_rows,
            settings.max_fit_rows, progress=lambda done, total: progress.update(task, completed=done, total=total),
        )  # fmt: skip
    _log.info("scored %d customers in %.1f s (scoring run %s)", result["n_rows"], result["seconds"], result["run_id"])
    console.print(
        f"run {result['run_id']}: {result['n_rows']:,} customers in {result['seconds']:.1f} s "
        f"({result['customers_per_second']:,.0f}/s) -> {wh.table('scores')}"
    )
    _store_alerts(wh, settings)


def _store_alerts(wh, settings) -> None:
    """Store the latest snapshot's model-health alerts for Home after a scoring run, and print them."""
    from churn_core.monitoring.health import store_latest_alerts

    alerts = store_latest_alerts(wh, settings=settings)
    breaches = [a for a in alerts if a.get("level") == "alert"]
    console.print(f"model health: {len(breaches)} alert(s), {len(alerts) - len(breaches)} warning(s) stored for Home")


@model_app.command("manifest")
def model_manifest() -> None:
    """Record the SHA-256 of every artifact in models/ (only after a deliberate change: the app then loads them)."""
    import json

    from churn_core.prediction.training import write_manifest

    path = write_manifest(get_settings().models_dir)
    for name, digest in json.loads(path.read_text(encoding="utf-8"))["sha256"].items():
        console.print(f"{digest}  {name}")
    console.print(f"wrote {path}")


@model_app.command("compile")
def model_compile(
    bundle: Annotated[
        Path | None, typer.Option(help="One bundle folder (default: every schema's bundle under models_dir).")
    ] = None,
) -> None:
    """Compile a bundle's ensemble for fast scoring (LightGBM with tl2cgen + gcc) into <bundle>/compiled/."""
    from churn_core.prediction.compiled import compile_bundle
    from churn_core.prediction.training import MODEL_FILE, MODEL_SUBDIRS, bundle_dir

    models_dir = get_settings().models_dir
    folders = [bundle] if bundle else [bundle_dir(models_dir, schema) for schema in MODEL_SUBDIRS]
    for folder in folders:
        if not (folder / MODEL_FILE).is_file():
            console.print(f"no model in {folder}: skipped")
            continue
        target = compile_bundle(folder, progress=lambda message: console.print(escape(message)))
        console.print(f"compiled {folder} -> {target}")


# -- model registry and safe retraining (issue #14): churn_core.prediction.registry / retraining --------------
SchemaOption = Annotated[str, typer.Option(help="Which model: extended (IBM, 52 columns) or classic (Kaggle).")]


def _registry_failed(exc: Exception) -> None:
    console.print(f"[red]{escape(str(exc))}[/red]")
    _log.error("command failed: %s", exc)
    raise typer.Exit(code=1) from exc


@model_app.command("list")
def model_list(schema: SchemaOption = "extended") -> None:
    """List the registered model versions: version, training date, held-out or CV ROC-AUC, champion mark."""
    from rich.table import Table

    from churn_core.prediction.registry import list_versions

    try:
        rows = list_versions(get_settings(), schema)
    except (ValueError, OSError) as exc:
        _registry_failed(exc)
    table = Table(title=f"model registry ({schema} schema)", box=None)
    for name in ("", "version", "trained", "ROC-AUC", "PR-AUC", "Brier", "evaluated on"):
        table.add_column(name, no_wrap=True)
    for r in reversed(rows):  # newest registration first
        m = r.get("metrics") or {}

        def num(key: str, m: dict = m) -> str:
            return "–" if m.get(key) is None else f"{m[key]:.4f}"

        evaluated = str(m.get("evaluated_on") or "–")
        evaluated = "nested CV" if evaluated.startswith("nested") else evaluated.replace("snapshot ", "")
        table.add_row("*" if r["champion"] else "", r["version"], str(r.get("trained") or "–")[:10], num("roc_auc"),
                      num("pr_auc"), num("brier"), escape(evaluated))  # fmt: skip
    console.print(table)
    console.print("* = champion (used by the app, the API and `churn-studio score`)")


@model_app.command("promote")
def model_promote(
    version: Annotated[str, typer.Argument(help="A registered version (see `churn-studio model list`).")],
    reason: Annotated[str, typer.Option(help="Why, for the decision history.")] = "promoted by hand",
    schema: SchemaOption = "extended",
) -> None:
    """Make a registered version the champion (its files are checked first)."""
    from churn_core.prediction.registry import promote

    try:
        pointer = promote(version, reason, get_settings(), schema, actor="churn-studio model promote")
    except (ValueError, OSError) as exc:
        _registry_failed(exc)
    console.print(f"champion of the {schema} schema: {pointer['version']} (was {pointer['previous'][-1]})")


@model_app.command("rollback")
def model_rollback(
    reason: Annotated[str, typer.Option(help="Why, for the decision history.")] = "rolled back by hand",
    schema: SchemaOption = "extended",
) -> None:
    """Make the previous champion the champion again (exit 1 with the reason if there is none)."""
    from churn_core.prediction.registry import rollback

    try:
        version = rollback(get_settings(), schema, reason=reason)
    except (ValueError, OSError) as exc:
        _registry_failed(exc)
    console.print(f"champion of the {schema} schema: {version} (rolled back)")


@app.command("retrain")
def retrain_command(
    trials: Annotated[int | None, typer.Option(help="Optuna trials per tuned member (default: settings).")] = None,
    metric: Annotated[str | None, typer.Option(help="Deciding metric: roc_auc or pr_auc (default: settings).")] = None,
    margin: Annotated[float | None, typer.Option(help="Required gain on the metric (default: settings).")] = None,
    max_train_rows: Annotated[int | None, typer.Option(help="Fit on a sample of this many rows (quick runs).")] = None,
) -> None:
    """Train a challenger on the labelled snapshots, compare it with the champion on the newest snapshot, and
    promote it only if it is better by the margin and not worse calibrated.

    Exit codes: 0 promoted, 3 champion kept, 2 not enough labelled snapshots, 1 error.
    """
    from churn_core.prediction.retraining import NotEnoughLabelledData, retrain

    if metric is not None and metric not in ("roc_auc", "pr_auc"):
        raise typer.BadParameter("metric must be roc_auc or pr_auc")
    settings = get_settings()
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    try:
        wh = open_studio_warehouse(settings)
        wh.ensure_built()
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("retraining", total=1.0)
            result = retrain(
                wh, settings, trials=trials, metric=metric, margin=margin, max_train_rows=max_train_rows,
                progress=lambda frac, msg: progress.update(task, completed=frac, description=msg),
            )  # fmt: skip
    except NotEnoughLabelledData as exc:
        console.print(f"[yellow]not enough labelled snapshots: {escape(str(exc))}[/yellow]")
        _log.warning("retrain: not enough labelled data: %s", exc)
        raise typer.Exit(code=2) from exc
    except Exception as exc:  # unattended runs: a clear message, the traceback in the log, exit 1
        console.print(f"[red]retraining failed: {escape(str(exc))}[/red]")
        _log.exception("retrain failed")
        raise typer.Exit(code=1) from exc
    for who, m in (("champion", result.champion_metrics), ("challenger", result.challenger_metrics)):
        version = result.champion_version if who == "champion" else result.challenger_version
        console.print(f"{who:10s} {version}: ROC-AUC {m['roc_auc']:.4f}  PR-AUC {m['pr_auc']:.4f}  "
                      f"Brier {m['brier']:.4f}  (held-out snapshot {result.held_out_snapshot}, "
                      f"{result.n_held_out:,} customers)")  # fmt: skip
    console.print(f"{escape(result.reason)} [{result.seconds:.0f} s]")
    raise typer.Exit(code=result.exit_code)


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
    promote: Annotated[
        bool, typer.Option(help="Register the trained model in the registry and make it the champion.")
    ] = True,
) -> None:
    """Train the churn ensemble on the customer file and write models/ (or models/classic/; fixed seeds).

    The trained model is registered as a new version and, unless ``--no-promote``, made the champion
    (the app, the API and ``score`` use it from then on).
    """
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
        _log.exception("command failed")  # with run_id, command, model_version
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
    from churn_core.prediction import registry

    base = [str(settings.base_snapshot_date)]
    version = registry.register(out_dir, settings, schema, trained_on=base, actor="churn-studio train",
                                reason="trained with churn-studio train (evaluation in its card)")  # fmt: skip
    if promote and registry.champion_version(settings, schema) != version:
        registry.promote(version, "trained with churn-studio train", settings, schema, actor="churn-studio train")
    champion = registry.champion_version(settings, schema)
    console.print(f"registered {version}; champion of the {schema} schema: {champion}")


@app.command("ingest")
def ingest(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A customer CSV (extended or classic).")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Add the file as the customer snapshot of this date (YYYY-MM-DD).")
    ] = None,
    replace: Annotated[bool, typer.Option(help="With --as-of: replace another file registered for that date.")] = False,
) -> None:
    """Validate a customer file (extended IBM or classic Kaggle schema) and rebuild the customers table from it.

    Other tables (scores, contacts, the outreach ledger) are kept. The ingested table is kept
    (app, API, ``score``) until the configured customer file's content or the schema version changes.
    With ``--as-of`` the file is added as a dated snapshot, keeping the earlier ones (see
    :mod:`churn_core.data.snapshots`), and the new snapshot (and the previous one, if never scored) is scored.
    """
    from churn_core.data.ingest import ingest_file

    settings = get_settings()
    if as_of is not None:
        _ingest_snapshot(path, _parse_date(as_of), replace)
        return
    if replace:
        raise typer.BadParameter("--replace needs --as-of")
    wh = open_studio_warehouse(settings)
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("ingesting", total=1.0)
            result = ingest_file(wh, path, lambda frac, msg: progress.update(task, completed=frac, description=msg))
    except DataValidationError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")  # headers, values: not markup
        _log.exception("command failed")  # with run_id, command, model_version
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


def _parse_date(text: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a date YYYY-MM-DD") from exc


def _ingest_snapshot(path: Path, day, replace: bool, is_synthetic: bool = False, drift: str = "") -> None:
    """``ingest --as-of``: add the snapshot, say what changed, then score it (and the previous one if never scored)."""
    import time

    from churn_core.data.snapshots import SnapshotExistsError, ingest_snapshot

    settings = get_settings()
    wh = open_studio_warehouse(settings)
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    started = time.perf_counter()
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("ingesting snapshot", total=1.0)
            result = ingest_snapshot(
                wh, path, day, replace=replace, is_synthetic=is_synthetic, drift=drift,
                progress=lambda frac, msg: progress.update(task, completed=frac, description=msg),
            )  # fmt: skip
    except (DataValidationError, SnapshotExistsError) as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")  # headers, values: not markup
        raise typer.Exit(code=1) from exc
    seconds = time.perf_counter() - started
    if result.status == "unchanged":
        console.print(f"unchanged: {escape(result.changes)}; nothing written")
    else:
        console.print(
            f"{result.status} snapshot {day} ({escape(path.name)}): {result.n_customers:,} customers, "
            f"{result.schema} schema -> {wh.backend} {wh.location} table {result.table_name} in {seconds:.1f} s"
        )
        console.print(f"changes: {escape(result.changes)}")
        if result.previous_date is not None:
            console.print(f"outcomes recorded for snapshot {result.previous_date}: {result.n_outcomes:,} customers")
        console.print("customers is now this snapshot" if result.is_latest else "a later snapshot stays customers")
    _score_snapshots(wh, settings, day, result.previous_date, rescore=result.status != "unchanged")


def _score_snapshots(wh, settings, day, previous, rescore: bool = True) -> None:
    """Score snapshot ``day`` (new or replaced; or never scored) and ``previous`` (if never scored)."""
    from churn_core.monitoring import has_scoring_run
    from churn_core.prediction.batch import score_snapshot

    for d in (previous, day):
        if d is None or (not (rescore and d == day) and has_scoring_run(wh, d)):
            continue
        try:
            summary = score_snapshot(wh, d, settings=settings)
        except (FileNotFoundError, ValueError) as exc:  # no model for the schema, model file refused
            console.print(f"[red]scoring snapshot {d} failed: {escape(str(exc))}[/red]")
            raise typer.Exit(code=1) from exc
        console.print(
            f"scored snapshot {d}: {summary['n_rows']:,} customers in {summary['seconds']:.1f} s with model "
            f"{escape(str(summary.get('model_version', '?')))} (run {escape(str(summary['run_id']))})"
        )
    _store_alerts(wh, settings)


@snapshot_app.command("list")
def snapshot_list() -> None:
    """List the customer snapshots (date, table, file, customers, synthetic, drift), oldest first."""
    from churn_core.data.snapshots import list_snapshots

    wh = open_studio_warehouse()
    wh.ensure_built()
    df = list_snapshots(wh)
    if df.empty:
        console.print("no snapshots")
        return
    for row in df.itertuples(index=False):
        tag = " synthetic" if row.is_synthetic else ""
        drift = f" drift: {row.drift}" if row.drift else ""
        console.print(
            f"{row.snapshot_date}  {row.table_name}  {escape(str(row.raw_file))}  {int(row.n_customers):,} customers  "
            f"{row.customer_schema}{tag}{escape(drift)}", highlight=False,
        )  # fmt: skip


@snapshot_app.command("synthesize")
def snapshot_synthesize(
    drift: Annotated[bool, typer.Option(help="Shift the month: 30% of DSL to fibre, fibre charges +15%.")] = False,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Date of the new snapshot (default: month end after the latest).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the draws (same seed, same file).")] = 0,
) -> None:
    """Generate a synthetic next-month snapshot from the latest one, write it to data/snapshots/ and ingest it.

    Stayers carry over with ``SYN-`` IDs, one more month of tenure and of charges; churn is drawn from
    the champion model's probabilities. Everything synthetic is marked so (see :mod:`churn_core.data.synthetic`).
    """
    from churn_core.data import synthetic
    from churn_core.data.snapshots import latest_snapshot_date, snapshot_frame

    settings = get_settings()
    wh = open_studio_warehouse(settings)
    wh.ensure_built()
    latest = latest_snapshot_date(wh)
    if latest is None:
        console.print("[red]no snapshot to grow from (the warehouse has no registered snapshot)[/red]")
        raise typer.Exit(code=1)
    day = _parse_date(as_of) if as_of else _next_month_end(latest)
    if day <= latest:
        raise typer.BadParameter(f"--as-of must be after the latest snapshot {latest}")
    frame = synthetic.next_month_features(snapshot_frame(wh, latest), drift=drift, seed=seed)
    try:
        probability, version = _champion_probabilities(frame, settings)
    except (FileNotFoundError, ValueError) as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(code=1) from exc
    frame = synthetic.draw_churn(frame, probability, seed)
    tag = "drift" if drift else "nodrift"
    path = synthetic.write_snapshot_csv(frame, settings.snapshots_dir / f"synthetic_{day:%Y%m%d}_{tag}_seed{seed}.csv")
    console.print(
        f"synthetic month {day} from snapshot {latest}: {len(frame):,} customers carried over, "
        f"{int((frame['churn'] == 'Yes').sum()):,} drawn to churn (model {escape(version)}) -> {escape(str(path))}"
    )
    _ingest_snapshot(path, day, replace=False, is_synthetic=True, drift=synthetic.DRIFT_TEXT if drift else "")


def _next_month_end(day):
    import datetime as dt

    first_after = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return (first_after + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


def _champion_probabilities(frame, settings):
    """Churn probabilities of ``frame`` from the registry's champion model, and its version."""
    from churn_core.data.schema import detect_schema
    from churn_core.prediction.features import feature_frame
    from churn_core.prediction.registry import load_champion

    bundle, version = load_champion(settings, detect_schema(frame.columns))
    model = bundle.model
    return model.predict_proba(feature_frame(frame, model.features))[:, 1], str(version)


@app.command("validate")
def validate(path: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Check a customer file (extended IBM or classic Kaggle schema); print every problem, exit 1 if any."""
    try:
        df = load_any_customers(path)
    except DataValidationError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")  # headers, values: not markup
        _log.exception("command failed")  # with run_id, command, model_version
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
        _log.exception("command failed")  # with run_id, command, model_version
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
    setup_logging("api", settings)  # from here on this process is the API: data/logs/api.log
    uvicorn.run(create_app(settings), host=host or settings.api_host, port=port or settings.api_port,
                server_header=False, log_config=uvicorn_log_config(settings.log_level))  # fmt: skip


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
        _log.exception("command failed")  # with run_id, command, model_version
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
