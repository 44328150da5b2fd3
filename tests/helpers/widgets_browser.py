"""Driving Streamlit widgets in a real browser: pick options of a selectbox or multiselect
found by its label, switch the UI language, read chips and the open tab."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.helpers.apptest import ACCOUNT_PASSWORD, role_user
from tests.helpers.browser import wait

#: ``data-testid`` of Streamlit's select widgets.
SELECTBOX, MULTISELECT = "stSelectbox", "stMultiSelect"


def widget(driver, testid: str, label: str):
    """The widget of kind ``testid`` whose label reads ``label`` (waits for it)."""

    def find(d):
        for el in d.find_elements(By.CSS_SELECTOR, f'[data-testid="{testid}"]'):
            labels = el.find_elements(By.CSS_SELECTOR, '[data-testid="stWidgetLabel"]')
            if labels and labels[0].text.strip() == label:
                return el
        return False

    return wait(driver).until(find)


def idle(driver) -> None:
    """Wait until the app has finished its rerun (no running indicator, no stale elements)."""
    wait(driver).until(
        lambda d: (
            not d.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]')
            and d.execute_script("return document.readyState") == "complete"
        )
    )


def choose(driver, testid: str, label: str, option: str) -> None:
    """Open the select widget labelled ``label`` and click its option ``option``."""
    box = widget(driver, testid, label)
    field = box.find_element(By.CSS_SELECTOR, ".react-aria-ComboBox input")
    field.click()
    field.send_keys(option)  # long lists show only the options that match
    wait(driver).until(
        lambda d: [o for o in d.find_elements(By.CSS_SELECTOR, '[role="option"]') if o.text.strip() == option]
    )[0].click()
    if testid == MULTISELECT:  # the list stays open after a pick
        field.send_keys(Keys.ESCAPE)
    idle(driver)


def chips(driver, label: str) -> list[str]:
    """The chips (selected values) of the multiselect labelled ``label``."""
    box = widget(driver, MULTISELECT, label)
    tags = box.find_elements(By.CSS_SELECTOR, ".react-aria-ComboBox [data-tag]")
    return [tag.get_attribute("aria-label") for tag in tags]


def selected(driver, label: str) -> str:
    """The value shown by the selectbox labelled ``label``."""
    box = widget(driver, SELECTBOX, label)
    return box.find_element(By.CSS_SELECTOR, ".react-aria-ComboBox input").get_attribute("value")


def switch_language(driver, to: str, now: str) -> None:
    """Pick language ``to`` (its own name, e.g. "English") in the sidebar selector labelled ``now``."""
    choose(driver, SELECTBOX, now, to)


def open_tab_text(driver) -> str:
    """Text of the selected tab."""
    return wait(driver).until(lambda d: d.find_element(By.CSS_SELECTOR, '[role="tab"][aria-selected="true"]')).text


def click_tab(driver, title: str) -> None:
    """Click the tab titled ``title`` and wait for the rerun."""
    wait(driver).until(
        lambda d: [t for t in d.find_elements(By.CSS_SELECTOR, '[role="tab"]') if t.text.strip() == title]
    )[0].click()
    idle(driver)


def sign_in(driver, role: str, seconds: float = 120) -> None:
    """Sign in through the form a page shows as the test account of ``role``."""
    from churn_core.i18n import t

    user = wait(driver, seconds).until(
        lambda d: d.find_element(By.CSS_SELECTOR, f'input[aria-label="{t("out.username", "ko")}"]')
    )
    user.send_keys(role_user(role))
    driver.find_element(By.CSS_SELECTOR, 'input[type="password"]').send_keys(ACCOUNT_PASSWORD)
    driver.find_element(By.CSS_SELECTOR, '[data-testid="stFormSubmitButton"] button').click()
    idle(driver)
