"""``churn-studio campaign``: a campaign from plan to send, outcomes and the treated-vs-control report.

Examples
--------
``churn-studio campaign plan 202611-pilot --all-active --control-share 0.5``
    a randomized pilot over every active customer with consent (half held out as control)
``churn-studio campaign plan 202611-seniors``
    at-risk seniors, like the outreach page (control share from the settings)
``churn-studio campaign send 202611-pilot``
    the outbox only, unless channel credentials are configured (``--outbox-only`` forces it)
``churn-studio campaign simulate-outcomes 202611-pilot --effect m2m_only --seed 1``
    SIMULATED outcomes from a documented treatment-effect assumption (labelled simulated everywhere)
``churn-studio campaign import-outcomes outcomes.csv``
    observed outcomes: ``customerID, churned, observed_at``
``churn-studio campaign from-snapshots 202611-pilot``
    observed outcomes from the customer snapshots ingested after the campaign
``churn-studio campaign report 202611-pilot --csv report.csv``
    churn of treated vs control with 95 % intervals, p-value, customers kept, costs, net effect (USD)
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape

from churn_core.config import get_settings
from churn_core.studio import open_studio_warehouse

_log = logging.getLogger("churn_core.cli")
console = Console()
campaign_app = typer.Typer(
    help="Outreach campaigns: plan, send (outbox), outcomes (snapshots, file, simulated) and the report.",
    no_args_is_help=True,
)


def _fail(exc: Exception) -> None:
    console.print(f"[red]{escape(str(exc))}[/red]")  # ids, file values: not markup
    _log.exception("command failed")
    raise typer.Exit(code=1) from exc


def _latest_scores(wh) -> pd.DataFrame:
    """``customer_id``, ``churn_probability``, ``risk_tier`` of the latest scoring run (empty without one)."""
    from churn_core.prediction.batch import latest_run

    run = latest_run(wh) if wh.table_exists("model_runs") else None
    if run is None:
        return pd.DataFrame(columns=["customer_id", "churn_probability", "risk_tier"])
    return wh.query(
        "SELECT customer_id, churn_probability, risk_tier FROM {scores} WHERE run_id = @r", {"r": str(run["run_id"])}
    )


def _at_risk(wh, settings, all_active: bool) -> pd.DataFrame:
    """The candidates: every active customer (pilot) or the at-risk seniors, as the page has them."""
    from churn_core.prediction.at_risk import at_risk_seniors_in_warehouse
    from churn_core.prediction.batch import latest_run

    if all_active:
        has_churn = "churn" in wh.schema("customers")
        where = "churn IS NULL OR churn != 'Yes'" if has_churn else "TRUE"
        active = wh.query(f"SELECT customer_id FROM {{customers}} WHERE {where}")
        scores = _latest_scores(wh)
        out = active.merge(scores, on="customer_id", how="left")
        return out.assign(risk_tier=out["risk_tier"].fillna("high"))  # the standard template without a score
    run = latest_run(wh) if wh.table_exists("model_runs") else None
    model = None
    if run is None:  # no `churn-studio score` run: score the seniors of the sample with the champion
        from churn_core.data.customers import customer_columns
        from churn_core.data.schema import detect_schema
        from churn_core.prediction.registry import load_champion

        model = load_champion(settings, detect_schema(customer_columns(wh)))[0].model
    return at_risk_seniors_in_warehouse(wh, model, None if run is None else str(run["run_id"]),
                                        sample_rows=settings.max_fit_rows)  # fmt: skip


def _book(wh, settings):
    from churn_core.data.customers import customer_sample
    from churn_core.outreach.contacts import contact_book

    seniors = customer_sample(wh, settings.max_fit_rows, seniors_only=True, columns=("customer_id",))
    places = _places(wh)
    return contact_book(wh, seniors, gus=tuple(sorted(places["gu"].dropna().unique())) if len(places) else ())


def _places(wh) -> pd.DataFrame:
    if not wh.table_exists("locations"):
        return pd.DataFrame(columns=["source", "place_type", "name", "address", "phone", "gu", "lat", "lon"])
    return wh.query("SELECT * FROM {locations}")


@campaign_app.command("plan")
def plan_command(
    campaign: Annotated[str, typer.Argument(help="Campaign id (e.g. 202611-pilot).")],
    channel: Annotated[str, typer.Option(help="Channel code: sms, sms_kr, alimtalk, brand or email.")] = "sms",
    control_share: Annotated[
        float | None, typer.Option(help="Share held out as the control group, 0-0.9 (default: settings).")
    ] = None,
    all_active: Annotated[
        bool, typer.Option("--all-active", help="Every active customer (a randomized pilot), not at-risk seniors.")
    ] = False,
    consented_only: Annotated[
        bool, typer.Option(help="Only customers whose consent on the channel is in force (as the page).")
    ] = True,
    by: Annotated[str, typer.Option(help="Who planned it (recorded in the ledger).")] = "cli",
) -> None:
    """Add a campaign's audience to the outbox ledger once, with a random control group."""
    from churn_core.data.customers import customer_columns
    from churn_core.outreach import campaigns, compliance

    settings = get_settings()
    share = settings.control_share if control_share is None else control_share
    if not 0 <= share < 0.9:
        _fail(ValueError(f"--control-share must be in [0, 0.9), not {share}"))
    wh = open_studio_warehouse(settings)
    wh.ensure_built()
    wh.ensure_tables()
    try:
        candidates = _at_risk(wh, settings, all_active)
        columns = [c for c in ("customer_id", "age_group", "segment") if c in customer_columns(wh)]
        customers = wh.query(f"SELECT {', '.join(columns)} FROM {{customers}}")
        for missing in {"age_group", "segment"} - set(columns):
            customers[missing] = pd.NA
        audience = campaigns.build_audience(candidates, customers, _book(wh, settings), channel,
                                            consented_only=consented_only)  # fmt: skip
        if audience.empty:
            raise ValueError(f"no customer for campaign {campaign!r} on {channel} (consent in force required)")
        result = campaigns.plan(wh, campaign, audience, channel, share, by, dt.datetime.now(dt.UTC),
                                templates=compliance.load_templates(settings.templates_dir))  # fmt: skip
    except (ValueError, KeyError, FileNotFoundError) as exc:
        _fail(exc)
    kind = "every active customer" if all_active else "at-risk seniors"
    console.print(
        f"campaign {escape(campaign)} on {escape(channel)} ({kind}): {result['added']:,} added, "
        f"{result['control']:,} of them in the control group, {result['already_planned']:,} already planned"
    )


