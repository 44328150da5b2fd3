"""AppTest of the map page: layers, 구 filter, nearest places from a typed address."""

from __future__ import annotations

import pytest

from churn_core.i18n import t
from tests.helpers.apptest import open_page

pytestmark = pytest.mark.app


def test_map_page_renders_the_map_and_finds_the_nearest_places() -> None:
    at = open_page("pages/map.py")
    assert at.title[0].value == t("map.title", "ko")
    assert any("1,0" in c.value or "곳 표시" in c.value for c in at.caption)
    assert not at.dataframe  # no location yet: an explanation instead of tables
    assert any(t("map.no_origin", "ko") in i.value for i in at.info)
    at.sidebar.text_input(key="map_address").input("서울특별시 종로구 세종대로 175 (세종로)").run()
    assert not at.exception, at.exception
    kt, centres = (df.value for df in at.dataframe)
    assert len(kt) == 3 and len(centres) == 3
    # the address names its legal dong only: distances are bands ("약 0.0–1.8 km"), the nearest within 2 km
    lows = [float(d.removeprefix("약 ").split("–")[0]) for d in kt["distance"]]
    assert lows[0] < 2.0 and max(lows) < 2.0  # Gwanghwamun has KT stores within walking distance
    assert set(kt["gu"]) <= {"종로구", "중구", "서대문구"}
    assert at.get("download_button")


def test_filters_and_english(tmp_path) -> None:
    at = open_page("pages/map.py")
    at.multiselect(key="map_gus").set_value(["강남구"]).run()
    at.sidebar.selectbox(key="_lang_widget").set_value("en").run()
    assert at.title[0].value == t("map.title", "en")
    at.sidebar.slider(key="map_k").set_value(5).run()
    at.sidebar.text_input(key="map_address").input("서울 강남구 테헤란로 152 (역삼동)").run()
    kt, centres = (df.value for df in at.dataframe)
    assert 1 <= len(centres) <= 5 and set(centres["gu"]) == {"강남구"}  # 강남구 has few centres
    assert len(kt) == 5 and set(kt["gu"]) == {"강남구"}
    at.sidebar.text_input(key="map_address").input("경기 시흥시 서울대학로 1").run()
    assert any("Could not find" in w.value or "outside" in w.value for w in at.sidebar.warning)
    at.multiselect(key="map_layers").set_value([]).run()
    assert any(t("map.empty", "en") in i.value for i in at.info)
