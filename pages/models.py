"""Churn models: honest cross-validated comparison, curves, threshold by profit, importance, card."""

import streamlit as st

from churn_core import charts
from churn_core.formatting import fmt_number, method_text, metric_label
from churn_core.i18n import fmt_int, fmt_pct
from churn_core.prediction import evaluation
from churn_core.prediction.evaluation import card_metric
from churn_core.prediction.model_selection import leaderboard_display
from churn_core.prediction.training import LEADERBOARD_FILE, OOF_FILE, model_label
from ui import economics_sidebar, explainer, lang, model_bundle, model_table, page_setup, page_tabs, tr
from ui.data import data_schema
from ui.model_card import (
    evaluation_text,
    is_held_out,
    show_model_card,
    show_registry,
    show_sequence_note,
    show_serving_model,
)

page_setup("nav.models", ":material/model_training:")
lg = lang()
st.title(tr("model.title"))
bundle = model_bundle()  # the registry's champion
card = bundle.card
show_serving_model()
economics = economics_sidebar()
oof = model_table(OOF_FILE)
board = model_table(LEADERBOARD_FILE)

st.info(tr("model.honesty"), icon=":material/verified:")
ev = card.get("evaluation", {})
schema = model_label(card)["schema"]  # the model of the warehouse's schema: extended, or classic (issue #13)
if ev:
    own = ev[f"{schema}_features"]
    cols = st.columns(4)
    for col, metric in zip(cols, ("roc_auc", "pr_auc", "top_decile_lift", "brier"), strict=True):
        m = own["all"][metric]
        col.metric(tr(f"metric.{metric}"), f"{m['mean']:.3f} ± {m['std']:.3f}")
    senior, method = f"{own.get('seniors', own['all'])['roc_auc']['mean']:.3f}", method_text(ev, lg)
    if is_held_out(ev):  # a retraining challenger: the held-out snapshot, not cross-validation
        st.caption(evaluation_text(ev, lg))
    elif schema == "extended":
        classic = f"{ev['classic_features']['all']['roc_auc']['mean']:.3f}"
        st.caption(tr("model.summary_caption", senior=senior, classic=classic, method=method))
    else:
        st.caption(tr("model.summary_caption_classic", senior=senior, method=method))
else:
    st.warning(tr("model.no_evaluation"))
show_sequence_note()  # why no LSTM on monthly histories (issue #14)

NAMES = ("leaderboard", "curves", "profit", "importance", "registry", "card")
tab = page_tabs("model", NAMES, "model_tab")

if tab["leaderboard"].open:
    with tab["leaderboard"]:
        if board is None:
            st.info(tr("model.no_leaderboard" if schema == "extended" else "model.leaderboard_extended_only"))
        else:
            shown = leaderboard_display(board)
            st.caption(tr("model.leaderboard_caption", n=len(board)))
            trained = card.get("economics", {})
            sidebar = economics.global_threshold(oof["monthly_charges"]) if oof is not None else None
            st.info(tr("model.leaderboard_threshold", trained=fmt_number(card.get("operating_threshold"), 3),
                       cost=fmt_number(trained.get("offer_cost_usd")), success=fmt_pct(trained.get("success_rate"), 0),
                       months=fmt_number(trained.get("value_months")), sidebar=fmt_number(sidebar, 3)))  # fmt: skip
            names = {c: metric_label(c, lg) for c in shown.columns}
            names["fit_seconds"] = st.column_config.NumberColumn(names["fit_seconds"], format="%.0f")
            st.dataframe(shown, hide_index=True, height=600, column_config=names)

if tab["curves"].open:
    with tab["curves"]:
        if oof is None:
            st.info(tr("model.no_oof"), icon=":material/info:")
        else:
            y, p = oof["churn_flag"], oof["proba"]
            auc, pr_auc, brier = (card_metric(card, m) for m in ("roc_auc", "pr_auc", "brier"))
            c1, c2 = st.columns(2)
            c1.plotly_chart(charts.roc_figure(evaluation.roc_points(y, p), auc, lg), width="stretch")
            c2.plotly_chart(charts.pr_figure(evaluation.pr_points(y, p), pr_auc, y.mean(), lg), width="stretch")
            c3, c4 = st.columns(2)
            c3.plotly_chart(charts.reliability_figure(evaluation.reliability(y, p), brier, lg), width="stretch")
            c4.plotly_chart(charts.gain_figure(evaluation.cumulative_gain(y, p), lg), width="stretch")
            held_out = is_held_out(ev)
            st.caption(tr("registry.held_out_curves", date=ev.get("held_out_snapshot")) if held_out
                       else tr("model.curves_caption"))  # fmt: skip

if tab["profit"].open:
    with tab["profit"]:
        if oof is None:
            st.info(tr("model.no_oof"), icon=":material/info:")
        else:
            view = evaluation.profit_view(oof, economics)
            st.markdown(tr("model.threshold_text", threshold=f"{view.threshold:.2f}", cost=economics.offer_cost_usd))
            c1, c2 = st.columns([3, 2])
            c1.plotly_chart(charts.profit_figure(view.curve, view.threshold, lg), width="stretch")
            c2.plotly_chart(charts.confusion_figure(view.confusion, lg), width="stretch")
            best = view.best
            st.caption(
                tr(
                    "model.profit_caption",
                    best=f"{best['threshold']:.2f}",
                    usd=f"{best['profit_usd']:,.0f}",
                    n=fmt_int(best["contacted"]),
                )
            )

if tab["importance"].open:
    with tab["importance"]:
        importance = explainer().global_importance(bundle.background)
        st.plotly_chart(charts.importance_figure(importance, lg), width="stretch")
        st.caption(tr("model.importance_caption"))

if tab["registry"].open:
    with tab["registry"]:
        show_registry(data_schema())

if tab["card"].open:
    with tab["card"]:
        show_model_card(card)