@campaign_app.command("send")
def send_command(
    campaign: Annotated[str, typer.Argument(help="Campaign id.")],
    channel: Annotated[str, typer.Option(help="Channel code the campaign was planned on.")] = "sms",
    outbox_only: Annotated[
        bool, typer.Option("--outbox-only", help="Record messages in the outbox, never call a provider.")
    ] = False,
) -> None:
    """Send the campaign's due messages: the outbox only unless the channel's credentials are configured."""
    from churn_core.outreach import campaigns, compliance

    settings = get_settings()
    wh = open_studio_warehouse(settings)
    wh.ensure_tables()
    impl = campaigns.OutboxOnlyChannel(channel) if outbox_only else campaigns.channel_from_settings(channel, settings)
    book = _book(wh, settings)
    values = campaigns.personal_values(book, _places(wh))
    options = campaigns.SendOptions(rate_per_s=settings.send_rate_per_s)
    try:
        counts = campaigns.send(wh, campaign, impl, campaigns.sender_from_settings(settings), book, values,
                                options, compliance.load_templates(settings.templates_dir))  # fmt: skip
    except (ValueError, LookupError) as exc:
        _fail(exc)
    where = "sent through the provider" if impl.real else "recorded in the outbox (not sent: no credentials)"
    console.print(f"campaign {escape(campaign)} on {escape(channel)}: messages {where}")
    console.print(", ".join(f"{k} {v:,}" for k, v in counts.items()))


