"""Switching the UI language in a real browser keeps every selection, shown in the new language.

AppTest cannot see this: it formats a widget's value with the current ``format_func`` on
every run, while the browser keeps the labels it was last sent and posts them back.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from churn_core.geo.locations import KT_STORE_TYPES
from churn_core.geo.maps import DEFAULT_LAYERS
from churn_core.i18n import t
from tests.helpers.browser import wait
from tests.helpers.widgets_browser import (
    MULTISELECT,
    SELECTBOX,
    chips,
    choose,
    click_tab,
    idle,
    open_tab_text,
    selected,
    sign_in,
    switch_language,
    widget,
)

pytestmark = pytest.mark.browser


def _summary(driver) -> str:
    return wait(driver).until(
        lambda d: next(
            (p.text for p in d.find_elements(By.CSS_SELECTOR, '[data-testid="stMarkdownContainer"] p')
             if "선택된 고객" in p.text or "customers selected" in p.text),
            False,
        )
    )  # fmt: skip


def test_eda_contract_filter_survives_switching_to_english(driver, app_url, artifacts_dir) -> None:
    driver.get(f"{app_url}/eda")
    wait(driver).until(lambda d: "7,043" in _summary(d))
    choose(driver, MULTISELECT, t("filters.contract", "ko"), t("value.Month-to-month", "ko"))
    wait(driver).until(lambda d: "3,875" in _summary(d))
    switch_language(driver, "English", t("app.language", "ko"))
    wait(driver).until(lambda d: "customers selected" in _summary(d))
    assert "3,875" in _summary(driver)
    assert chips(driver, t("filters.contract", "en")) == [t("value.Month-to-month", "en")]
    # the next interaction posts the widget's value again: the filter must still hold
    driver.find_element(By.XPATH, f"//label[contains(., '{t('filters.senior_only', 'en')}')]").click()
    idle(driver)
    wait(driver).until(lambda d: "3,875" not in _summary(d))
    driver.save_screenshot(str(artifacts_dir / "language_switch_eda.png"))
    assert "807 customers" in _summary(driver)


def test_eda_open_tab_survives_switching_to_english(driver, app_url) -> None:
    driver.get(f"{app_url}/eda")
    click_tab(driver, t("eda.tab_correlation", "ko"))
    wait(driver).until(lambda d: open_tab_text(d) == t("eda.tab_correlation", "ko"))
    switch_language(driver, "English", t("app.language", "ko"))
    wait(driver).until(lambda d: "customers selected" in _summary(d))
    assert open_tab_text(driver) == t("eda.tab_correlation", "en")
    click_tab(driver, t("eda.tab_reasons", "en"))  # the tabs still answer in the new language
    wait(driver).until(lambda d: open_tab_text(d) == t("eda.tab_reasons", "en"))


def _places_shown(driver, lang: str) -> str:
    head = t("map.shown", lang, n="\0", share="").split("\0")
    text = wait(driver).until(
        lambda d: next(
            (c.text for c in d.find_elements(By.CSS_SELECTOR, '[data-testid="stCaptionContainer"]')
             if c.text.startswith(head[0]) and head[1][:8] in c.text),
            False,
        )
    )  # fmt: skip
    return text.removeprefix(head[0]).split(head[1][:3])[0]


def test_map_layers_and_store_types_survive_switching_to_english(driver, app_url) -> None:
    driver.get(f"{app_url}/map")
    n = _places_shown(driver, "ko")
    assert int(n.replace(",", "")) > 0
    layers = chips(driver, t("map.layers", "ko"))
    assert layers == [t(f"map.layer.{k}", "ko") for k in DEFAULT_LAYERS]
    switch_language(driver, "English", t("app.language", "ko"))
    assert _places_shown(driver, "en") == n
    assert chips(driver, t("map.layers", "en")) == [t(f"map.layer.{k}", "en") for k in DEFAULT_LAYERS]
    assert chips(driver, t("map.store_types", "en")) == [t(f"map.layer.{k}", "en") for k in KT_STORE_TYPES]
    # the next interaction posts every widget's value again: nothing may be dropped
    choose(driver, MULTISELECT, t("map.layers", "en"), t("map.layer.skt", "en"))
    assert chips(driver, t("map.store_types", "en")) == [t(f"map.layer.{k}", "en") for k in KT_STORE_TYPES]
    assert chips(driver, t("map.layers", "en")) == [t(f"map.layer.{k}", "en") for k in (*DEFAULT_LAYERS, "skt")]
    before = int(n.replace(",", ""))  # the caption follows once the rerun of the click has drawn
    wait(driver).until(lambda d: int(_places_shown(d, "en").replace(",", "")) > before)


def test_scoring_picked_customer_survives_switching_to_english(driver, app_url, customers) -> None:
    driver.get(f"{app_url}/scoring")
    sign_in(driver, "analyst")
    picked = customers["customer_id"].iloc[100]
    choose(driver, SELECTBOX, t("score.customer", "ko"), picked)
    wait(driver).until(lambda d: selected(d, t("score.customer", "ko")) == picked)
    contract = t("feature.contract", "ko")
    choose(driver, SELECTBOX, contract, t("value.Two year", "ko"))  # a what-if choice on the picked customer
    switch_language(driver, "English", t("app.language", "ko"))
    wait(driver).until(lambda d: selected(d, t("score.customer", "en")) == picked)
    assert selected(driver, t("feature.contract", "en")) == t("value.Two year", "en")
    # the next interaction: the customer and the what-if choice are still there
    cost = widget(driver, "stNumberInput", t("model.offer_cost", "en"))
    cost.find_element(By.CSS_SELECTOR, '[data-testid="stNumberInputStepUp"]').click()
    idle(driver)
    assert selected(driver, t("score.customer", "en")) == picked
    assert selected(driver, t("feature.contract", "en")) == t("value.Two year", "en")
