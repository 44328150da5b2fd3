"""Gaps of issue #16 a browser review found, checked without a browser: contact-import problems
translated (codes and parameters, English kept for logs), the spread chart's title fits its
column, and the map names its base layer instead of folium's ``openstreetmap``."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from churn_core import charts
from churn_core.formatting import contact_problems_table
from churn_core.geo import locations, maps
from churn_core.i18n import t
from churn_core.outreach.contacts import CONTACT_PROBLEMS, validate_contacts

pytestmark = pytest.mark.unit

HEADER = "customerID,name,mobile,email,sms_consent,sms_consent_date,email_consent,email_consent_date,opted_out\n"
ROWS = (
    "NO-SUCH-ONE,김하나,010-2345-6781,,Y,2026-01-05,N,,N\n"  # unknown customer
    "KNOWN-1,이둘,010-2345-6782,,Y,,N,,N\n"  # SMS consent without its date
    "KNOWN-2,박셋,12345,,N,,N,,maybe\n"  # bad mobile, bad flag
    "KNOWN-3,최넷,010-2345-6784,,N,,N,2027-01-01,N\n"  # a date in the future
)


@pytest.fixture(scope="module")
def result():
    data = (HEADER + ROWS).encode()
    return validate_contacts(data, {"KNOWN-1", "KNOWN-2", "KNOWN-3"}, "c.csv", today=dt.date(2026, 11, 23))


def test_contact_problems_carry_codes_and_keep_english_reasons_for_logs(result) -> None:
    problems = result.problems
    assert set(problems["code"]) == {"unknown_customer", "consent_without_date", "bad_mobile", "bad_flag",
                                     "future_date"}  # fmt: skip
    for p in problems.to_dict("records"):
        assert p["reason"] == CONTACT_PROBLEMS[p["code"]].format(**p["params"])
    assert "sms_consent is yes but has no date (consent must be provable)" in set(problems["reason"])


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_contact_problems_table_translates_headers_and_reasons(result, lang) -> None:
    shown = contact_problems_table(result.problems, lang)
    assert list(shown.columns) == [t(f"col.contact_problem_{c}", lang) for c in ("line", "column", "value", "reason")]
    reasons = list(shown[t("col.contact_problem_reason", lang)])
    expected = [t(f"contact_problem.{p['code']}", lang, **p["params"]) for p in result.problems.to_dict("records")]
    assert reasons == expected and len(reasons) == len(result.problems)
    if lang == "ko":
        assert not set(reasons) & set(result.problems["reason"]), reasons  # none of the English reasons
        assert t("contact_problem.future_date", "ko", today="2026-11-23") in reasons  # the parameter is kept
    else:
        assert "no such customer in the warehouse" in reasons
    assert list(shown[t("col.contact_problem_line", lang)]) == list(result.problems["line"])


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_spread_chart_title_fits_a_narrow_column_and_keeps_its_note(lang) -> None:
    import pandas as pd

    spread = pd.DataFrame({"feature": ["contract", "tenure_group"], "spread": [0.4, 0.3]})
    title = charts.spread_bars(spread, lang).layout.title.text
    lines = [re.sub("<[^>]+>", "", line) for line in title.split("<br>")]
    assert len(lines[0]) <= 40, lines  # the main title is short; the note goes on its own line
    assert "".join(lines).replace(" (", "(") == t("eda.spread_title", lang).replace(" (", "(")  # nothing lost
    assert lines[-1].endswith(")")


def test_map_base_layer_is_named_by_its_label() -> None:
    from churn_core.config import LOCATIONS_DIR

    places = locations.load(LOCATIONS_DIR / "locations.csv")
    html = maps.build_map(places, labels={"base_layer": "기본 지도"}).get_root().render()
    assert json.dumps("기본 지도")[1:-1] in html or "기본 지도" in html
    assert '"openstreetmap"' not in html
    unnamed = maps.build_map(places).get_root().render()
    assert '"openstreetmap"' not in unnamed and '"OpenStreetMap"' in unnamed
