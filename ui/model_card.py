"""The model card (the champion's ``model_card.json``) as a readable card: facts, members, metrics, lists;
the model registry (versions, champion, decision history) and the note on sequence models.

Every label comes from the message catalog; numbers carry separators and fixed decimals;
times are in Korea Standard Time. The raw JSON stays one click away for analysts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from churn_core.config import get_settings
from churn_core.formatting import fmt_number, method_text, to_kst
from churn_core.i18n import feature_label, fmt_pct
from ui.navigation import lang, tr

#: Metrics of the card's evaluation in the order shown.
CARD_METRICS: tuple[str, ...] = (
    "roc_auc", "pr_auc", "top_decile_lift", "brier", "f1", "precision", "recall", "log_loss",
)  # fmt: skip


def _mean_std(m: Mapping[str, float] | None) -> str:
    return "–" if not m else f"{m['mean']:.3f} ± {m['std']:.3f}"


def evaluation_table(evaluation: Mapping[str, Any]) -> pd.DataFrame:
    """Cross-validated metrics as rows, customer groups as columns ("mean ± std" text).

    Parameters
    ----------
    evaluation : mapping
        The card's ``evaluation``: ``extended_features`` (``all``, ``seniors``) and
        ``classic_features`` (``all``), each ``{metric: {"mean", "std"}}``.
    """
    groups = {
        tr("card.group_all"): evaluation.get("extended_features", {}).get("all", {}),
        tr("card.group_seniors"): evaluation.get("extended_features", {}).get("seniors", {}),
        tr("card.group_classic"): evaluation.get("classic_features", {}).get("all", {}),
    }
    rows = [
        {tr("card.metric"): tr(f"metric.{m}")} | {name: _mean_std(g.get(m)) for name, g in groups.items()}
        for m in CARD_METRICS
    ]
    return pd.DataFrame(rows)


def members_table(members: list[Mapping[str, Any]]) -> pd.DataFrame:
    """The ensemble's members: name, soft-voting weight (percent, 1 decimal), tuned parameters."""
    rows = []
    for m in members:
        params = m.get("tuned_params") or {}
        shown = ", ".join(f"{k} = {fmt_number(v, 3) if isinstance(v, float) else v}" for k, v in params.items())
        rows.append(
            {
                tr("card.member"): m.get("name", ""),
                tr("card.weight"): fmt_pct(float(m.get("weight", float("nan")))),
                tr("card.params"): shown or "–",
            }
        )
    return pd.DataFrame(rows)


def show_model_card(card: Mapping[str, Any]) -> None:
    """Draw the model card: key facts, members, metrics, features, leakage columns, versions.

    Parameters
    ----------
    card : mapping
        The parsed ``model_card.json`` (see :func:`churn_core.prediction.training.write_card`).
    """
    lg = lang()
    st.subheader(tr("card.title"))
    data = card.get("training_data", {})
    econ = card.get("economics", {})
    created = to_kst([card["created"]]).iloc[0] if card.get("created") else "–"
    facts = [
        (tr("card.created"), created),
        (
            tr("card.data"),
            tr(
                "card.data_text", file=data.get("file", "–"), n=fmt_number(data.get("n_customers")),
                rate=fmt_pct(data.get("churn_rate", float("nan"))), sha=str(data.get("sha256", ""))[:16],
            ),
        ),
        (
            tr("card.threshold"),
            tr(
                "card.threshold_text", threshold=fmt_number(card.get("operating_threshold"), 3),
                cost=fmt_number(econ.get("offer_cost_usd")), success=fmt_pct(econ.get("success_rate", float("nan")), 0),
                months=fmt_number(econ.get("value_months")),
            ),
        ),
        (tr("card.training_time"), tr("card.seconds", s=fmt_number(card.get("training_seconds")))),
        (tr("card.seed"), str(card.get("seed", "–"))),
    ]  # fmt: skip
    st.markdown("\n".join(f"- **{label}**: {value}" for label, value in facts))
    if card.get("evaluation"):
        st.markdown(f"**{tr('card.evaluation')}**")
        st.dataframe(evaluation_table(card["evaluation"]), hide_index=True)
        st.caption(evaluation_text(card["evaluation"], lg))
    st.markdown(f"**{tr('card.members')}**")
    st.dataframe(members_table(card.get("members", [])), hide_index=True)
    features = card.get("features", [])
    with st.expander(tr("card.features", n=len(features))):
        st.markdown(", ".join(feature_label(f, lg) for f in features))
    leakage = card.get("excluded_leakage_columns", [])
    with st.expander(tr("card.leakage", n=len(leakage))):
        st.markdown(", ".join(f"`{c}`" for c in leakage))
    versions = card.get("versions", {})
    with st.expander(tr("card.versions")):
        st.dataframe(
            pd.DataFrame({tr("card.library"): list(versions), tr("card.version"): [str(v) for v in versions.values()]}),
            hide_index=True,
        )
    trusted = card.get("trusted_types", [])
    with st.expander(tr("card.trusted", n=len(trusted))):
        st.markdown("\n".join(f"- `{name}`" for name in trusted))
    bench = card.get("benchmarks") or {}
    if bench:
        p50 = (bench.get("single_with_explanation_ms") or {}).get("p50")
        st.caption(
            f"{tr('card.benchmarks')}: "
            + tr(
                "card.benchmarks_text", p50=fmt_number(p50, 0), rate=fmt_number(bench.get("batch_csv_customers_per_s")),
                date=bench.get("date", "–"),
            )
        )  # fmt: skip
    show_sequence_note()
    with st.expander(tr("card.raw")):
        st.json(dict(card), expanded=False)


