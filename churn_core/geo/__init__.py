"""Geography of Seoul: offline and API geocoding, the store and learning-centre table, the map.

Address parsing and geocoders (legal-dong offline, Kakao, Nominatim) with Seoul's
boundaries (:mod:`~churn_core.geo.geocoding`), the locations build, nearest places by
haversine distance (:mod:`~churn_core.geo.locations`), how precise a position is and
distance bands between approximate positions (:mod:`~churn_core.geo.precision`) and the
Leaflet map with local assets (:mod:`~churn_core.geo.maps`).
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submodules=["geocoding", "locations", "maps", "precision"],
    submod_attrs={
        "geocoding": [
            "CachedGeocoder",
            "FallbackGeocoder",
            "GeocodeResult",
            "KakaoGeocoder",
            "NominatimGeocoder",
            "OfflineGeocoder",
            "PRECISIONS",
            "geocoder_from_settings",
            "inside_seoul",
            "parse_address",
            "seoul_boundaries",
            "typed_address_geocoder",
        ],
        "locations": [
            "BuildResult",
            "KT_STORE_TYPES",
            "NearestPlaces",
            "build",
            "build_from_dir",
            "haversine_km",
            "kt_and_centres",
            "load",
            "nearest",
            "nearest_kt_and_centres",
            "nearest_rows",
            "precise_share",
            "select",
            "write",
        ],
        "maps": [
            "DEFAULT_LAYERS",
            "LAYERS",
            "Layer",
            "build_map",
            "gu_boundaries_geojson",
            "install_vendor_assets",
            "rows_in_layers",
        ],
        "precision": [
            "NO_PHONE",
            "Origin",
            "area",
            "display_phone",
            "distance_bands",
            "distance_text",
            "nearest_to",
            "origin_area_geojson",
        ],
    },
)
