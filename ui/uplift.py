"""The Uplift page's parts and the outreach audience builder's ranking choice (issue #15).

Nothing is fitted here: the page reads what ``churn-studio uplift fit`` stored
(:mod:`churn_core.uplift.storage`); the model is loaded once per model file (its SHA-256 keys the
cache). Every number from simulated outcomes is labelled simulated.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from churn_core.escaping import markdown_text
from churn_core.formatting import fmt_number
from churn_core.i18n import fmt_int
from ui.navigation import lang, relabel, tr

FIT_COMMANDS = (
    "churn-studio campaign plan pilot --all-active --control-share 0.5\n"
    "churn-studio campaign simulate-outcomes pilot --effect m2m_only --seed 1\n"
    "churn-studio uplift fit --campaign pilot"
)


def _directory():
    from churn_core.config import get_settings
    from churn_core.uplift.storage import uplift_dir

    return uplift_dir(get_settings())


def _model(directory: str, sha: str):
    """The stored model (cached as a resource per model file SHA-256)."""
    from churn_core.uplift.storage import load_uplift

    return load_uplift(directory)[0]


def _simulated_note(card: dict) -> None:
    if card.get("simulated"):
        assumption = ", ".join(markdown_text(a) for a in card.get("assumptions") or ["?"])
        st.warning(tr("uplift.simulated", assumption=assumption), icon=":material/science:")


def _campaigns() -> pd.DataFrame:
    from churn_core.uplift.data import campaigns_with_outcomes
    from ui.data import warehouse

    return campaigns_with_outcomes(warehouse())


def page() -> None:
    """Body of the Uplift page: empty state, or the stored evaluation (Qini curve, AUUC table, by contract)."""
    from churn_core.uplift.charts import qini_figure
    from churn_core.uplift.storage import read_card, read_evaluation

    st.markdown(tr("uplift.intro"))
    directory = _directory()
    card, evaluation = read_card(directory), read_evaluation(directory)
    if card is None or evaluation is None:
        have = _campaigns()
        st.info(
            tr("uplift.empty" if have.empty else "uplift.not_fitted", n=len(have)), icon=":material/hourglass_empty:"
        )
        st.code(FIT_COMMANDS, language="bash")
        return
    _simulated_note(card)
    campaigns = ", ".join(markdown_text(c) for c in card.get("campaigns", []))
    counts = {"n": fmt_int(evaluation.n), "treated": fmt_int(evaluation.n_treated),
              "control": fmt_int(evaluation.n_control)}  # fmt: skip
    st.caption(tr("uplift.data_note", campaigns=campaigns, folds=evaluation.n_splits, **counts))
    st.plotly_chart(qini_figure(evaluation.qini, lang(), evaluation.simulated), width="stretch")
    st.subheader(tr("uplift.table_title") + (tr("uplift.simulated_suffix") if evaluation.simulated else ""))
    table = evaluation.table
    st.dataframe(
        pd.DataFrame({
            tr("uplift.col_ranking"): [tr(f"uplift.ranking_{r}") for r in table["ranking"]],
            tr("uplift.col_qini"): [fmt_number(v, 1) for v in table["qini"]],
            tr("uplift.col_auuc"): [fmt_number(v, 1) for v in table["auuc"]],
            tr("uplift.col_top30"): [fmt_number(v, 1) for v in table["kept_top_30"]],
        }),
        hide_index=True,
    )  # fmt: skip
    st.caption(tr("uplift.table_note"))
    by = card.get("by_contract")
    if by:
        st.subheader(tr("uplift.by_contract") + (tr("uplift.simulated_suffix") if evaluation.simulated else ""))
        st.dataframe(
            pd.DataFrame({
                tr("uplift.col_contract"): by["contract"],
                tr("uplift.col_n"): [fmt_int(v) for v in by["n"]],
                tr("uplift.col_predicted"): [fmt_number(v, 4) for v in by["predicted_uplift"]],
                tr("uplift.col_observed"): [fmt_number(v, 4) for v in by["observed_uplift"]],
            }),
            hide_index=True,
        )  # fmt: skip


def audience_ranking(wh, audience: pd.DataFrame) -> pd.DataFrame:
    """The outreach audience builder's ranking choice: churn risk or expected incremental profit.

    Without a stored uplift model, says how to fit one and returns ``audience`` unchanged. With one,
    offers the ranking and an audience size, shows expected customers kept and profit of the chosen
    size for both rankings side by side, and returns the chosen top of the chosen ranking.

    Parameters
    ----------
    wh : Warehouse
        The app's warehouse.
    audience : pandas.DataFrame
        :func:`churn_core.outreach.campaigns.build_audience` (``customer_id``, ``churn_probability``…).

    Returns
    -------
    pandas.DataFrame
        The audience to plan (same columns plus the uplift columns when ranked by the model).
    """
    from churn_core.prediction.business import Economics
    from churn_core.uplift.storage import read_card, read_evaluation
    from churn_core.uplift.targeting import RANKING_CHOICES, choose_audience, compare_rankings
    from churn_core.uplift.workflow import rank_audience
    from ui.data import cached
    from ui.widgets import ECONOMICS_KEY

    if audience.empty:
        return audience
    directory = _directory()
    card = read_card(directory)
    if card is None:
        st.caption(tr("uplift.no_model_for_audience"))
        return audience
    ranking = st.radio(tr("uplift.rank_by"), RANKING_CHOICES, format_func=lambda r: tr(f"uplift.rank_{r}"),
                       horizontal=True, key=relabel("o_rank"))  # fmt: skip
    if st.session_state.get("o_rank_size", 0) > len(audience):  # the filters shrank the audience since
        st.session_state["o_rank_size"] = len(audience)
    size = int(st.number_input(tr("uplift.audience_size"), 1, len(audience), len(audience), key="o_rank_size"))
    try:
        model = cached(_model, str(directory), str(card.get("model_sha256")), resource=True)
    except ValueError as exc:  # a refused model file (changed, untrusted types): named, risk ranking kept
        st.error(tr("uplift.model_refused", error=markdown_text(str(exc))), icon=":material/gpp_bad:")
        return audience.head(size)
    economics = st.session_state.get(ECONOMICS_KEY) or Economics.from_settings()
    ranked = rank_audience(wh, audience, model, economics.offer_cost_usd, economics.value_months)
    _simulated_note(card)
    columns = st.columns(2)
    for column, outlook in zip(columns, compare_rankings(ranked, size, economics.offer_cost_usd), strict=True):
        column.markdown(f"**{tr(f'uplift.rank_{outlook.ranking}')}**")
        column.metric(tr("uplift.expected_kept"), fmt_number(outlook.expected_kept, 1))
        column.metric(tr("uplift.expected_profit"), f"USD {fmt_number(outlook.expected_profit_usd, 0)}")
    st.caption(tr("uplift.expected_note", cost=fmt_number(economics.offer_cost_usd, 2), months=economics.value_months))
    evaluation = read_evaluation(directory)
    if evaluation is not None and not evaluation.beats_risk:  # the campaign data do not support the model's ranking
        st.warning(tr("uplift.not_better", model=fmt_number(evaluation.qini_of("uplift"), 1),
                      risk=fmt_number(evaluation.qini_of("risk"), 1)), icon=":material/warning:")  # fmt: skip
    chosen = choose_audience(ranked, ranking, size)
    return chosen.drop(columns=["cumulative_kept", "cumulative_profit_usd"])
