"""Benchmark: the map page's work without Streamlit — build, render, nearest query.

Usage: ``.venv/bin/python benchmarks/bench_map.py`` (``make bench`` runs it). Writes
``benchmarks/results/map.json`` and prints a Markdown summary for the README.

Measured on the shipped ``data/locations/locations.csv`` (wall-clock, median of 20 runs
after one warm-up):
- ``build_map_s``: :func:`churn_core.geo.maps.build_map` with every layer on (6 layers,
  all places), 구 boundaries precomputed as the page caches them.
- ``render_html_s`` / ``html_mb``: rendering that map to the HTML document sent to the
  browser, and its size.
- ``nearest_s``: one "nearest to me" query (5 KT stores and 5 learning centres, BallTree
  with haversine distance) on a fitted index, and ``nearest_with_fit_s`` including the
  index fit, as the page does it.
- ``offline_geocode_s``: geocoding one typed address with the fitted offline geocoder.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "map.json"


def _median(fn, repeats: int = 20) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    from churn_core.config import LOCATIONS_DIR
    from churn_core.geo import locations, maps
    from churn_core.geo.geocoding import OfflineGeocoder

    places = locations.load(LOCATIONS_DIR / "locations.csv")
    boundaries = maps.gu_boundaries_geojson()
    all_layers = tuple(maps.LAYER_BY_KEY)
    origin = (37.5759, 126.9768)
    fmap = maps.build_map(places, all_layers, boundaries=boundaries)
    html = fmap.get_root().render()
    index = locations.NearestPlaces().fit(places[places["source"] == "kt"])
    geocoder = OfflineGeocoder().fit(places["address"])
    results = {
        "places": len(places),
        "build_map_s": _median(lambda: maps.build_map(places, all_layers, boundaries=boundaries)),
        "render_html_s": _median(lambda: maps.build_map(places, all_layers, boundaries=boundaries).get_root().render()),
        "html_mb": len(html.encode("utf-8")) / 1e6,
        "nearest_s": _median(lambda: index.query(*origin, k=5), repeats=200),
        "nearest_with_fit_s": _median(lambda: locations.nearest_kt_and_centres(places, *origin, k=5)),
        "offline_geocode_s": _median(lambda: geocoder.geocode("서울특별시 종로구 세종대로 175 (세종로)"), repeats=200),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print("| measure | value | bar |\n|---|---:|---|")
    label = f"build the map, all {len(all_layers)} layers, {results['places']} places"
    print(f"| {label} | {results['build_map_s'] * 1e3:.0f} ms | ≤ 300 ms |")
    print(f"| build + render the HTML | {results['render_html_s'] * 1e3:.0f} ms | |")
    print(f"| map HTML sent to the browser | {results['html_mb']:.2f} MB | ≤ 1.5 MB |")
    print(f"| nearest query (BallTree, haversine) | {results['nearest_s'] * 1e3:.2f} ms | ≤ 50 ms |")
    print(f"| nearest KT + centres incl. index fit | {results['nearest_with_fit_s'] * 1e3:.1f} ms | |")
    print(f"| offline geocode of a typed address | {results['offline_geocode_s'] * 1e3:.2f} ms | |")


if __name__ == "__main__":
    main()
