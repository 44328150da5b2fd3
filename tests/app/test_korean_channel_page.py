"""AppTest of the outreach page with a Korean channel: 알림톡 chosen per campaign, its informational
template previewed, planned and sent outbox-only (no SOLAPI keys: recorded, nothing sent)."""

from __future__ import annotations

import pytest

from churn_core.i18n import t
from churn_core.outreach import compliance
from tests.app.test_outreach_page import _sign_in, accounts, daytime  # noqa: F401 - fixtures
from tests.helpers.apptest import open_page

pytestmark = pytest.mark.app


CAMPAIGN = "kr-alimtalk-page"


def test_staff_plans_and_records_an_alimtalk_campaign(accounts, daytime) -> None:  # noqa: F811
    from churn_core.data.warehouse import open_warehouse

    wh = open_warehouse()
    try:
        at = _sign_in(open_page("pages/outreach.py"), "kim")
        assert not at.exception, at.exception
        channel = at.selectbox(key="o_ch")
        assert set(channel.options) >= {t(f"out.channel_{c}", "ko") for c in compliance.CAMPAIGN_CHANNELS}
        channel.set_value("alimtalk").run()
        assert not at.exception, at.exception
        preview = at.code[0].value
        assert "(광고)" not in preview and "무료수신거부" not in preview and "교육 일정" in preview  # informational
        assert not at.error  # the shipped 알림톡 template passes the checks
        at.text_input(key="o_cid_alimtalk").input(CAMPAIGN).run()
        at.button(key="o_plan").click().run()
        at.checkbox(key="o_confirm").check().run()
        at.button(key="o_send").click().run()
        assert not at.exception, at.exception
        ledger = at.dataframe[-1].value
        rows = ledger[ledger["campaign_id"] == CAMPAIGN]
        assert len(rows) > 0 and set(rows["template_id"]) == {t("tpl.alimtalk_notice", "ko")}
        statuses = set(rows["status"])
        assert statuses <= {t("status.recorded", "ko"), t("status.skipped", "ko")}
        assert t("status.recorded", "ko") in statuses  # outbox only: recorded, nothing sent
    finally:  # the page tests share the default warehouse
        wh.execute("DELETE FROM {outbox} WHERE campaign_id = @c", {"c": CAMPAIGN})
        wh.execute("DELETE FROM {campaign_templates} WHERE campaign_id = @c", {"c": CAMPAIGN})
        wh.close()
