"""Streamlit glue of the map page: where "me" is, how precise that is, and the nearest-places tables.

The logic lives in :mod:`churn_core.geo` (geocoders, :mod:`~churn_core.geo.precision`,
:mod:`~churn_core.geo.maps`); this module turns it into sidebar messages, tables and map
labels in the current language.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from churn_core.escaping import markdown_text
from churn_core.geo.locations import kt_and_centres, nearest_rows
from churn_core.geo.precision import Origin, display_phone, distance_text, nearest_to, origin_area_geojson
from ui.data import address_geocoder
from ui.navigation import tr
from ui.widgets import download_button, map_labels

#: Seconds "use browser location" waits for the browser before saying it did not answer.
GEOLOCATION_TIMEOUT_S = 8
#: Columns of the nearest-places tables (shown) and of their download.
TABLE_COLUMNS = ("name", "distance", "place_type", "address", "phone", "gu")
DOWNLOAD_COLUMNS = ("name", "distance", "distance_km", "distance_min_km", "distance_max_km", "place_type",
                    "address", "phone", "gu", "dong", "geocode_precision")  # fmt: skip
#: Geolocation error codes (GeolocationPositionError) → catalog keys; 3 is also our own timeout.
_BROWSER_ERRORS = {1: "map.browser_denied", 2: "map.browser_unavailable", 3: "map.browser_timeout"}


def area_name(origin: Origin) -> str:
    """The 구 (and legal dong) an approximate origin lies in, for messages."""
    return " ".join(p for p in (origin.gu, origin.dong if origin.precision == "dong" else None) if p)


def typed_origin(address: str) -> Origin | None:
    """Geocode a typed address (Kakao when configured, else offline) and say how precise it is."""
    found = address_geocoder().geocode(address)
    if found.precision is None:
        st.sidebar.warning(tr("map.address_failed", reason=markdown_text(found.reason)))
        return None
    origin = Origin.from_geocode(found)
    place = markdown_text(" ".join(p for p in (found.gu, found.dong) if p))
    st.sidebar.caption(tr("map.address_found", place=place, precision=tr(f"map.precision_{found.precision}")))
    if found.reason:  # Kakao could not answer: the offline geocoder placed it
        st.sidebar.caption(tr("map.address_fallback", reason=markdown_text(found.reason)))
    if origin.approximate:
        st.sidebar.warning(tr(f"map.approximate_{origin.precision}", area=markdown_text(area_name(origin))))
    return origin


def clicked_origin() -> Origin | None:
    """The point last clicked on the map (click mode), if any."""
    st.sidebar.caption(tr("map.click_hint"))
    clicked = st.session_state.get("map_clicked")
    return Origin(clicked["lat"], clicked["lng"]) if clicked else None


def browser_origin() -> Origin | None:
    """The browser's position, waiting at most :data:`GEOLOCATION_TIMEOUT_S` before saying why not."""
    from streamlit_js_eval import streamlit_js_eval

    st.sidebar.caption(tr("map.browser_hint"))
    attempt = st.session_state.get("map_geolocation_attempt", 0)
    timeout = "{error: {code: 3, message: 'timeout'}}"
    js = (
        "Promise.race([getLocation(), new Promise(function (done) { setTimeout(function () { done("
        f"{timeout}); }}, {GEOLOCATION_TIMEOUT_S * 1000}); }})])"
    )
    with st.sidebar:
        location = streamlit_js_eval(js_expressions=js, key=f"map_geolocation_{attempt}")
    if isinstance(location, dict) and "coords" in location:
        coords = location["coords"]
        return Origin(coords["latitude"], coords["longitude"], radius_km=float(coords.get("accuracy") or 0) / 1000)
    if isinstance(location, dict) and "error" in location:
        code = location["error"].get("code")
        st.sidebar.warning(tr(_BROWSER_ERRORS.get(code, "map.browser_unavailable"), s=GEOLOCATION_TIMEOUT_S))
        if st.sidebar.button(tr("map.browser_retry"), key="map_geolocation_retry"):
            st.session_state["map_geolocation_attempt"] = attempt + 1
            st.rerun()
    else:
        st.sidebar.caption(tr("map.browser_waiting", s=GEOLOCATION_TIMEOUT_S))
    return None


def with_distance_texts(banded: pd.DataFrame) -> pd.DataFrame:
    """Nearest places (with distance bands) and the text shown for their distance (``distance``)."""
    band, exact = tr("map.distance_band"), tr("map.distance_exact")
    texts = [
        distance_text(lo, hi, ok, band, exact)
        for lo, hi, ok in zip(banded["distance_min_km"], banded["distance_max_km"], banded["distance_exact"],
                              strict=True)
    ]  # fmt: skip
    return banded.assign(distance=pd.Series(texts, index=banded.index, dtype=object))


def nearest_places(places: pd.DataFrame, origin: Origin | None, k: int, kt_types: tuple[str, ...],
                   gus: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame] | None:  # fmt: skip
    """The nearest KT stores and learning centres to ``origin`` with distance texts (None without origin)."""
    if origin is None:
        return None
    kt, centres = kt_and_centres(places, kt_types, gus)
    return with_distance_texts(nearest_to(kt, origin, k)), with_distance_texts(nearest_to(centres, origin, k))


def map_options(origin: Origin | None, nearest: tuple[pd.DataFrame, pd.DataFrame] | None, gus: tuple[str, ...],
                click_mode: bool) -> dict:  # fmt: skip
    """Keyword arguments of :func:`churn_core.geo.maps.build_map` beyond the places and layers."""
    labels = map_labels()
    area = origin_area_geojson(origin) if origin is not None else None
    if origin is not None and origin.approximate:
        where = area_name(origin) or tr("map.me")
        labels["origin_area"] = tr("map.origin_area", area=where)
    return {
        "labels": labels, "origin": None if origin is None else (origin.lat, origin.lon),
        "nearest": nearest_rows(*nearest) if nearest else None, "origin_area": area, "focus_gus": gus,
        "click_to_locate": click_mode,
    }  # fmt: skip


def nearest_tables(origin: Origin | None, nearest: tuple[pd.DataFrame, pd.DataFrame] | None) -> None:
    """The two nearest-places tables (distance as text, phones as Koreans write them) and the download."""
    st.subheader(tr("map.nearest_header"))
    if origin is None or nearest is None:
        st.info(tr("map.no_origin"), icon=":material/near_me:")
        return
    if origin.approximate:
        st.caption(tr("map.distance_note"))
    config = {c: st.column_config.TextColumn(tr(f"map.col.{c}")) for c in TABLE_COLUMNS}
    for title, table in zip(("map.nearest_kt", "map.nearest_centres"), nearest, strict=True):
        st.markdown(f"#### {tr(title)}")
        if table.empty:
            st.info(tr("map.empty"))
            continue
        view = table_view(table)[list(TABLE_COLUMNS)]
        st.dataframe(view, hide_index=True, column_config=config, width="stretch")
    both = nearest_rows(*nearest)
    if both is not None:
        download_button(tr("map.download"), table_view(both)[list(DOWNLOAD_COLUMNS)], "nearest_places.csv",
                        permission=None)  # fmt: skip


def table_view(table: pd.DataFrame) -> pd.DataFrame:
    """Place types translated, phones in Korean format (``02-391-3391``, ``–`` when missing)."""
    return table.assign(
        place_type=[tr(f"map.layer.{t}") for t in table["place_type"]],
        phone=[display_phone(p) for p in table["phone"]],
    )
