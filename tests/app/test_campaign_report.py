"""AppTest of a campaign's results on the outreach page (issue #15): treated vs control with 95 %
intervals, the difference and p-value, customers kept and net revenue effect; simulated outcomes
labelled simulated on the banner, every metric, the chart and the download; a control group too
small to tell said plainly; a campaign without outcomes says how to get them."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from churn_core.data.tables import OUTBOX
from churn_core.escaping import markdown_text
from churn_core.formatting import fmt_p_value
from churn_core.i18n import fmt_pct, t
from churn_core.outreach import outcomes
from churn_core.studio import open_studio_warehouse
from tests.helpers.apptest import open_page
from tests.helpers.downloads import download_frame, keep_downloads  # noqa: F401  (fixture)

pytestmark = pytest.mark.app

PAGE = "pages/outreach.py"
AT = dt.datetime(2026, 10, 1, 1, 0, tzinfo=dt.UTC)


def _campaign(wh, cid: str, ids: list[str], control_every: int, source: str) -> None:
    control = [i % control_every == 0 for i in range(len(ids))]
    rows = pd.DataFrame({name: None for name, _ in OUTBOX.columns}, index=range(len(ids)))
    wh.merge_rows("outbox", rows.assign(campaign_id=cid, customer_id=ids, channel="sms", is_control=control,
                                        status=np.where(control, "skipped", "recorded"), attempts=1,
                                        created_at=AT, updated_at=AT))  # fmt: skip
    churned = [(i * 7) % 10 < (4 if c else 2) for i, c in enumerate(control)]  # control churns more
    wh.merge_rows("campaign_outcomes", pd.DataFrame({
        "campaign_id": cid, "customer_id": ids, "churned": churned, "observed_at": dt.date(2026, 10, 31),
        "source": source, "assumption": "m2m_only" if source == "simulated" else None, "recorded_at": AT,
        "outcome_id": [outcomes.simulated_outcome_id(cid, c, "m2m_only", 0) if source == "simulated" else None
                       for c in ids],
    }))  # fmt: skip


@pytest.fixture
def campaigns():
    wh = open_studio_warehouse()  # with the segments and after-build steps the app builds with
    wh.ensure_built()  # the page would build it: the customers are needed first
    wh.ensure_tables()
    ids = list(wh.query("SELECT customer_id FROM {customers} ORDER BY customer_id LIMIT 1200")["customer_id"])
    _campaign(wh, "r15-sim*", ids, 2, "simulated")  # 600 / 600
    _campaign(wh, "r15-small", ids[:200], 20, "import")  # 10 control
    yield wh
    for table in ("outbox", "campaign_outcomes"):
        wh.execute(f"DELETE FROM {{{table}}} WHERE campaign_id LIKE 'r15-%'")
    wh.close()


def test_report_with_simulated_label_download_and_too_small_notice(campaigns, keep_downloads) -> None:  # noqa: F811
    at = open_page(PAGE, role="staff")
    at.multiselect(key="o_led_c").set_value(["r15-sim*", "r15-small"]).run()
    assert not at.exception, at.exception
    headers = [s.value for s in at.subheader]
    assert t("cres.header", "ko", campaign=markdown_text("r15-sim*")) in headers  # the * is not markup
    report = outcomes.campaign_report(campaigns, "r15-sim*")
    assert report.simulated and not report.too_small
    warnings = [w.value for w in at.warning]
    assert t("cres.simulated_warning", "ko", assumption="m2m\\_only") in warnings or any(
        t("cres.simulated_warning", "ko", assumption="X").split("X")[0] in w for w in warnings
    )
    prefix = t("cres.simulated_prefix", "ko", assumption=markdown_text("m2m_only"))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[prefix + t("cres.metric_treated", "ko")] == fmt_pct(report.rate_treated)
    assert metrics[prefix + t("cres.metric_control", "ko")] == fmt_pct(report.rate_control)
    assert metrics[prefix + t("cres.metric_difference", "ko")] == fmt_pct(report.difference)
    captions = " ".join(c.value for c in at.caption)
    assert fmt_p_value(report.p_value) in captions
    low, high = (fmt_pct(x) for x in report.ci_difference)
    assert t("cres.ci_caption", "ko", low=low, high=high) in captions
    assert len(at.get("plotly_chart")) >= 2  # one chart per reported campaign

    small = t("cres.too_small_group", "ko", n_control=10, n_treated=190, min=outcomes.MIN_GROUP_SIZE,
              mde=fmt_pct(outcomes.campaign_report(campaigns, "r15-small").detectable_difference),
              max=fmt_pct(outcomes.MAX_DETECTABLE_DIFFERENCE))  # fmt: skip
    assert small in warnings

    buttons = [b.proto.label for b in at.get("download_button")]
    index = buttons.index(t("cres.download", "ko"))
    table = download_frame(at, index)
    assert table.iloc[:, 0].str.startswith(t("cres.simulated_prefix", "ko", assumption="m2m_only")).all()
    assert float(table.iloc[3, 1]) == pytest.approx(report.rate_treated)


def test_a_campaign_without_outcomes_says_how_to_get_them() -> None:
    wh = open_studio_warehouse()  # with the segments and after-build steps the app builds with
    wh.ensure_built()  # the page would build it: the customers are needed first
    wh.ensure_tables()
    rows = pd.DataFrame({name: None for name, _ in OUTBOX.columns}, index=[0])
    wh.merge_rows("outbox", rows.assign(campaign_id="r15-wait", customer_id="0002-ORFBO", channel="sms",
                                        is_control=False, status="recorded", attempts=1, created_at=AT,
                                        updated_at=AT))  # fmt: skip
    try:
        at = open_page(PAGE, role="staff")
        at.multiselect(key="o_led_c").set_value(["r15-wait"]).run()
        assert not at.exception, at.exception
        assert t("cres.no_outcomes", "ko", campaign=markdown_text("r15-wait")) in [i.value for i in at.info]
        at.button(key="cres_snap_r15-wait").click().run()  # no later snapshot: nothing recorded, said so
        assert t("cres.from_snapshots_done", "ko", written=0, unmatched=1) in [s.value for s in at.success]
    finally:
        wh.execute("DELETE FROM {outbox} WHERE campaign_id = 'r15-wait'")
        wh.close()
