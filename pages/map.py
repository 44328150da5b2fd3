"""Seoul map of KT stores and digital-learning centres, with "nearest to me"."""

import streamlit as st
from streamlit_folium import st_folium

from churn_core.geo.locations import KT_STORE_TYPES, precise_share, select
from churn_core.geo.maps import DEFAULT_LAYERS, LAYERS, build_map, rows_in_layers
from ui import gu_geojson, page_setup, places, relabel, tr
from ui.map import browser_origin, clicked_origin, map_options, nearest_places, nearest_tables, typed_origin

page_setup("nav.map", ":material/map:")
st.title(tr("map.title"))
st.info(tr("map.data_note"), icon=":material/info:")

all_places = places()
layer_keys = st.multiselect(
    tr("map.layers"), [layer.key for layer in LAYERS], default=list(DEFAULT_LAYERS),
    format_func=lambda k: tr(f"map.layer.{k}"), key=relabel("map_layers"),
)  # fmt: skip
gus = tuple(
    st.multiselect(tr("map.gu_filter"), sorted(all_places["gu"].unique()), key="map_gus", placeholder=tr("filters.all"))
)
shown = rows_in_layers(select(all_places, gus), tuple(layer_keys))

with st.sidebar:
    st.header(tr("map.nearest_header"))
    modes = {m: tr(f"map.mode_{m}") for m in ("address", "click", "browser")}  # labels of this run's language
    mode = st.radio(tr("map.origin_mode"), list(modes), format_func=modes.get, key=relabel("map_mode"))
    k = st.slider(tr("map.n_nearest"), 1, 10, 3, key="map_k")
    kt_types = st.multiselect(
        tr("map.store_types"), list(KT_STORE_TYPES), default=list(KT_STORE_TYPES),
        format_func=lambda k: tr(f"map.layer.{k}"),
        key=relabel("map_kt_types"),
    )  # fmt: skip

origin = None
if mode == "address":
    address = st.sidebar.text_input(tr("map.address"), key="map_address")
    origin = typed_origin(address) if address else None
elif mode == "click":
    origin = clicked_origin()
else:
    origin = browser_origin()
nearest = nearest_places(all_places, origin, k, tuple(kt_types), gus)

if shown.empty:
    st.info(tr("map.empty"), icon=":material/location_off:")
share = precise_share(shown)
st.caption(tr("map.shown", n=f"{len(shown):,}", share="–" if share is None else f"{share:.0%}"))
options = map_options(origin, nearest, gus, click_mode=mode == "click")
fmap = build_map(shown, tuple(layer_keys), boundaries=gu_geojson(), **options)
result = st_folium(fmap, height=620, use_container_width=True, returned_objects=["last_clicked"], key="seoul_map")
if (
    mode == "click"
    and result
    and result.get("last_clicked")
    and result["last_clicked"] != st.session_state.get("map_clicked")
):
    st.session_state["map_clicked"] = result["last_clicked"]
    st.rerun()

nearest_tables(origin, nearest)