# -- issue #14: held-out evaluation, the model in service, the registry, sequence models ---------------------
def is_held_out(evaluation: Mapping[str, Any]) -> bool:
    """True for a retraining challenger's card: evaluated on a held-out snapshot, not by cross-validation."""
    return evaluation.get("kind") == "held_out_snapshot"


def evaluation_text(evaluation: Mapping[str, Any], lg: str) -> str:
    """How the card's metrics were obtained: nested CV (the trainer) or the held-out snapshot (retraining)."""
    if is_held_out(evaluation):
        return tr("registry.held_out_caption", date=evaluation.get("held_out_snapshot", "–"),
                  n=fmt_number(evaluation.get("n_customers")))  # fmt: skip
    return method_text(evaluation, lg)


def show_sequence_note() -> None:
    """Why the churn model uses one snapshot plus tenure-based survival, not an LSTM, and what must accumulate first."""
    with st.expander(tr("registry.sequence_title")):
        st.markdown(tr("registry.sequence_text"))


def show_serving_model(schema: str | None = None) -> None:
    """One caption naming the champion that scores on this page (its registry version and training time).

    Parameters
    ----------
    schema : {"extended", "classic"}, optional
        Default: the warehouse's schema.
    """
    from ui.data import model_info

    info = model_info(schema)
    if info:
        trained = to_kst([info["trained"]]).iloc[0] if info.get("trained") else "–"
        st.caption(tr("registry.serving", version=info.get("version", "–"), trained=trained))


def _evaluated_on(text: str | None) -> str:
    text = str(text or "")
    if text.startswith("held-out snapshot"):
        return tr("registry.evaluated_held_out", date=text.removeprefix("held-out snapshot").strip())
    return tr("registry.evaluated_cv") if text.startswith("nested") else (text or "–")


def versions_table(rows: list[Mapping[str, Any]]) -> pd.DataFrame:
    """Registered versions, newest first: champion mark, version, training time (KST), metrics, snapshots."""
    out = []
    for r in reversed(rows):
        m = r.get("metrics") or {}
        out.append({
            tr("registry.col_champion"): "★" if r.get("champion") else "",
            tr("registry.col_version"): r.get("version", ""),
            tr("registry.col_trained"): to_kst([r["trained"]]).iloc[0] if r.get("trained") else "–",
            tr("metric.roc_auc"): fmt_number(m.get("roc_auc"), 4),
            tr("metric.pr_auc"): fmt_number(m.get("pr_auc"), 4),
            tr("metric.brier"): fmt_number(m.get("brier"), 4),
            tr("registry.col_evaluated_on"): _evaluated_on(m.get("evaluated_on")),
            tr("registry.col_trained_on"): ", ".join(r.get("trained_on") or []),
            tr("registry.col_registered"): to_kst([r["registered_at"]]).iloc[0] if r.get("registered_at") else "–",
        })  # fmt: skip
    return pd.DataFrame(out)


def history_table(entries: list[Mapping[str, Any]]) -> pd.DataFrame:
    """Decisions, newest first: time (KST), decision, version, command, reason (the reason as recorded)."""
    events = {e: tr(f"registry.event_{e}") for e in ("register", "promote", "rollback", "reject")}
    out = [{
        tr("registry.col_time"): to_kst([e["time"]]).iloc[0] if e.get("time") else "–",
        tr("registry.col_event"): events.get(e.get("event"), str(e.get("event", ""))),
        tr("registry.col_version"): e.get("version", ""),
        tr("registry.col_actor"): e.get("actor", ""),
        tr("registry.col_reason"): e.get("reason", ""),
    } for e in reversed(entries)]  # fmt: skip
    return pd.DataFrame(out)


def show_registry(schema: str) -> None:
    """The registry of ``schema``: the champion, every version and the decision history (read on every rerun).

    Parameters
    ----------
    schema : {"extended", "classic"}
        The warehouse's schema (the model that scores it).
    """
    from churn_core.prediction.registry import history, list_versions

    settings = get_settings()
    rows = list_versions(settings, schema)
    st.subheader(tr("registry.title"))
    champion = next((r["version"] for r in rows if r.get("champion")), "–")
    st.markdown(tr("registry.champion", version=champion))
    st.caption(tr("registry.how"))
    st.markdown(f"**{tr('registry.versions')}**")
    st.dataframe(versions_table(rows), hide_index=True)
    st.markdown(f"**{tr('registry.history')}**")
    entries = history(settings, schema)
    if entries:
        st.dataframe(history_table(entries), hide_index=True)
    else:
        st.info(tr("registry.no_history"))
