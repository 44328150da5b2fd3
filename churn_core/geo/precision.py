"""How precise a position is, and distances that say so (no Streamlit).

A typed address placed only at its legal dong or its 구 is somewhere inside that polygon,
not at the polygon's representative point; the shipped places are mostly placed at their
legal dong too. Distances between such positions are therefore a band, from the nearest
to the farthest pair of points of the two areas, never one exact figure (two places on
the same representative point are not "0.00 km" apart).

* :class:`Origin` — the user's position: WGS84 point, precision (``"address"``, ``"dong"``
  or ``"gu"``), 구 and dong, and an accuracy radius (the browser reports one).
* :func:`area` — the area a position may lie in: a point, a circle of the accuracy radius,
  or the legal-dong / 구 polygon of :func:`~churn_core.geo.geocoding.seoul_boundaries`.
* :func:`distance_bands` — ``distance_min_km`` / ``distance_max_km`` / ``distance_exact``
  for rows of :func:`~churn_core.geo.locations.nearest`.
* :func:`distance_text` — the band as the page shows it (text templates from the caller).

Areas are compared in a local equirectangular projection centred on Seoul (kilometres;
within Seoul its error is below 0.3 % of a distance), which is ample for a band.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import phonenumbers
import shapely
from shapely import Point
from shapely.geometry.base import BaseGeometry

from churn_core.geo.geocoding import GeocodeResult, seoul_boundaries

#: Projection centre (Seoul City Hall) and kilometres per degree there.
_LAT0, _LON0 = 37.5665, 126.9780
_KM_PER_DEG_LAT = 110.574
_KM_PER_DEG_LON = 111.320 * math.cos(math.radians(_LAT0))
#: An accuracy radius up to this many km still counts as an exact position.
EXACT_RADIUS_KM = 0.05
#: Text of a missing phone number.
NO_PHONE = "–"


@dataclass(frozen=True)
class Origin:
    """The user's position for "nearest to me".

    Attributes
    ----------
    lat, lon : float
        WGS84 degrees (the point used to rank places).
    precision : {"address", "dong", "gu"}
        ``"address"``: a building or a clicked / browser point; ``"dong"`` / ``"gu"``: only
        the legal dong or 구 is known, the point is that area's representative point.
    gu, dong : str or None
        The 구 and legal dong when known.
    radius_km : float
        Accuracy radius around the point (the browser's ``coords.accuracy``), km.
    """

    lat: float
    lon: float
    precision: str = "address"
    gu: str | None = None
    dong: str | None = None
    radius_km: float = 0.0

    @property
    def approximate(self) -> bool:
        """True unless the position is a point known to within :data:`EXACT_RADIUS_KM`."""
        return self.precision != "address" or self.radius_km > EXACT_RADIUS_KM

    @classmethod
    def from_geocode(cls, result: GeocodeResult) -> Origin:
        """The origin of a placed :class:`GeocodeResult`.

        Raises
        ------
        ValueError
            If the result was not placed (``precision`` None).
        """
        if result.precision is None or result.lat is None or result.lon is None:
            raise ValueError(f"address was not placed: {result.reason}")
        return cls(result.lat, result.lon, result.precision, result.gu, result.dong)


def to_km(geom: BaseGeometry) -> BaseGeometry:
    """A lon/lat geometry (or array of them) in the local kilometre projection."""
    return shapely.transform(geom, lambda xy: (xy - (_LON0, _LAT0)) * (_KM_PER_DEG_LON, _KM_PER_DEG_LAT))


def to_lonlat(geom: BaseGeometry) -> BaseGeometry:
    """Inverse of :func:`to_km`."""
    return shapely.transform(geom, lambda xy: xy / (_KM_PER_DEG_LON, _KM_PER_DEG_LAT) + (_LON0, _LAT0))


@lru_cache(maxsize=1024)
def _polygon_km(gu: str, dong: str | None) -> BaseGeometry | None:
    b = seoul_boundaries()
    geom = b.dong.get((gu, dong)) if dong else b.gu.get(gu)
    return None if geom is None else to_km(geom)


def area(lat: float, lon: float, precision: str | None, gu: str | None = None, dong: str | None = None,
         radius_km: float = 0.0) -> BaseGeometry:  # fmt: skip
    """The area (in the km projection) a position may lie in.

    A point for an exact position; the legal dong's or 구's polygon for ``"dong"`` /
    ``"gu"`` precision (the point itself when that polygon is unknown); a circle when
    ``radius_km`` exceeds :data:`EXACT_RADIUS_KM`.
    """
    point = to_km(Point(lon, lat))
    geom = point
    if precision == "dong" and gu and dong:
        geom = _polygon_km(gu, dong) or point
    elif precision == "gu" and gu:
        geom = _polygon_km(gu, None) or point
    if radius_km > EXACT_RADIUS_KM:
        geom = geom.union(point.buffer(radius_km, 32))
    return geom


def origin_area(origin: Origin) -> BaseGeometry:
    """:func:`area` of an :class:`Origin`."""
    return area(origin.lat, origin.lon, origin.precision, origin.gu, origin.dong, origin.radius_km)


def origin_area_geojson(origin: Origin, tolerance_km: float = 0.02) -> dict | None:
    """The approximate origin's area as a GeoJSON geometry in lon/lat (None when exact)."""
    if not origin.approximate:
        return None
    return to_lonlat(origin_area(origin).simplify(tolerance_km)).__geo_interface__


def _hull_xy(geom: BaseGeometry) -> np.ndarray:
    return np.asarray(shapely.get_coordinates(geom.convex_hull))


def distance_range_km(a: BaseGeometry, b: BaseGeometry) -> tuple[float, float]:
    """(min, max) distance in km between any point of ``a`` and any point of ``b`` (km projection)."""
    xa, xb = _hull_xy(a), _hull_xy(b)
    far = float(np.sqrt(((xa[:, None, :] - xb[None, :, :]) ** 2).sum(-1)).max())
    return float(a.distance(b)), far


def distance_bands(nearest: pd.DataFrame, origin: Origin) -> pd.DataFrame:
    """Add the distance band between ``origin`` and each place of ``nearest``.

    Parameters
    ----------
    nearest : pandas.DataFrame of shape (n, m)
        Rows of :func:`churn_core.geo.locations.nearest` (``lat``, ``lon``,
        ``geocode_precision``, ``gu``, ``dong``, ``distance_km``).
    origin : Origin

    Returns
    -------
    pandas.DataFrame of shape (n, m + 3)
        With ``distance_min_km`` and ``distance_max_km`` (km; equal to ``distance_km`` when
        both positions are exact) and ``distance_exact`` (bool).
    """
    if nearest.empty:
        return nearest.assign(distance_min_km=pd.Series(dtype=float), distance_max_km=pd.Series(dtype=float),
                              distance_exact=pd.Series(dtype=bool))  # fmt: skip
    here = origin_area(origin)
    lows, highs, exact = [], [], []
    for row in nearest.itertuples(index=False):
        if not origin.approximate and row.geocode_precision == "address":
            lows.append(row.distance_km)
            highs.append(row.distance_km)
            exact.append(True)
            continue
        there = area(row.lat, row.lon, row.geocode_precision, row.gu, row.dong)
        low, high = distance_range_km(here, there)
        lows.append(low)
        highs.append(max(high, row.distance_km))
        exact.append(False)
    return nearest.assign(distance_min_km=lows, distance_max_km=highs, distance_exact=exact)


def nearest_to(places: pd.DataFrame, origin: Origin, k: int = 5) -> pd.DataFrame:
    """The ``k`` places that may be nearest to ``origin``, with ``distance_km`` and the band columns.

    An exact origin ranks by haversine distance (:func:`churn_core.geo.locations.nearest`).
    An approximate origin ranks first by the smallest distance its area allows (places
    inside the origin's 구 or dong first), then by the distance from its representative
    point: a 구's representative point says nothing about where in the 구 the user is.

    Returns
    -------
    pandas.DataFrame of shape (min(k, len(places)), n_columns + 4)
        See :func:`distance_bands`.
    """
    from churn_core.geo.locations import haversine_km, nearest

    if not origin.approximate or places.empty:
        return distance_bands(nearest(places, origin.lat, origin.lon, k), origin)
    points = to_km(shapely.points(places["lon"].to_numpy(float), places["lat"].to_numpy(float)))
    low = shapely.distance(origin_area(origin), points)
    centre = haversine_km(origin.lat, origin.lon, places["lat"].to_numpy(float), places["lon"].to_numpy(float))
    order = np.lexsort((centre, low))[:k]
    ranked = places.iloc[order].assign(distance_km=centre[order]).reset_index(drop=True)
    return distance_bands(ranked, origin)


def distance_text(low_km: float, high_km: float, exact: bool, band: str = "≈ {lo}–{hi} km",
                  exact_text: str = "{km} km") -> str:  # fmt: skip
    """A distance as shown: ``"0.54 km"`` when exact, otherwise a band such as ``"≈ 0.0–1.2 km"``.

    ``band`` and ``exact_text`` are templates with ``{lo}``, ``{hi}`` / ``{km}`` (from the
    message catalog); exact figures get two decimals, bands one (rounded outwards).
    """
    if exact:
        return exact_text.format(km=f"{low_km:.2f}")
    lo = math.floor(low_km * 10) / 10
    hi = math.ceil(high_km * 10) / 10
    return band.format(lo=f"{lo:.1f}", hi=f"{hi:.1f}")


def display_phone(number: str | None) -> str:
    """A phone number as Koreans write it (``+8223913391`` → ``02-391-3391``); :data:`NO_PHONE` when missing.

    Numbers phonenumbers cannot parse are shown as stored.
    """
    if not isinstance(number, str) or not number.strip():
        return NO_PHONE
    try:
        parsed = phonenumbers.parse(number, "KR")
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
