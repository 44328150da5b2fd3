"""Streamlit glue of the outreach page: the contact import with its merge preview, the send step
(what goes now and what is held, Send), and the campaign's result panel over every send run.

The logic lives in :mod:`churn_core.outreach` (:func:`~churn_core.outreach.campaigns.send_outlook`,
:func:`~churn_core.outreach.campaigns.campaign_totals`, :func:`~churn_core.outreach.contacts.preview_import`);
this module lays it out in the current language. Times are shown in Korean time (KST).

The clock of a page run is that of :class:`~churn_core.outreach.campaigns.SendOptions`
(``now``), so the dry run, the banners and the send itself agree on the moment (tests inject it).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from churn_core.escaping import markdown_text
from churn_core.formatting import contact_problems_table
from churn_core.outreach import campaigns as outreach
from churn_core.outreach import contacts
from churn_core.outreach.compliance import KST, Sender, Template
from ui.data import contact_book
from ui.navigation import lang, tr
from ui.widgets import contacts_from_upload, download_button, upload_help

#: Session-state key of the last merge's counts (shown once after the page reruns).
_MERGED_KEY = "o_import_merged"
#: Session-state key of the last send's counts (shown once after the page reruns with fresh counts).
_SENT_KEY = "o_sent_summary"
#: Outcomes shown as metrics in the result panel, in order.
TOTAL_METRICS = ("sent", "recorded", "held", "skipped", "failed", "control")


def kst_time(when: dt.datetime) -> str:
    """``when`` as Korean wall-clock time, ``YYYY-MM-DD HH:MM`` (the catalog text says KST)."""
    return when.astimezone(KST).strftime("%Y-%m-%d %H:%M")


def contact_import(wh) -> None:
    """Upload a contact CSV, list its bad rows, preview what merging changes, and merge on confirmation."""
    if merged := st.session_state.pop(_MERGED_KEY, None):
        st.success(tr("out.import_merged", **merged))
    from ui.uploads import UPLOAD_TYPES  # CSV in any usual encoding / separator, or Excel (issue #13)

    upload = st.file_uploader(tr("out.import_file"), type=UPLOAD_TYPES, key="contacts_file", help=upload_help())
    if upload is None or (result := contacts_from_upload(upload)) is None:
        return
    st.write(tr("out.import_summary", n=result.n_rows, ok=len(result.contacts), bad=result.n_rejected))
    if len(result.problems):
        shown = contact_problems_table(result.problems, lang())  # the table and its download read the same
        st.dataframe(shown, hide_index=True)
        download_button(tr("out.problems_download"), shown, "contact_problems.csv")
    if not len(result.contacts):
        return
    preview = contacts.preview_import(wh, result)  # a merge: preview what it changes, then confirm
    st.write(tr("out.import_preview", **preview.counts()))
    st.dataframe(changes_table(preview), hide_index=True)
    if st.button(tr("out.import_confirm"), key="import_confirm"):
        done = contacts.apply_import(wh, result, st.session_state["staff_user"])
        st.session_state[_MERGED_KEY] = {k: done.counts()[k] for k in ("added", "updated", "unchanged", "events_new")}
        st.rerun()


def send_step(
    wh, campaign_id: str, channel, sender: Sender, values: dict[str, dict], templates: dict[str, Template],
    blocked: bool, rate_per_s: float,
) -> None:  # fmt: skip
    """The dry run, the confirmation counting what goes now and what is held, Send, then the result panel.

    Parameters
    ----------
    channel
        The configured channel (:func:`churn_core.outreach.campaigns.channel_from_settings`).
    blocked : bool
        The message has compliance problems: Send stays disabled.
    """
    if sent := st.session_state.pop(_SENT_KEY, None):
        st.success(tr("out.sent_summary", **sent))
    options = outreach.SendOptions(rate_per_s=rate_per_s)
    look = outreach.send_outlook(wh, campaign_id, channel.name, contact_book(), channel.real, options.now(), sender,
                                 values, templates, channel=channel)  # fmt: skip
    campaign = markdown_text(campaign_id)
    if look.queued:
        st.subheader(tr("out.dry_run"))
        table = look.table.assign(
            decision=[tr(f"out.decision_{d}") for d in look.table["decision"]],
            reason=[tr(f"out.reason_{r}") if r else "" for r in look.table["reason"]],
        )
        st.dataframe(table, hide_index=True, column_config={"decision": tr("col.decision"), "reason": tr("col.reason"),
                                                            "n": tr("col.messages")})  # fmt: skip
        label = tr("out.confirm_counts", campaign=campaign, now=look.go_now, held=look.held, skipped=look.skipped)
        confirm = st.checkbox(label, key="o_confirm")
        if look.held_until is not None:
            st.caption(tr("out.confirm_held_until", n=look.held_quiet_hours, when=kst_time(look.held_until)))
        if st.button(tr("out.send"), type="primary", disabled=not confirm or blocked, key="o_send"):
            if look.due == 0:  # every queued message waits for the end of quiet hours: no empty progress bar
                st.info(tr("out.nothing_due", n=look.held_quiet_hours, when=kst_time(look.held_until or options.now())),
                        icon=":material/bedtime:")  # fmt: skip
            else:
                _run(wh, campaign_id, channel, sender, values, templates, options)
    result_panel(wh, campaign_id, channel.name, options.now())


def _run(wh, campaign_id: str, channel, sender: Sender, values, templates, options) -> None:
    bar = st.progress(0.0, tr("out.sending"))
    try:  # the campaign's stored text; `templates` only for campaigns planned before texts were stored
        counts = outreach.send(wh, campaign_id, channel, sender, contact_book(), values, options, templates,
                               lambda i, n: bar.progress(i / n, tr("out.sending_n", i=i, n=n)))  # fmt: skip
    except outreach.TemplateMissingError as exc:
        bar.empty()
        st.error(tr("out.template_missing", campaign=markdown_text(campaign_id), ids=", ".join(exc.template_ids)))
        return
    st.session_state[_SENT_KEY] = counts  # rerun: the dry run and the confirmation count what is left now
    st.rerun()


def result_panel(wh, campaign_id: str, channel: str, now: dt.datetime) -> None:
    """The campaign's totals over every send run, and a banner for messages held by quiet hours."""
    totals = outreach.campaign_totals(wh, campaign_id, channel)
    if not totals.total:
        return
    campaign = markdown_text(campaign_id)
    with st.container(border=True, key="o_result"):
        st.subheader(tr("out.totals", campaign=campaign, channel=tr(f"out.channel_{channel}")))
        counts = totals.counts()
        for column, name in zip(st.columns(len(TOTAL_METRICS)), TOTAL_METRICS, strict=True):
            column.metric(tr(f"out.total_{name}"), f"{counts[name]:,}")
        st.caption(tr("out.totals_note", total=f"{totals.total:,}", waiting=f"{totals.waiting:,}"))
        if totals.held_quiet_hours and totals.held_until is not None:
            if totals.held_until > now:
                st.warning(tr("out.quiet_banner", n=totals.held_quiet_hours, when=kst_time(totals.held_until),
                              campaign=campaign), icon=":material/bedtime:")  # fmt: skip
            else:
                st.info(tr("out.quiet_banner_due", n=totals.held_quiet_hours, campaign=campaign),
                        icon=":material/schedule_send:")  # fmt: skip


def changes_table(preview: contacts.ImportPreview) -> pd.DataFrame:
    """The per-customer changes of an import preview with the change named in the current language."""
    return preview.changes.assign(change=[tr(f"out.change_{c}") for c in preview.changes["change"]])
