"""A staff member plans and sends an outbox-only campaign in a real browser; the result panel shows the
campaign's totals (saved as ``outreach_result.png`` in the artifacts directory).

The served app runs on the wall clock: in quiet hours (21:00–08:00 KST) the messages are held and
the panel carries the banner saying when they may go; by day they are recorded. Either way the
panel's counts add up to what the plan added.
"""

from __future__ import annotations

import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from churn_core.i18n import t
from tests.helpers.apptest import ACCOUNT_PASSWORD, role_user
from tests.helpers.browser import wait

pytestmark = pytest.mark.browser

ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'
WAIT_S = 120
CAMPAIGN = "browser16"


def _key(name: str) -> str:
    return f".st-key-{name}"


def _pattern(key: str, *names: str) -> re.Pattern:
    """A regex of a catalog text with the ``names`` placeholders as captured numbers."""
    text = re.escape(t(key, "ko", **{n: f"@{n}@" for n in names}))
    for name in names:
        text = text.replace(f"@{name}@", r"([\d,]+)")
    return re.compile(text)


def _successes(driver) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stAlertContentSuccess"]')]


def _campaign_typed(driver) -> bool:
    """Types the campaign id into its box unless it is there already (the box may be redrawn meanwhile)."""
    box = driver.find_element(By.CSS_SELECTOR, f"{_key('o_cid_sms')} input")
    if box.get_attribute("value") != CAMPAIGN:
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(CAMPAIGN, Keys.ENTER)
        return False
    return True


def _totals(driver, heading: str, count: int):
    """The result panel, its totals by label and its warning texts, or ``None`` while it is being drawn."""
    panels = driver.find_elements(By.CSS_SELECTOR, _key("o_result"))
    if not panels or heading not in panels[0].text:
        return None
    values = {}
    for m in panels[0].find_elements(By.CSS_SELECTOR, '[data-testid="stMetric"]'):
        label = m.find_element(By.CSS_SELECTOR, '[data-testid="stMetricLabel"]').text
        value = m.find_element(By.CSS_SELECTOR, '[data-testid="stMetricValue"]').text.replace(",", "")
        if not label or not value.isdigit():
            return None
        values[label] = int(value)
    if len(values) != count:
        return None
    warnings = [e.text for e in panels[0].find_elements(By.CSS_SELECTOR, '[data-testid="stAlertContentWarning"]')]
    return panels[0], values, warnings


def test_staff_sends_a_campaign_and_sees_its_totals(driver, app_url, artifacts_dir) -> None:
    driver.get(f"{app_url}/outreach")
    # The login form is drawn in several deltas: wait until all three parts are on the page.
    user, password, submit = wait(driver, WAIT_S).until(
        lambda d: (
            d.find_element(By.CSS_SELECTOR, f'input[aria-label="{t("out.username", "ko")}"]'),
            d.find_element(By.CSS_SELECTOR, 'input[type="password"]'),
            d.find_element(By.CSS_SELECTOR, '[data-testid="stFormSubmitButton"] button'),
        )
    )
    user.send_keys(role_user("staff"))
    password.send_keys(ACCOUNT_PASSWORD)
    submit.click()

    wait(driver, WAIT_S).until(_campaign_typed)
    wait(driver, WAIT_S).until(lambda d: d.find_element(By.CSS_SELECTOR, f"{_key('o_plan')} button")).click()
    planned = _pattern("out.planned", "added", "control", "already_planned")
    success = wait(driver, WAIT_S).until(lambda d: next(filter(None, map(planned.search, _successes(d))), None))
    added = int(success.group(1).replace(",", ""))
    assert added > 0

    wait(driver, WAIT_S).until(lambda d: d.find_element(By.CSS_SELECTOR, f"{_key('o_confirm')} label")).click()
    send = wait(driver, WAIT_S).until(
        lambda d: (b := d.find_element(By.CSS_SELECTOR, f"{_key('o_send')} button")).is_enabled() and b
    )
    send.click()
    summary = t("out.sent_summary", "ko").split("{")[0]
    wait(driver, WAIT_S).until(lambda d: any(summary in text for text in _successes(d)))
    heading = t("out.totals", "ko", campaign=CAMPAIGN, channel=t("out.channel_sms", "ko"))
    names = ("sent", "recorded", "held", "skipped", "failed", "control")
    # The panel is redrawn by the rerun after the send: read it only once it shows the heading and
    # all six totals, each inside the same wait (an element caught mid-rerun reads as '').
    panel, values, warnings = wait(driver, WAIT_S).until(lambda d: _totals(d, heading, len(names)))
    assert set(values) == {t(f"out.total_{n}", "ko") for n in names}
    assert sum(values.values()) == added  # every planned row is accounted for, none twice
    assert values[t("out.total_sent", "ko")] == 0  # outbox-only: recorded, never sent
    banner = t("out.quiet_banner", "ko").split("{")[0]
    assert any(banner in w for w in warnings) == (values[t("out.total_held", "ko")] > 0)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", panel)
    panel.screenshot(str(artifacts_dir / "outreach_result.png"))
    driver.save_screenshot(str(artifacts_dir / "outreach_page.png"))
    assert not driver.find_elements(By.CSS_SELECTOR, ERRORS)
