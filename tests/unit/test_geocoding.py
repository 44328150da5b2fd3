"""Offline geocoding on hand-checked Seoul addresses, the location build, and distance ranking."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from geopy.distance import great_circle
from shapely import Point

from churn_core.config import LOCATIONS_DIR, RAW_LOCATIONS_DIR
from churn_core.geo import locations
from churn_core.geo.geocoding import (
    CachedGeocoder,
    GeocodeResult,
    OfflineGeocoder,
    inside_seoul,
    legal_dong,
    parse_address,
    seoul_boundaries,
)
from tests.helpers.servers import JsonStub

pytestmark = pytest.mark.unit

# (address, place name, expected 구, expected legal dong, how the dong is found) — checked by hand
HAND_CHECKED = [
    ("서울특별시 종로구 세종대로 175 (세종로)", "", "종로구", "세종로", "parenthesis"),
    ("서울 관악구 구암길 38(봉천동 1712-9) 성현동주민센터 2층", "", "관악구", "봉천동", "parenthesis"),
    ("서울 성동구 왕십리로 222 (행당1동)", "", "성동구", "행당동", "parenthesis"),  # numbered → legal dong
    ("서울 영등포구 당산로 122, 110호(당산동3가,우미빌딩)", "", "영등포구", "당산동3가", "parenthesis"),
    ("서울시 노원구 동일로 1668 1층(상계동,롯데리아)", "", "노원구", "상계동", "parenthesis"),
    ("서울 강남구 역삼동 737", "", "강남구", "역삼동", "jibun"),
    ("서울특별시 종로구 종로1가 24", "", "종로구", "종로1가", "jibun"),
    ("서울 서대문구 거북골로14길 32 106동 1층 107호 (북가좌동, D...", "", "서대문구", "북가좌동", "parenthesis"),
    ("서울 강북구 도봉로 342 KT플라자 수유점", "KT플라자 수유점", "강북구", "수유동", "name"),
]


@pytest.mark.parametrize(("address", "name", "gu", "dong", "method"), HAND_CHECKED)
def test_offline_geocoder_on_hand_checked_addresses(address, name, gu, dong, method) -> None:
    result = OfflineGeocoder().geocode(address, name)
    assert (result.gu, result.dong, result.precision) == (gu, dong, "dong")
    assert result.geocoder == f"offline:{method}"
    polygon = seoul_boundaries().dong[(gu, dong)]
    assert polygon.contains(Point(result.lon, result.lat))  # the representative point lies inside


def test_road_address_takes_the_dong_of_its_road() -> None:
    geocoder = OfflineGeocoder().fit(["서울 강남구 선릉로 100 (대치동)", "서울 강남구 선릉로 200 (대치동)"])
    result = geocoder.geocode("서울 강남구 선릉로 150")
    assert (result.dong, result.geocoder) == ("대치동", "offline:road")
    # without the learned road the address stays at 구 precision, inside the 구
    bare = OfflineGeocoder().geocode("서울 강남구 선릉로 150")
    assert (bare.precision, bare.dong) == ("gu", None)
    assert seoul_boundaries().gu["강남구"].contains(Point(bare.lon, bare.lat))


def test_places_outside_seoul_or_without_gu_are_not_placed() -> None:
    outside = OfflineGeocoder().geocode("경기 시흥시 서울대학로278번길 61, A동 1호 (정왕동)")
    assert outside.precision is None and "outside Seoul" in outside.reason
    nowhere = OfflineGeocoder().geocode("어딘가 123")
    assert nowhere.precision is None and "구" in nowhere.reason


def test_gu_names_are_normalised_and_complete() -> None:
    b = seoul_boundaries()
    assert len(b.gu) == 25 and "성북구" in b.gu and not any(g.startswith("서울") for g in b.gu)
    assert len(b.dong) == 467
    assert legal_dong("신길6동", b.dongs_of("영등포구")) == "신길동"
    assert parse_address("서울특별시 마포구 성산로4길 15 (성산동)").road == "성산로"


def test_shipped_locations_meet_the_bars() -> None:
    loc = locations.load(LOCATIONS_DIR / "locations.csv")
    assert loc["geocode_precision"].isin(["address", "dong", "gu"]).all()
    assert all(inside_seoul(la, lo) for la, lo in zip(loc["lat"], loc["lon"], strict=True))
    assert loc["geocode_precision"].isin(["address", "dong"]).mean() >= 0.85
    assert not loc.duplicated(["source", "name", "address"]).any()
    assert loc["phone"].dropna().str.match(r"^\+82\d{8,10}$").all()  # E.164


def test_build_from_raw_keeps_every_row_accounted_for() -> None:
    frames = [locations.read_raw(p) for p in sorted(RAW_LOCATIONS_DIR.glob("*_raw.csv"))]
    n_raw = sum(map(len, frames))
    result = locations.build(frames)
    assert len(result.locations) + len(result.rejects) == n_raw  # nothing dropped silently
    reasons = result.rejects.groupby("reason").size().to_dict()
    assert reasons["exact duplicate"] == 9  # the learning-centre list's duplicates
    assert reasons["address is outside Seoul"] == 6
    assert any("detail_url cleared" in note for note in result.notes)


def test_cache_geocodes_an_address_once(tmp_path) -> None:
    class Counting:
        name = "counting"
        calls = 0

        def geocode(self, address, place_name=""):
            Counting.calls += 1
            if "실패" in address:
                return GeocodeResult(None, None, None, None, None, self.name, "quota exceeded")
            return GeocodeResult(37.5, 127.0, "address", "중구", None, self.name)

    cached = CachedGeocoder(Counting(), tmp_path / "cache.sqlite")
    for _ in range(3):
        assert cached.geocode("서울 중구 세종대로 110").lat == 37.5
        assert cached.geocode("서울 중구 실패로 1").reason == "quota exceeded"
    again = CachedGeocoder(Counting(), tmp_path / "cache.sqlite")  # a new run reads the same file
    again.geocode("서울 중구 세종대로 110")
    assert Counting.calls == 1 + 3 and again.hits == 1  # failures are retried, successes are not


def test_haversine_matches_geopy_and_ranking_is_by_distance() -> None:
    city_hall, gangnam = (37.5663, 126.9779), (37.4979, 127.0276)
    ours = locations.haversine_km(*city_hall, *gangnam)
    assert ours == pytest.approx(great_circle(city_hall, gangnam).km, rel=1e-4)
    assert 8.0 < ours < 9.5
    rng = np.random.default_rng(0)
    places = pd.DataFrame({"name": [f"p{i}" for i in range(300)], "lat": rng.uniform(37.45, 37.68, 300),
                           "lon": rng.uniform(126.8, 127.15, 300)})  # fmt: skip
    got = locations.nearest(places, *city_hall, k=10)
    brute = places.assign(d=locations.haversine_km(*city_hall, places["lat"], places["lon"])).nsmallest(10, "d")
    assert got["name"].tolist() == brute["name"].tolist()
    assert np.allclose(got["distance_km"], brute["d"]) and got["distance_km"].is_monotonic_increasing
    assert locations.nearest(places.iloc[:0], *city_hall).empty


def _kakao(req):
    """Kakao Local's address search: 429 for addresses with '한도', none for '없는', 401 for a bad key."""
    query = req["query"]["query"]
    if req["headers"].get("Authorization") != "KakaoAK test-key":
        return 401, {"errorType": "AccessDeniedError", "message": "wrong appKey"}
    if "한도" in query:
        return 429, {"errorType": "RequestThrottled", "message": "API limit has been exceeded."}
    if "없는" in query:
        return 200, {"documents": [], "meta": {"total_count": 0}}
    doc = {"x": "126.9769", "y": "37.5759", "address_name": query,
           "address": {"region_2depth_name": "종로구", "region_3depth_name": "세종로"}}  # fmt: skip
    return 200, {"documents": [doc], "meta": {"total_count": 1}}


