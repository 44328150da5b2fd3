"""The map: metric scale only, KT store types from one place."""

from __future__ import annotations

import pytest

from churn_core.geo import locations, maps

pytestmark = pytest.mark.unit


def test_scale_bar_is_metric_only() -> None:
    html = maps.build_map(locations.load(locations_csv()), tiles=None).get_root().render()
    assert "L.control.scale({metric: true, imperial: false})" in html
    assert "imperial: true" not in html and '"imperial": true' not in html


def test_kt_store_types_are_every_kt_type() -> None:
    assert set(locations.KT_STORE_TYPES) == set(locations.KT_TYPES.values())
    assert {layer.key for layer in maps.LAYERS} >= set(locations.KT_STORE_TYPES)


def locations_csv():
    from churn_core.config import LOCATIONS_DIR

    return LOCATIONS_DIR / "locations.csv"


def test_vendor_assets_include_the_marker_sprites(tmp_path) -> None:
    """The "my location" pin (awesome-markers) draws images/markers-soft.png and markers-shadow.png."""
    from churn_core.config import PROJECT_ROOT

    node_modules = PROJECT_ROOT / "vendor" / "node_modules"
    if not node_modules.exists():
        pytest.fail("run `make setup` (npm ci --prefix vendor) first")
    maps.install_vendor_assets(node_modules, tmp_path)
    css = (tmp_path / "vendor" / "leaflet.awesome-markers.css").read_text()
    for sprite in ("markers-soft.png", "markers-shadow.png", "markers-soft@2x.png", "markers-shadow@2x.png"):
        assert f"images/{sprite}" in css
        assert (tmp_path / "vendor" / "images" / sprite).stat().st_size > 0
    assert (tmp_path / "vendor" / "images" / "marker-icon.png").exists()  # Leaflet's own images stay


def test_popups_show_phones_in_korean_format_and_the_view_fits_the_gu() -> None:
    places = locations.load(locations_csv())
    html = maps.build_map(places, tiles=None, focus_gus=("은평구",), click_to_locate=True).get_root().render()
    assert "02-391-3391" in html and "tel:+8223913391" in html
    south, west = maps.view_bounds(("은평구",))[0]
    north, east = maps.view_bounds(("은평구",))[1]
    assert 37.57 < south < north < 37.68 and 126.87 < west < east < 126.98  # 은평구, not all of Seoul
    assert ".fitBounds(" in html and f"{south}" in html
    assert "studio-click-locate" in html
