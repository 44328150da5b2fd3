"""The scoring page's upload: limits shown and enforced, and a file validated once, not on every rerun."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from churn_core.config import get_settings
from churn_core.data.synthetic import to_raw_csv
from churn_core.prediction import scoring
from churn_core.prediction.scoring import SCORING_RAW_COLUMNS
from tests.helpers.apptest import open_page, open_tab

pytestmark = pytest.mark.app


@pytest.fixture
def calls(monkeypatch) -> dict[str, int]:
    """Calls of validation (``prepare_for_scoring``) and scoring (``score_and_explain``), the real functions."""
    counts = {"validate": 0, "score": 0}
    validate, score = scoring.prepare_for_scoring, scoring.score_and_explain

    def counting_validate(*args, **kwargs):
        counts["validate"] += 1
        return validate(*args, **kwargs)

    def counting_score(*args, **kwargs):
        counts["score"] += 1
        return score(*args, **kwargs)

    monkeypatch.setattr(scoring, "prepare_for_scoring", counting_validate)
    monkeypatch.setattr(scoring, "score_and_explain", counting_score)
    return counts


def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    return at.file_uploader(key="score_upload").set_value((name, data, "text/csv")).run()


def _batch_page(calls: dict[str, int] | None = None) -> AppTest:
    at = open_tab(open_page("pages/scoring.py", role="analyst"), "score_tab", "score", "batch")
    if calls is not None:
        calls.update(validate=0, score=0)  # the single-customer tab, open first, scored one customer
    return at


def test_uploader_shows_both_limits() -> None:
    at = _batch_page()
    help_text = at.get("file_uploader")[0].proto.help
    assert "50 MB" in help_text and "200,000" in help_text


def test_a_file_over_the_row_limit_is_refused_naming_both_numbers(monkeypatch, customers, calls) -> None:
    monkeypatch.setenv("CHURN_MAX_UPLOAD_ROWS", "100")
    get_settings.cache_clear()
    try:
        at = _batch_page(calls)
        assert "100" in at.get("file_uploader")[0].proto.help
        raw = to_raw_csv(customers.head(250))[list(SCORING_RAW_COLUMNS)]
        _upload(at, "too_many.csv", raw.to_csv(index=False).encode())
        assert not at.exception, at.exception
        assert len(at.error) == 1 and "250" in at.error[0].value and "100" in at.error[0].value
        assert not at.success and not at.dataframe and not at.get("download_button")
        assert calls == {"validate": 0, "score": 0}  # nothing parsed, nothing scored
    finally:
        monkeypatch.delenv("CHURN_MAX_UPLOAD_ROWS")
        get_settings.cache_clear()


def test_an_upload_is_validated_once_not_on_every_rerun(customers, calls) -> None:
    at = _batch_page(calls)
    raw = to_raw_csv(customers.head(120))[list(SCORING_RAW_COLUMNS)]
    _upload(at, "batch.csv", raw.to_csv(index=False).encode())
    assert not at.exception, at.exception
    assert any("120" in s.value for s in at.success)
    first = at.dataframe[0].value
    assert calls == {"validate": 1, "score": 1}

    at.run()  # a rerun with nothing changed (e.g. a download click): neither validated nor scored again
    assert calls == {"validate": 1, "score": 1}
    at.slider(key="econ_success").set_value(0.6).run()  # new economics: scored again, not validated again
    assert not at.exception, at.exception
    assert calls == {"validate": 1, "score": 2}
    again = at.dataframe[0].value
    assert np.allclose(again["churn_probability"], first["churn_probability"])

    bad = raw.drop(columns=["Contract"])
    _upload(at, "bad.csv", bad.to_csv(index=False).encode())  # another file: validated (and refused) once
    assert at.error and calls["validate"] == 2
    at.slider(key="econ_success").set_value(0.5).run()
    assert at.error and calls == {"validate": 2, "score": 2}