def test_kakao_geocoder_errors_leave_rows_ungeocoded_with_a_reason(tmp_path) -> None:
    from churn_core.geo.geocoding import KakaoGeocoder

    with JsonStub(_kakao) as stub:
        kakao = CachedGeocoder(KakaoGeocoder("test-key", base_url=stub.url), tmp_path / "cache.sqlite")
        ok = kakao.geocode("서울특별시 종로구 세종대로 175")
        assert (ok.precision, ok.gu, ok.dong, ok.lat) == ("address", "종로구", "세종로", 37.5759)
        assert kakao.geocode("서울특별시 종로구 세종대로 175").lat == 37.5759
        asked = [r["query"]["query"] for r in stub.requests]
        assert asked.count("서울특별시 종로구 세종대로 175") == 1  # cached: asked once
        quota = kakao.geocode("서울 한도초과로 1")
        assert quota.precision is None and quota.reason.startswith("quota exceeded")
        missing = kakao.geocode("서울 없는로 1")
        assert missing.precision is None and missing.reason == "address not found"
        denied = KakaoGeocoder("wrong-key", base_url=stub.url).geocode("서울 종로구 세종대로 1")
        assert denied.precision is None and denied.reason.startswith("HTTP 401")
        frame = pd.DataFrame({"source": "kt", "place_type": "kt_plaza", "name": ["a", "b"], "phone": None,
                              "address": ["서울특별시 종로구 세종대로 175", "서울 한도초과로 1"],
                              "detail_url": None, "scraped_at": "2023-11"})  # fmt: skip
        located, rejects = locations.geocode(frame, kakao)
    assert len(located) == 1 and rejects.iloc[0]["reason"].startswith("quota exceeded")
    down = KakaoGeocoder("test-key", base_url="http://127.0.0.1:9", timeout=1).geocode("서울 종로구 세종대로 1")
    assert down.precision is None and down.reason.startswith("request failed")


def test_nominatim_geocoder_through_geopy_against_a_local_stub() -> None:
    from churn_core.geo.geocoding import NominatimGeocoder

    def respond(req):
        q = req["query"]["q"]
        if "고장" in q:
            return 503, None
        return 200, [] if "없는" in q else [{"lat": "37.5759", "lon": "126.9768", "display_name": "세종로"}]

    with JsonStub(respond) as stub:
        osm = NominatimGeocoder(domain=stub.url.removeprefix("http://"), scheme="http")
        found = osm.geocode("서울 종로구 세종대로 175")
        assert (found.precision, found.lat, found.lon) == ("address", 37.5759, 126.9768)
        first = stub.requests[0]
        assert (first["path"], first["query"]["q"], first["query"]["countrycodes"]) == (
            "/search", "서울특별시 종로구 세종대로 175", "kr",
        )  # fmt: skip
        assert osm.geocode("서울 없는로 1").reason == "address not found"
        failed = osm.geocode("서울 고장로 1")
    assert failed.precision is None and failed.reason.startswith("request failed")
