"""Seoul map of KT stores and digital-learning centres, with "nearest to me"."""

import streamlit as st
from streamlit_folium import st_folium

from churn_core.escaping import markdown_text
from churn_core.geo.locations import KT_STORE_TYPES, nearest_kt_and_centres, nearest_rows, precise_share, select
from churn_core.geo.maps import DEFAULT_LAYERS, LAYERS, build_map, rows_in_layers
from ui import address_geocoder, download_button, gu_geojson, lang, map_labels, page_setup, places, tr

page_setup("nav.map", ":material/map:")
st.title(tr("map.title"))
st.info(tr("map.data_note"), icon=":material/info:")

all_places = places()
layer_keys = st.multiselect(
    tr("map.layers"), [layer.key for layer in LAYERS], default=list(DEFAULT_LAYERS),
    format_func=lambda k: tr(f"map.layer.{k}"), key="map_layers",
)  # fmt: skip
gus = tuple(
    st.multiselect(tr("map.gu_filter"), sorted(all_places["gu"].unique()), key="map_gus", placeholder=tr("filters.all"))
)
shown = rows_in_layers(select(all_places, gus), tuple(layer_keys))

with st.sidebar:
    st.header(tr("map.nearest_header"))
    modes = {tr(f"map.mode_{m}"): m for m in ("address", "click", "browser")}
    mode = modes[st.radio(tr("map.origin_mode"), list(modes), key=f"map_mode_{lang()}")]  # labels follow the language
    k = st.slider(tr("map.n_nearest"), 1, 10, 3, key="map_k")
    kt_types = st.multiselect(
        tr("map.store_types"), list(KT_STORE_TYPES), default=list(KT_STORE_TYPES),
        format_func=lambda k: tr(f"map.layer.{k}"),
        key="map_kt_types",
    )  # fmt: skip

origin = None
if mode == "address":
    address = st.sidebar.text_input(tr("map.address"), key="map_address")
    if address:
        found = address_geocoder().geocode(address)
        if found.precision is None:
            st.sidebar.warning(tr("map.address_failed", reason=markdown_text(found.reason)))
        else:
            origin = (found.lat, found.lon)
            precision = tr(f"map.precision_{found.precision}")
            gu, dong = markdown_text(found.gu), markdown_text(found.dong)
            st.sidebar.caption(tr("map.address_found", gu=gu, dong=dong, precision=precision))
elif mode == "click":
    st.sidebar.caption(tr("map.click_hint"))
    clicked = st.session_state.get("map_clicked")
    origin = (clicked["lat"], clicked["lng"]) if clicked else None
else:
    from streamlit_js_eval import get_geolocation

    st.sidebar.caption(tr("map.browser_hint"))
    with st.sidebar:
        location = get_geolocation(component_key="map_geolocation")
    if location and "coords" in location:
        origin = (location["coords"]["latitude"], location["coords"]["longitude"])
    else:
        st.sidebar.caption(tr("map.browser_waiting"))

nearest_kt = nearest_centres = None
if origin is not None:
    nearest_kt, nearest_centres = nearest_kt_and_centres(all_places, *origin, k=k, kt_types=tuple(kt_types), gus=gus)

if shown.empty:
    st.info(tr("map.empty"), icon=":material/location_off:")
share = precise_share(shown)
st.caption(tr("map.shown", n=f"{len(shown):,}", share="–" if share is None else f"{share:.0%}"))
fmap = build_map(
    shown, tuple(layer_keys), map_labels(), origin=origin, nearest=nearest_rows(nearest_kt, nearest_centres),
    boundaries=gu_geojson(),
)  # fmt: skip
result = st_folium(fmap, height=620, use_container_width=True, returned_objects=["last_clicked"], key="seoul_map")
if (
    mode == "click"
    and result
    and result.get("last_clicked")
    and result["last_clicked"] != st.session_state.get("map_clicked")
):
    st.session_state["map_clicked"] = result["last_clicked"]
    st.rerun()

st.subheader(tr("map.nearest_header"))
if origin is None:
    st.info(tr("map.no_origin"), icon=":material/near_me:")
else:
    columns = ["name", "distance_km", "place_type", "address", "phone", "gu"]
    config = {c: st.column_config.Column(tr(f"map.col.{c}")) for c in columns}
    config["distance_km"] = st.column_config.NumberColumn(tr("map.col.distance_km"), format="%.2f")
    for title, table in (("map.nearest_kt", nearest_kt), ("map.nearest_centres", nearest_centres)):
        st.markdown(f"#### {tr(title)}")
        if table.empty:
            st.info(tr("map.empty"))
        else:
            view = table[columns].assign(place_type=[tr(f"map.layer.{t}") for t in table["place_type"]])
            st.dataframe(view, hide_index=True, column_config=config, width="stretch")
    both = nearest_rows(nearest_kt, nearest_centres)
    if both is not None:
        download_button(tr("map.download"), both[columns], "nearest_places.csv", permission=None)
