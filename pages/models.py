"""Churn models: honest cross-validated comparison, curves, threshold by profit, importance, card."""

import streamlit as st

from churn_core import charts, evaluation
from churn_core.business import profit_curve
from churn_core.i18n import fmt_int, fmt_pct
from churn_core.modeling import leaderboard_display
from churn_core.training import LEADERBOARD_FILE, OOF_FILE
from ui import economics_sidebar, explainer, lang, model_bundle, model_table, page_setup, tr

page_setup("nav.models", ":material/model_training:")
lg = lang()
st.title(tr("model.title"))
bundle = model_bundle()
card = bundle.card
economics = economics_sidebar()
oof = model_table(OOF_FILE)
board = model_table(LEADERBOARD_FILE)

st.info(tr("model.honesty"), icon=":material/verified:")
ev = card.get("evaluation", {})
if ev:
    ext, classic = ev["extended_features"], ev["classic_features"]
    cols = st.columns(4)
    for col, metric in zip(cols, ("roc_auc", "pr_auc", "top_decile_lift", "brier"), strict=True):
        m = ext["all"][metric]
        col.metric(tr(f"metric.{metric}"), f"{m['mean']:.3f} ± {m['std']:.3f}")
    st.caption(
        tr(
            "model.summary_caption",
            senior=f"{ext['seniors']['roc_auc']['mean']:.3f}",
            classic=f"{classic['all']['roc_auc']['mean']:.3f}",
            method=ev["method"],
        )
    )
else:
    st.warning(tr("model.no_evaluation"))

NAMES = ("leaderboard", "curves", "profit", "importance", "card")
tab = dict(zip(NAMES, st.tabs([tr(f"model.tab_{n}") for n in NAMES], key="model_tab", on_change="rerun"), strict=True))

if tab["leaderboard"].open:
    with tab["leaderboard"]:
        if board is None:
            st.info(tr("model.no_leaderboard"))
        else:
            shown = leaderboard_display(board)
            st.caption(tr("model.leaderboard_caption", n=len(board)))
            st.dataframe(
                shown,
                hide_index=True,
                height=600,
                column_config={"fit_seconds": st.column_config.NumberColumn(format="%.0f s")},
            )

if tab["curves"].open and oof is not None:
    with tab["curves"]:
        y, p = oof["churn_flag"], oof["proba"]
        c1, c2 = st.columns(2)
        c1.plotly_chart(
            charts.roc_figure(evaluation.roc_points(y, p), ext["all"]["roc_auc"]["mean"], lg), width="stretch"
        )
        c2.plotly_chart(
            charts.pr_figure(evaluation.pr_points(y, p), ext["all"]["pr_auc"]["mean"], y.mean(), lg), width="stretch"
        )
        c3, c4 = st.columns(2)
        c3.plotly_chart(
            charts.reliability_figure(evaluation.reliability(y, p), ext["all"]["brier"]["mean"], lg), width="stretch"
        )
        c4.plotly_chart(charts.gain_figure(evaluation.cumulative_gain(y, p), lg), width="stretch")
        st.caption(tr("model.curves_caption"))

if tab["profit"].open and oof is not None:
    with tab["profit"]:
        threshold = economics.global_threshold(oof["monthly_charges"])
        curve = profit_curve(oof["churn_flag"], oof["proba"], oof["monthly_charges"], economics)
        st.markdown(tr("model.threshold_text", threshold=f"{threshold:.2f}", cost=economics.offer_cost_usd))
        c1, c2 = st.columns([3, 2])
        c1.plotly_chart(charts.profit_figure(curve, threshold, lg), width="stretch")
        matrix = evaluation.confusion(oof["churn_flag"], oof["proba"], threshold)
        c2.plotly_chart(charts.confusion_figure(matrix, lg), width="stretch")
        best = curve.loc[curve["profit_usd"].idxmax()]
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

if tab["card"].open:
    with tab["card"]:
        data = card["training_data"]
        facts = {"created": card["created"], "file": data["file"], "sha": data["sha256"][:16]}
        facts |= {"n": fmt_int(data["n_customers"]), "rate": fmt_pct(data["churn_rate"])}
        st.markdown(tr("model.card_text", seconds=f"{card['training_seconds']:.0f}", **facts))
        st.dataframe(card["members"], hide_index=True)
        st.json(card, expanded=False)
