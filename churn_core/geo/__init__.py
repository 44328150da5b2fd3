"""Geography of Seoul: offline and API geocoding, the store and learning-centre table, the map.

Address parsing and geocoders (legal-dong offline, Kakao, Nominatim) with Seoul"s
boundaries (:mod:`~churn_core.geo.geocoding`), the locations build, nearest places by
haversine distance (:mod:`~churn_core.geo.locations`) and the Leaflet map with local
assets (:mod:`~churn_core.geo.maps`).
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submodules=["geocoding", "locations", "maps"],
    submod_attrs={
        "geocoding": [
            "OfflineGeocoder",
            "KakaoGeocoder",
            "NominatimGeocoder",
            "CachedGeocoder",
            "GeocodeResult",
            "geocoder_from_settings",
            "seoul_boundaries",
            "inside_seoul",
            "parse_address",
        ],
        "locations": [
            "BuildResult",
            "build",
            "build_from_dir",
            "load",
            "write",
            "nearest",
            "haversine_km",
            "select",
            "nearest_kt_and_centres",
            "NearestPlaces",
        ],
        "maps": ["LAYERS", "Layer", "build_map", "rows_in_layers", "gu_boundaries_geojson", "install_vendor_assets"],
    },
)
