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
