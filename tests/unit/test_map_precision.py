"""Positions with precision (#16): typed addresses say how precisely they were placed, distances
from approximate positions are bands, Kakao is used for typed addresses when configured (a
local stub on 127.0.0.1), phones are shown as Koreans write them."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import SecretStr

from churn_core.config import LOCATIONS_DIR, Settings
from churn_core.geo import locations
from churn_core.geo.geocoding import FallbackGeocoder, OfflineGeocoder, kakao_precision, typed_address_geocoder
from churn_core.geo.precision import Origin, display_phone, distance_bands, distance_text, nearest_to
from tests.helpers.servers import JsonStub

pytestmark = pytest.mark.unit

GWANGHWAMUN = (37.5759, 126.9769)  # 세종대로 175 (세종문화회관), checked on the map


@pytest.fixture(scope="module")
def shipped() -> pd.DataFrame:
    return locations.load(LOCATIONS_DIR / "locations.csv")


@pytest.fixture(scope="module")
def offline(shipped) -> OfflineGeocoder:
    return OfflineGeocoder().fit(shipped["address"])


@pytest.mark.parametrize(
    ("address", "precision"),
    [
        ("서울특별시 종로구 세종대로 175", "gu"),  # no dong written, road not learned
        ("서울 은평구 통일로 684", "gu"),
        ("서울특별시 종로구 세종대로 175 (세종로)", "dong"),
    ],
)
def test_typed_addresses_report_their_precision(offline, address, precision) -> None:
    assert offline.geocode(address).precision == precision
    assert Origin.from_geocode(offline.geocode(address)).approximate


def test_places_sharing_a_centroid_are_a_band_not_zero_km(offline, shipped) -> None:
    origin = Origin.from_geocode(offline.geocode("서울 은평구 통일로 684"))
    kt = shipped[shipped["source"] == "kt"]
    near = nearest_to(kt, origin, k=3)
    # the two plazas placed only at 은평구 sit on the origin's own point: 0.00 km before
    same_point = near[near["distance_km"] < 1e-9]
    assert len(same_point) >= 1
    assert not near["distance_exact"].any()
    assert (near["distance_max_km"] > 2.0).all()  # anywhere in 은평구: kilometres, not zero
    assert (near["distance_min_km"] <= near["distance_km"]).all()
    assert (near["distance_km"] <= near["distance_max_km"]).all()
    bands = near[["distance_min_km", "distance_max_km", "distance_exact"]].itertuples(index=False)
    texts = [distance_text(lo, hi, ok) for lo, hi, ok in bands]
    assert all(t.startswith("≈ 0.0–") for t in texts) and "0.00 km" not in texts
    assert set(near["gu"]) == {"은평구"}  # places inside the origin's 구 come first


def test_a_gu_level_origin_ranks_places_of_its_gu_first(offline, shipped) -> None:
    """세종대로 175 without a dong: before, dealers in 서대문구 홍제동 came first (2.16 km from the 구 point)."""
    origin = Origin.from_geocode(offline.geocode("서울특별시 종로구 세종대로 175"))
    near = nearest_to(shipped[shipped["source"] == "kt"], origin, k=3)
    assert set(near["gu"]) == {"종로구"}
    assert (near["distance_min_km"] == 0).all()


def test_exact_positions_keep_exact_distances() -> None:
    places = pd.DataFrame({"name": ["a", "b"], "lat": [37.5700, 37.5800], "lon": [126.9769, 126.9769],
                           "geocode_precision": ["address", "dong"], "gu": ["종로구", "종로구"],
                           "dong": [None, "세종로"]})  # fmt: skip
    near = nearest_to(places, Origin(*GWANGHWAMUN), k=2)
    exact = near.set_index("name")
    assert exact.loc["a", "distance_exact"] and exact.loc["a", "distance_min_km"] == exact.loc["a", "distance_km"]
    assert distance_text(1.0, 1.0, True) == "1.00 km"
    assert not exact.loc["b", "distance_exact"]  # the place is known only to its dong
    assert exact.loc["b", "distance_min_km"] < exact.loc["b", "distance_km"] < exact.loc["b", "distance_max_km"]
    # a browser position 500 m accurate is a band too
    fuzzy = distance_bands(near, Origin(*GWANGHWAMUN, radius_km=0.5))
    assert not fuzzy["distance_exact"].any()


def test_phones_in_korean_format() -> None:
    assert display_phone("+8223913391") == "02-391-3391"
    assert display_phone("+827077001661") == "070-7700-1661"
    assert display_phone(None) == display_phone("") == "–"


def _kakao(req):
    if req["headers"].get("Authorization") != "KakaoAK test-key":
        return 401, {"message": "wrong appKey"}
    if "고장" in req["query"]["query"]:
        return 500, {"message": "internal"}
    region = {"region_2depth_name": "종로구", "region_3depth_name": "세종로"}
    doc = {"x": str(GWANGHWAMUN[1]), "y": str(GWANGHWAMUN[0]), "address_type": "ROAD_ADDR", "address": region}
    return 200, {"documents": [doc], "meta": {"total_count": 1}}


def test_typed_addresses_go_through_kakao_when_a_key_is_set(offline, tmp_path) -> None:
    assert typed_address_geocoder(Settings(kakao_api_key=None), offline) is offline
    with JsonStub(_kakao) as stub:
        settings = Settings(kakao_api_key=SecretStr("test-key"), kakao_base_url=stub.url,
                            geocode_cache_path=tmp_path / "cache.sqlite")  # fmt: skip
        coder = typed_address_geocoder(settings, offline)
        assert isinstance(coder, FallbackGeocoder)
        for _ in range(2):
            found = coder.geocode("서울특별시 종로구 세종대로 175")
            assert (found.precision, found.lat, found.lon, found.gu) == ("address", *GWANGHWAMUN, "종로구")
        assert [r["query"]["query"] for r in stub.requests] == ["서울특별시 종로구 세종대로 175"]  # cached
        assert stub.requests[0]["path"] == "/v2/local/search/address.json"
        fallback = coder.geocode("서울 은평구 고장로 1")  # Kakao fails: the offline geocoder places the 구
    assert (fallback.precision, fallback.gu) == ("gu", "은평구")
    assert fallback.reason.startswith("kakao: HTTP 500")


def test_kakao_precision_follows_the_address_type() -> None:
    assert kakao_precision({"address_type": "REGION_ADDR"}) == "address"
    assert kakao_precision({"address_type": "REGION", "address": {"region_3depth_name": "세종로"}}) == "dong"
    assert kakao_precision({"address_type": "REGION", "address": {"region_3depth_name": ""}}) == "gu"
    assert kakao_precision({"address_type": "ROAD"}) == "gu"
