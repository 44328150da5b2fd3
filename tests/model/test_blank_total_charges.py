"""A blank TotalCharges in a file to score is accepted only where tenure is 0 (not billed yet)."""

from __future__ import annotations

import pandas as pd
import pytest

from churn_core.data.loading import DataValidationError, clean_text_cells
from churn_core.data.synthetic import to_raw_csv
from churn_core.prediction.scoring import SCORING_RAW_COLUMNS, prepare_for_scoring, score_csv_chunks
from churn_core.prediction.training import load_bundle

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def raw(customers) -> pd.DataFrame:
    """40 billed customers (tenure > 0) as a file to score: raw names, text cells."""
    billed = customers[customers["tenure"] > 0].head(40)
    return to_raw_csv(billed)[list(SCORING_RAW_COLUMNS)].astype(str)


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def test_blank_total_charges_with_tenure_is_refused_naming_the_lines(raw) -> None:
    bad = raw.copy()
    bad.loc[bad.index[[4, 17]], "TotalCharges"] = " "  # blank cells as Excel leaves them
    with pytest.raises(DataValidationError) as info:
        list(score_csv_chunks(load_bundle().model, _csv(bad)))
    problems = info.value.problems
    blank = problems[problems["reason"].str.contains("TotalCharges is blank but tenure > 0")]
    assert len(blank) == 1, problems
    assert sorted(blank.iloc[0]["lines"]) == [6, 19]  # CSV lines: header is line 1


def test_blank_total_charges_with_tenure_zero_scores_as_zero_usd(raw) -> None:
    new = raw.copy()
    new.loc[new.index[3], ["tenure", "TotalCharges"]] = ["0", ""]
    parts = list(score_csv_chunks(load_bundle().model, _csv(new)))
    assert sum(len(part) for part, _ in parts) == 40
    prepared = prepare_for_scoring(clean_text_cells(new.reset_index(drop=True)))
    assert prepared.loc[3, "total_charges"] == 0.0 and prepared.loc[3, "tenure"] == 0
    assert prepared["total_charges"].drop(index=3).gt(0).all()
