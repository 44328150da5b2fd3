"""AppTest of "nearest to me" (#16): a typed address without a dong is shown as approximate
(bands, never "0.00 km" for places sharing a centroid, a prompt to click the map or add the
dong); with a Kakao key the address goes to Kakao (a local stub) and distances from it are
exact where the place is; phones in Korean format, missing ones as "–"."""

from __future__ import annotations

import pytest

from churn_core.config import get_settings
from churn_core.i18n import t
from tests.helpers.apptest import open_page
from tests.helpers.servers import JsonStub

pytestmark = pytest.mark.app

GWANGHWAMUN = (37.5759, 126.9769)


def _tables(at):
    kt, centres = (df.value for df in at.dataframe)
    return kt, centres


def test_a_gu_level_address_is_shown_as_approximate_not_zero_km() -> None:
    at = open_page("pages/map.py")
    at.sidebar.text_input(key="map_address").input("서울 은평구 통일로 684").run()
    assert not at.exception, at.exception
    kt, centres = _tables(at)
    assert set(kt["gu"]) == {"은평구"}
    for table in (kt, centres):
        assert "0.00 km" not in set(table["distance"])
        assert all(d.startswith("약 0.0–") for d in table["distance"]), table["distance"].tolist()
    assert "KT플라자 연신내역점" in set(kt["name"])  # one of the two plazas placed on the 구's own point
    prompt = t("map.approximate_gu", "ko", area="**은평구**").split("**")[0]
    assert any(prompt in w.value and "은평구" in w.value for w in at.sidebar.warning)
    assert any(t("map.distance_note", "ko") in c.value for c in at.caption)
    # phones as Koreans write them; learning centres have none: "–", not "None"
    assert kt["phone"].str.fullmatch(r"0\d{1,2}-\d{3,4}-\d{4}").all(), kt["phone"].tolist()
    assert set(centres["phone"]) == {"–"}


def test_sejong_daero_without_a_dong_stays_in_jongno() -> None:
    """Before: the 종로구 point lay near 홍제역, and dealers in 서대문구 홍제동 came first at "2.16 km"."""
    at = open_page("pages/map.py")
    at.sidebar.text_input(key="map_address").input("서울특별시 종로구 세종대로 175").run()
    kt, _ = _tables(at)
    assert set(kt["gu"]) == {"종로구"}
    assert not any("km" in d and "–" not in d for d in kt["distance"])  # no exact figure from a 구 point


def _kakao(req):
    if req["headers"].get("Authorization") != "KakaoAK test-key":
        return 401, {"message": "wrong appKey"}
    if "고장" in req["query"]["query"]:
        return 500, {"message": "internal"}
    region = {"region_2depth_name": "종로구", "region_3depth_name": "세종로"}
    doc = {"x": str(GWANGHWAMUN[1]), "y": str(GWANGHWAMUN[0]), "address_type": "ROAD_ADDR", "address": region}
    return 200, {"documents": [doc], "meta": {"total_count": 1}}


def test_typed_addresses_go_through_kakao_when_a_key_is_set(monkeypatch, tmp_path) -> None:
    with JsonStub(_kakao) as stub:
        monkeypatch.setenv("CHURN_KAKAO_API_KEY", "test-key")
        monkeypatch.setenv("CHURN_KAKAO_BASE_URL", stub.url)
        monkeypatch.setenv("CHURN_GEOCODE_CACHE_PATH", str(tmp_path / "geocode_cache.sqlite"))
        get_settings.cache_clear()
        at = open_page("pages/map.py")
        at.sidebar.text_input(key="map_address").input("서울특별시 종로구 세종대로 175").run()
        assert not at.exception, at.exception
        assert [r["query"]["query"] for r in stub.requests] == ["서울특별시 종로구 세종대로 175"]
        assert any(t("map.precision_address", "ko") in c.value for c in at.sidebar.caption)
        assert not at.sidebar.warning  # an exact position: no prompt
        kt, _ = _tables(at)
        lows = [float(d.removeprefix("약 ").split("–")[0].removesuffix(" km")) for d in kt["distance"]]
        assert lows[0] < 0.5 and set(kt["gu"]) <= {"종로구", "중구"}  # stores at Gwanghwamun
        at.sidebar.slider(key="map_k").set_value(4).run()  # a rerun asks the cache, not Kakao
        assert len(stub.requests) == 1
        at.sidebar.text_input(key="map_address").input("서울 은평구 고장로 1").run()  # Kakao fails
        assert any("HTTP 500" in c.value for c in at.sidebar.caption)
        assert any("은평구" in w.value for w in at.sidebar.warning)  # offline 구 position, approximate
    get_settings.cache_clear()