@campaign_app.command("simulate-outcomes")
def simulate_command(
    campaign: Annotated[str, typer.Argument(help="Campaign id.")],
    effect: Annotated[
        str, typer.Option(help="Treatment-effect assumption: m2m_only, uniform or none (see README).")
    ] = "m2m_only",
    seed: Annotated[int, typer.Option(help="Seed of the draw.")] = 0,
) -> None:
    """SIMULATE a campaign's outcomes from a treatment-effect assumption (labelled simulated everywhere)."""
    from churn_core.outreach import outcomes

    wh = open_studio_warehouse()
    try:
        done = outcomes.simulate_outcomes(wh, campaign, effect, seed)
    except (ValueError, KeyError, LookupError) as exc:
        _fail(exc)
    effects = ", ".join(f"{k} {v:.0%}" for k, v in outcomes.TREATMENT_EFFECTS[effect].items())
    console.print(
        f"SIMULATED outcomes for {escape(campaign)}: {done.written:,} customers, assumption {effect} "
        f"(relative churn reduction {effects}), seed {seed}; ids {outcomes.SIMULATED_PREFIX}…, not observed churn"
    )


@campaign_app.command("import-outcomes")
def import_command(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV or Excel: customerID, churned, observed_at.")
    ],
    campaign: Annotated[str | None, typer.Option(help="Only this campaign (default: every campaign).")] = None,
) -> None:
    """Import observed outcomes; a bad file is refused whole (rows and columns named), nothing written."""
    from churn_core.data.loading import DataValidationError
    from churn_core.outreach import outcomes

    wh = open_studio_warehouse()
    wh.ensure_tables()
    try:
        done = outcomes.import_outcomes(wh, file, campaign)
    except (DataValidationError, LookupError) as exc:
        _fail(exc)
    console.print(f"{done.written:,} outcomes recorded for {len(done.campaigns)} campaign(s): "
                  f"{escape(', '.join(done.campaigns)) or '-'}")  # fmt: skip
    if done.replaced_simulated:
        console.print(f"{done.replaced_simulated:,} simulated outcomes replaced by observed ones")
    if done.unmatched:
        console.print(f"{done.unmatched:,} file rows match no campaign planned before their observed_at "
                      f"(not recorded), e.g. {escape(', '.join(done.unmatched_examples))}")  # fmt: skip


@campaign_app.command("from-snapshots")
def from_snapshots_command(campaign: Annotated[str, typer.Argument(help="Campaign id.")]) -> None:
    """Record a campaign's observed outcomes from the customer snapshots ingested after it."""
    from churn_core.outreach import outcomes

    wh = open_studio_warehouse()
    try:
        done = outcomes.outcomes_from_snapshots(wh, campaign)
    except LookupError as exc:
        _fail(exc)
    console.print(f"{done.written:,} outcomes recorded for {escape(campaign)}; "
                  f"{done.unmatched:,} customers have none yet (no later snapshot)")  # fmt: skip


@campaign_app.command("report")
def report_command(
    campaign: Annotated[str, typer.Argument(help="Campaign id.")],
    csv: Annotated[Path | None, typer.Option(help="Also write the report table here (CSV, cells escaped).")] = None,
    lang: Annotated[str, typer.Option(help="Language of the table: ko or en.")] = "en",
) -> None:
    """Treated vs control churn with 95 % intervals, p-value, customers kept, costs and net revenue effect."""
    from churn_core.escaping import write_csv
    from churn_core.outreach import outcomes

    wh = open_studio_warehouse()
    try:
        report = outcomes.campaign_report(wh, campaign)
    except LookupError as exc:
        _fail(exc)
    if report.simulated:
        console.print(f"[bold yellow]SIMULATED outcomes (assumption {escape(report.assumption or '')}): "
                      "every number below is simulated, not observed[/bold yellow]")  # fmt: skip
    table = outcomes.report_table(report, lang)
    console.print(escape(table.to_string(index=False, float_format=lambda x: f"{x:,.4g}")))
    if report.too_small:
        console.print(f"[yellow]the control group is too small to tell ({report.too_small_reason}: "
                      f"{report.n_control} control, {report.n_treated} treated with outcomes; detectable difference "
                      f"{report.detectable_difference:.1%})[/yellow]")  # fmt: skip
    if csv is not None:
        console.print(f"report written to {escape(str(write_csv(table, csv)))}")
