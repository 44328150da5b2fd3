"""A file with a few bad rows on the scoring page, in a real browser (issue #16): the batch-error
panel (screenshot saved), the problem list and the rejected rows downloaded, then the valid rows
scored, with no progress bar left on screen."""

from __future__ import annotations

import pandas as pd
import pytest
from selenium.webdriver.common.by import By

from churn_core.config import RAW_CUSTOMERS_CSV
from churn_core.i18n import t
from churn_core.prediction.scoring import SCORING_RAW_COLUMNS
from tests.helpers.apptest import ACCOUNT_PASSWORD, role_user
from tests.helpers.browser import wait

pytestmark = pytest.mark.browser

WAIT_S = 120
ROWS = 80
BAD = (4, 31)  # data rows with an unknown contract: CSV lines 6 and 33


def _download(driver, label: str, target) -> pd.DataFrame:
    button = wait(driver, WAIT_S).until(
        lambda d: next(
            (b for b in d.find_elements(By.CSS_SELECTOR, '[data-testid="stDownloadButton"] button') if b.text == label),
            None,
        )
    )
    button.click()
    folder = target.parent
    wait(driver, WAIT_S).until(lambda d: target.exists() and not list(folder.glob("*.crdownload")))
    return pd.read_csv(target, encoding="utf-8-sig", dtype=str)


def test_batch_errors_panel_downloads_and_valid_rows(driver, app_url, artifacts_dir, tmp_path) -> None:
    frame = pd.read_csv(RAW_CUSTOMERS_CSV, dtype=str, keep_default_na=False, nrows=ROWS)[list(SCORING_RAW_COLUMNS)]
    frame.loc[list(BAD), "Contract"] = ["Forever", "Weekly"]
    upload = tmp_path / "partly_bad.csv"
    frame.to_csv(upload, index=False, sep=";")  # a semicolon file, as a European or Korean Excel saves it
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})

    driver.get(f"{app_url}/scoring")
    user = wait(driver, WAIT_S).until(
        lambda d: d.find_element(By.CSS_SELECTOR, f'input[aria-label="{t("out.username", "ko")}"]')
    )
    user.send_keys(role_user("analyst"))
    driver.find_element(By.CSS_SELECTOR, 'input[type="password"]').send_keys(ACCOUNT_PASSWORD)
    driver.find_element(By.CSS_SELECTOR, '[data-testid="stFormSubmitButton"] button').click()
    wait(driver, WAIT_S).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, '[role="tab"]')) == 3)
    driver.find_elements(By.CSS_SELECTOR, '[role="tab"]')[1].click()
    file_input = wait(driver, WAIT_S).until(lambda d: d.find_element(By.CSS_SELECTOR, 'input[type="file"]'))
    file_input.send_keys(str(upload))

    alerts = '[data-testid="stAlertContentError"]'
    error = wait(driver, WAIT_S).until(
        lambda d: next((e for e in d.find_elements(By.CSS_SELECTOR, alerts) if e.text), None)
    )
    assert "2" in error.text and str(ROWS) in error.text
    wait(driver, WAIT_S).until(lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="stDataFrame"]'))
    assert not driver.find_elements(By.CSS_SELECTOR, '[data-testid="stProgress"], [data-testid="stException"]')
    driver.save_screenshot(str(artifacts_dir / "scoring_batch_errors.png"))

    problems = _download(driver, t("upload.download_problems", "ko"), downloads / "problems.csv")
    assert len(problems) == 1 and problems.iloc[0, 0] == "Contract"
    assert problems.iloc[0].str.contains("6, 33").any()  # every line, not a sample
    rejected = _download(driver, t("upload.download_rejected", "ko"), downloads / "rejected_rows.csv")
    assert list(rejected[t("upload.col_line", "ko")]) == ["6", "33"]
    assert list(rejected["customerID"]) == list(frame.loc[list(BAD), "customerID"])
    assert rejected[t("upload.col_problems", "ko")].str.startswith("Contract").all()

    score = next(
        b
        for b in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stButton"] button')
        if b.text == t("upload.score_valid", "ko", n=ROWS - 2)
    )
    score.click()
    success = wait(driver, WAIT_S).until(
        lambda d: d.find_element(By.CSS_SELECTOR, '[data-testid="stAlertContentSuccess"]')
    )
    assert str(ROWS - 2) in success.text
    assert not driver.find_elements(By.CSS_SELECTOR, '[data-testid="stProgress"], [data-testid="stException"]')
    driver.save_screenshot(str(artifacts_dir / "scoring_batch_valid_rows.png"))
