"""Upload a CSV to the scoring page in a real browser and download the scored file (signed in through the form)."""

from __future__ import annotations

import pandas as pd
import pytest
from selenium.webdriver.common.by import By

from churn_core.data.synthetic import to_raw_csv
from churn_core.formatting import column_labels
from churn_core.i18n import t
from churn_core.prediction.business import RISK_TIERS
from tests.helpers.apptest import ACCOUNT_PASSWORD, role_user
from tests.helpers.browser import wait

pytestmark = pytest.mark.browser

ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'
WAIT_S = 120  # scoring an uploaded file takes longer than drawing a page


def test_upload_csv_and_download_scores(driver, app_url, artifacts_dir, customers, tmp_path) -> None:
    upload = tmp_path / "to_score.csv"
    to_raw_csv(customers.head(400)).drop(columns=["Churn", "churn_rate"]).to_csv(upload, index=False)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})

    driver.get(f"{app_url}/scoring")  # signed out: only the sign-in form, no customer data
    user = wait(driver, WAIT_S).until(
        lambda d: d.find_element(By.CSS_SELECTOR, f'input[aria-label="{t("out.username", "ko")}"]')
    )
    assert not driver.find_elements(By.CSS_SELECTOR, '[role="tab"], [data-testid="stDownloadButton"]')
    user.send_keys(role_user("analyst"))
    driver.find_element(By.CSS_SELECTOR, 'input[type="password"]').send_keys(ACCOUNT_PASSWORD)
    driver.find_element(By.CSS_SELECTOR, '[data-testid="stFormSubmitButton"] button').click()
    wait(driver, WAIT_S).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, '[role="tab"]')) == 3)
    batch_tab = driver.find_elements(By.CSS_SELECTOR, '[role="tab"]')[1]
    batch_tab.click()
    file_input = wait(driver, WAIT_S).until(lambda d: d.find_element(By.CSS_SELECTOR, 'input[type="file"]'))
    file_input.send_keys(str(upload))
    wait(driver, WAIT_S).until(lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="stAlertContentSuccess"]'))
    assert "400" in driver.find_element(By.CSS_SELECTOR, '[data-testid="stAlertContentSuccess"]').text
    driver.save_screenshot(str(artifacts_dir / "scoring_batch.png"))
    assert not driver.find_elements(By.CSS_SELECTOR, ERRORS)

    button = wait(driver, WAIT_S).until(
        lambda d: d.find_element(By.CSS_SELECTOR, '[data-testid="stDownloadButton"] button')
    )
    button.click()
    target = downloads / "churn_scores.csv"
    wait(driver, WAIT_S).until(lambda d: target.exists() and not list(downloads.glob("*.crdownload")))
    scored = pd.read_csv(target, encoding="utf-8-sig")
    col = column_labels(("customer_id", "churn_probability", "risk_score", "risk_tier", "expected_profit_usd"), "ko")
    assert len(scored) == 400  # headers and tiers in the user's language, as on the page
    assert list(scored[col["customer_id"]]) == list(customers.head(400)["customer_id"])
    assert scored[col["churn_probability"]].between(0, 1).all()
    assert {col["risk_score"], col["risk_tier"], col["expected_profit_usd"]} <= set(scored.columns)
    assert set(scored[col["risk_tier"]]) <= {t(f"tier.{name}", "ko") for name, _ in RISK_TIERS}
