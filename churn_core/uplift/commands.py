"""``churn-studio uplift``: fit, evaluate and use the uplift model (issue #15).

Examples
--------
``churn-studio uplift fit --campaign 20261123-sms``   cross-validate, fit and store the model (data/uplift/)
``churn-studio uplift evaluate``                      print the stored Qini / AUUC table (``--refit`` re-runs the CV)
``churn-studio uplift audience --size 200``           top 200 at-risk seniors by expected profit vs by churn risk

Every number computed from simulated outcomes is printed with "SIMULATED".
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

uplift_app = typer.Typer(
    help="Uplift model: who the retention offer keeps (from campaigns with control groups and outcomes).",
    no_args_is_help=True,
)
console = Console()

_RANKING_NAMES = {"uplift": "uplift model", "risk": "highest churn risk first", "random": "random targeting"}


def _warehouse():
    from churn_core.config import get_settings
    from churn_core.studio import open_studio_warehouse

    settings = get_settings()
    wh = open_studio_warehouse(settings)
    wh.ensure_built()
    return settings, wh


def _fail(exc: Exception) -> None:
    console.print(f"[red]{escape(str(exc))}[/red]")
    raise typer.Exit(code=1) from exc


def _label(simulated: bool, assumptions) -> str:
    return f" [bold yellow]SIMULATED outcomes (assumption: {', '.join(assumptions) or '?'})[/]" if simulated else ""


def _print_evaluation(evaluation, card: dict) -> None:
    label = _label(evaluation.simulated, card.get("assumptions", []))
    console.print(
        f"cross-validated ({evaluation.n_splits} folds) on {evaluation.n:,} customers "
        f"({evaluation.n_treated:,} treated, {evaluation.n_control:,} control), campaigns "
        f"{escape(', '.join(card.get('campaigns', [])))}{label}"
    )
    console.print(
        f"observed uplift (control churn rate - treated churn rate): {evaluation.observed_uplift:+.4f}{label}"
    )
    table = Table("ranking", "Qini coefficient (customers)", "AUUC (customers)", "kept if top 30% offered")
    for row in evaluation.table.itertuples():
        table.add_row(_RANKING_NAMES.get(row.ranking, row.ranking), f"{row.qini:,.1f}", f"{row.auuc:,.1f}",
                      f"{row.kept_top_30:,.1f}")  # fmt: skip
    console.print(table)
    contract = card.get("by_contract")
    if contract:
        by = Table("contract", "customers", "mean predicted uplift (out of fold)", "observed uplift")
        for i, name in enumerate(contract["contract"]):
            by.add_row(escape(str(name)), f"{contract['n'][i]:,}", f"{contract['predicted_uplift'][i]:+.4f}",
                       f"{contract['observed_uplift'][i]:+.4f}")  # fmt: skip
        console.print(by)
    if evaluation.simulated:
        console.print(f"[bold yellow]Every number above comes from simulated outcomes.[/]{label}")


@uplift_app.command("fit")
def fit_command(
    campaign: Annotated[
        list[str] | None, typer.Option("--campaign", help="Campaign with outcomes (repeat; default: all).")
    ] = None,
    learner: Annotated[str, typer.Option(help="causalml meta-learner: t or x.")] = "t",
    folds: Annotated[int, typer.Option(min=2, max=10, help="Cross-validation folds.")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the folds and the learners.")] = 0,
) -> None:
    """Cross-validate and fit the uplift model on treated and control customers; store it in data/uplift/."""
    from churn_core.uplift.data import NoUpliftDataError
    from churn_core.uplift.model import UpliftModel
    from churn_core.uplift.storage import uplift_dir
    from churn_core.uplift.workflow import fit_uplift, warehouse_features

    settings, wh = _warehouse()
    directory = uplift_dir(settings)
    try:
        template = UpliftModel(learner=learner, features=warehouse_features(wh), random_state=seed)
        _, card, evaluation = fit_uplift(wh, campaign or None, directory, template, folds, seed, settings)
    except (NoUpliftDataError, ValueError) as exc:
        _fail(exc)
    _print_evaluation(evaluation, card)
    console.print(f"uplift model stored in {escape(str(directory))}")


@uplift_app.command("evaluate")
def evaluate_command(
    refit: Annotated[
        bool, typer.Option(help="Run the cross-validation again on the stored model's campaigns.")
    ] = False,
    folds: Annotated[int, typer.Option(min=2, max=10, help="Cross-validation folds (with --refit).")] = 5,
) -> None:
    """Print the stored cross-validated Qini / AUUC table of the uplift model."""
    from churn_core.uplift.data import NoUpliftDataError
    from churn_core.uplift.storage import read_card, read_evaluation, uplift_dir
    from churn_core.uplift.workflow import fit_uplift

    settings, wh = _warehouse()
    directory = uplift_dir(settings)
    card = read_card(directory)
    if card is None:
        _fail(FileNotFoundError("no uplift model yet: run `churn-studio uplift fit --campaign CAMPAIGN`"))
    if refit:
        from churn_core.uplift.model import UpliftModel

        params = {k: tuple(v) if isinstance(v, list) else v for k, v in card["params"].items()}
        try:
            _, card, evaluation = fit_uplift(wh, card["campaigns"], directory, UpliftModel(**params), folds,
                                             int(params.get("random_state", 0)), settings)  # fmt: skip
        except (NoUpliftDataError, ValueError) as exc:
            _fail(exc)
    else:
        evaluation = read_evaluation(directory)
        if evaluation is None:
            _fail(
                FileNotFoundError(
                    "the uplift model has no stored evaluation: run `churn-studio uplift evaluate --refit`"
                )
            )
    _print_evaluation(evaluation, card)


@uplift_app.command("audience")
def audience_command(
    size: Annotated[int, typer.Option(min=0, help="Customers to offer.")] = 100,
    csv: Annotated[Path | None, typer.Option(help="Write the profit-ranked top SIZE to this CSV file.")] = None,
) -> None:
    """Rank the at-risk seniors by expected incremental profit (uplift x value - offer cost), risk-ranked beside it."""
    from churn_core.escaping import write_csv
    from churn_core.prediction.at_risk import at_risk_seniors_in_warehouse
    from churn_core.prediction.batch import latest_run
    from churn_core.prediction.business import Economics
    from churn_core.prediction.registry import load_champion
    from churn_core.uplift.storage import read_evaluation, uplift_dir
    from churn_core.uplift.targeting import compare_rankings
    from churn_core.uplift.workflow import rank_audience, stored_model

    settings, wh = _warehouse()
    try:
        loaded = stored_model(uplift_dir(settings))
    except ValueError as exc:  # refused model file (hash, trusted types)
        _fail(exc)
    if loaded is None:
        _fail(FileNotFoundError("no uplift model yet: run `churn-studio uplift fit --campaign CAMPAIGN`"))
    model, card = loaded
    economics = Economics.from_settings(settings)
    bundle, _ = load_champion(settings)
    run = latest_run(wh)
    candidates = at_risk_seniors_in_warehouse(wh, bundle.model, None if run is None else str(run["run_id"]),
                                              economics, settings.max_fit_rows)  # fmt: skip
    ranked = rank_audience(wh, candidates[["customer_id", "churn_probability"]], model, economics.offer_cost_usd,
                           economics.value_months)  # fmt: skip
    size = min(size, len(ranked))
    label = _label(card.get("simulated", False), card.get("assumptions", []))
    console.print(f"{len(ranked):,} at-risk seniors; offer {size:,} (cost USD {economics.offer_cost_usd:,.2f} each, "
                  f"value = {economics.value_months:g} months of charges){label}")  # fmt: skip
    for o in compare_rankings(ranked, size, economics.offer_cost_usd):
        name = "expected incremental profit" if o.ranking == "profit" else "churn risk"
        console.print(
            f"top {o.size:,} by {name}: expected kept {o.expected_kept:,.1f}, expected profit USD "
            f"{o.expected_profit_usd:,.0f} (offer cost USD {o.offer_cost_usd:,.0f})",
            soft_wrap=True,
        )
    console.print("expected = the uplift model's estimates, not observations" + (label or ""))
    evaluation = read_evaluation(uplift_dir(settings))
    if evaluation is not None and not evaluation.beats_risk:
        console.print(
            f"[yellow]WARNING: in cross-validation the uplift model did not beat highest churn risk first "
            f"(Qini {evaluation.qini_of('uplift'):,.1f} against {evaluation.qini_of('risk'):,.1f} customers): "
            "rank by churn risk; the profit ranking's expected figures are optimistic (its top customers are "
            "chosen on the same noisy estimates)[/yellow]",
            soft_wrap=True,
        )
    if csv is not None:
        top = ranked.head(size).assign(simulated=bool(card.get("simulated", False)))
        write_csv(top, csv)
        console.print(f"wrote {len(top):,} rows to {escape(str(csv))}")
