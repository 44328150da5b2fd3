"""Seoul locations: raw store and learning-centre lists → one schema → geocoded table.

Stages (each runs on its own; ``churn-locations`` chains them):

1. :func:`read_raw` — a raw list (crawled CSV with Korean headers, or a scraper's output)
   into the common schema :data:`COLUMNS` (``source, place_type, name, address, phone,
   detail_url, …``).
2. :func:`drop_unsafe_links` — detail links that are not ``https://`` on the 디지털배움터
   site (:data:`DETAIL_HOSTS`) are dropped, each listed in the report.
3. :func:`normalise` — whitespace, phones to E.164 (phonenumbers, region KR), detail URLs
   shared by different places cleared; every change is noted. :func:`reject_markup` then
   moves names and addresses holding markup characters to the rejects.
4. :func:`deduplicate` — exact duplicates and near duplicates (same source, same name and
   address once spaces, case and punctuation are ignored) removed, each with a record.
5. :func:`geocode` — 구, legal dong, WGS84 point and precision from a geocoder; rows that
   cannot be placed inside Seoul are moved to the rejects with the reason.

Nothing is dropped silently: :func:`build` returns the rejects with the stage and reason,
and the command writes them next to the table.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import phonenumbers
from sklearn.neighbors import BallTree

from churn_core.escaping import has_markup, safe_link, write_csv
from churn_core.geo.geocoding import Geocoder, OfflineGeocoder, inside_seoul, normalise_address

#: Output columns, in order (the ``locations`` warehouse table).
COLUMNS: tuple[str, ...] = (
    "source", "place_type", "name", "address", "phone", "detail_url", "gu", "dong", "lat", "lon",
    "geocode_precision", "geocoder", "scraped_at",
)  # fmt: skip
REJECT_COLUMNS: tuple[str, ...] = ("source", "name", "address", "stage", "reason")
DROPPED_LINK_COLUMNS: tuple[str, ...] = ("source", "name", "detail_url", "reason")
#: Reject reasons of :func:`reject_markup`.
MARKUP_REASONS: tuple[str, ...] = ("name holds markup characters", "address holds markup characters")
EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)

#: Raw list formats: file name → (source, {raw header: column}, fixed place type or None).
_STORE_HEADERS = {"장소": "name", "주소": "address", "전화번호": "phone"}
RAW_FORMATS: dict[str, tuple[str, dict[str, str], str | None]] = {
    "kt_stores_seoul_raw.csv": ("kt", {"장소타입": "place_type", **_STORE_HEADERS}, None),
    "skt_stores_seoul_raw.csv": ("skt", _STORE_HEADERS, "store"),
    "uplus_stores_seoul_raw.csv": ("uplus", _STORE_HEADERS, "store"),
    "digital_learning_centers_seoul_raw.csv": (
        "learning_centre", {"장소명": "name", "주소명": "address", "상세페이지": "detail_url"}, "learning_centre",
    ),
}  # fmt: skip
#: KT store types as listed ([체험형 플라자] …) → place_type values.
KT_TYPES = {"체험형 플라자": "kt_experience_plaza", "플라자": "kt_plaza", "대리점": "kt_dealer"}
#: KT store types a senior can visit for help with a device (every type of :data:`KT_TYPES`).
KT_STORE_TYPES: tuple[str, ...] = tuple(KT_TYPES.values())
#: Crawl date of the shipped raw lists (../shared/data/README.md: November 2023).
RAW_CRAWL_DATE = "2023-11"
#: Hosts whose ``https://`` detail pages may be linked from the map (the 디지털배움터 site).
DETAIL_HOSTS: tuple[str, ...] = ("xn--2z1bw8k1pjz5ccumkb.kr",)


@dataclass
class BuildResult:
    """Output of :func:`build`: the table, the rejects and counts per stage."""

    locations: pd.DataFrame
    rejects: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    dropped_links: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(DROPPED_LINK_COLUMNS)))

    def summary(self) -> dict:
        """Counts for the README and the command's report."""
        loc = self.locations
        precise = loc["geocode_precision"].isin(["address", "dong"])
        return {
            "rows": len(loc),
            "by_source": loc["source"].value_counts().to_dict(),
            "by_place_type": loc["place_type"].value_counts().to_dict(),
            "precision": loc["geocode_precision"].value_counts().to_dict(),
            "dong_or_better_share": float(precise.mean()) if len(loc) else 0.0,
            "rejects": self.rejects.groupby(["stage", "reason"]).size().reset_index(name="n").to_dict("records"),
            "markup_rejected": int(self.rejects["reason"].isin(MARKUP_REASONS).sum()),
            "links_dropped": len(self.dropped_links),
            "dropped_links": self.dropped_links.to_dict("records"),
            "notes": self.notes,
        }


def read_raw(path: str | Path, scraped_at: str = RAW_CRAWL_DATE) -> pd.DataFrame:
    """Read one raw list into the common schema (without coordinates).

    Raises
    ------
    ValueError
        If the file name is not a known raw format or expected headers are missing.
    """
    path = Path(path)
    if path.name not in RAW_FORMATS:
        raise ValueError(f"{path.name}: unknown raw list; expected one of {sorted(RAW_FORMATS)}")
    source, mapping, fixed_type = RAW_FORMATS[path.name]
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    missing = [h for h in mapping if h not in raw.columns]
    if missing:
        raise ValueError(f"{path.name}: missing columns {missing} (found {list(raw.columns)})")
    df = raw[list(mapping)].rename(columns=mapping)
    if fixed_type is not None:
        df["place_type"] = fixed_type
    else:
        df["place_type"] = df["place_type"].str.strip("[] ").map(KT_TYPES).fillna("kt_other")
    df["source"] = source
    for col in ("phone", "detail_url"):
        if col not in df:
            df[col] = ""
    df["scraped_at"] = scraped_at
    return df[["source", "place_type", "name", "address", "phone", "detail_url", "scraped_at"]]


def normalise_phone(raw: str) -> str | None:
    """A Korean phone number in E.164 (``02-3453-9920`` → ``+82234539920``), or None if invalid."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, "KR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Clean text, phones (E.164) and detail URLs; return the table and notes of changes."""
    notes: list[str] = []
    out = df.copy()
    for col in ("name", "address"):
        out[col] = out[col].map(lambda v: re.sub(r"\s+", " ", str(v)).strip())
    out["address"] = out["address"].map(normalise_address)
    phones = out["phone"].map(normalise_phone)
    bad = (out["phone"].str.strip() != "") & phones.isna()
    if bad.any():
        notes.append(
            f"{int(bad.sum())} phone numbers not valid Korean numbers, left empty: {out.loc[bad, 'phone'].tolist()}"
        )
    out["phone"] = phones
    out["detail_url"] = out["detail_url"].map(lambda u: safe_link(u, DETAIL_HOSTS))  # see drop_unsafe_links
    url = out["detail_url"]
    shared = url.notna() & out.assign(u=url).groupby("u")["name"].transform("nunique").gt(1)
    if shared.any():
        notes.append(
            f"detail_url cleared on {int(shared.sum())} rows: one URL shared by different places "
            f"({sorted(out.loc[shared, 'name'])}); the raw URLs were collected in a separate pass"
        )
        out.loc[shared, "detail_url"] = None
    return out, notes


def drop_unsafe_links(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop detail links that are not ``https://`` on :data:`DETAIL_HOSTS` (the row is kept).

    Parameters
    ----------
    df : pandas.DataFrame
        Rows in the common schema (``source``, ``name``, ``detail_url`` …).

    Returns
    -------
    kept : pandas.DataFrame
        ``df`` with unsafe ``detail_url`` cells set to None (safe ones stripped of spaces).
    dropped : pandas.DataFrame of shape (n_dropped, 4)
        :data:`DROPPED_LINK_COLUMNS`: the place, the refused URL and why.
    """
    urls = df["detail_url"].where(df["detail_url"].notna(), "").astype(str).str.strip()
    safe = urls.map(lambda u: safe_link(u, DETAIL_HOSTS))
    unsafe = (urls != "") & safe.isna()
    reason = f"not an https:// link on {', '.join(DETAIL_HOSTS)}"
    dropped = df.loc[unsafe, ["source", "name"]].assign(detail_url=urls[unsafe], reason=reason)
    return df.assign(detail_url=safe), dropped[list(DROPPED_LINK_COLUMNS)].reset_index(drop=True)


def _key(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", str(text)).casefold()


def reject_markup(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows whose name or address holds markup or script characters go to rejects (never to the map).

    See :data:`churn_core.escaping.MARKUP_CHARACTERS`; returns (kept, rejects with reasons).
    """
    bad_name, bad_address = df["name"].map(has_markup), df["address"].map(has_markup)
    bad = bad_name | bad_address
    reason = pd.Series("name holds markup characters", index=df.index).where(
        bad_name, "address holds markup characters"
    )
    rejects = df[bad].assign(stage="normalise", reason=reason[bad])[list(REJECT_COLUMNS)]
    return df[~bad].reset_index(drop=True), rejects


def deduplicate(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Remove exact and near duplicates (first kept); return (kept, rejects with reasons)."""
    exact = df.duplicated(keep="first")
    near_key = df["source"] + "|" + df["name"].map(_key) + "|" + df["address"].map(_key)
    near = near_key.duplicated(keep="first") & ~exact
    rejects = pd.concat(
        [
            df[exact].assign(stage="deduplicate", reason="exact duplicate"),
            df[near].assign(stage="deduplicate", reason="near duplicate (same name and address)"),
        ]
    )
    return df[~exact & ~near].reset_index(drop=True), rejects[list(REJECT_COLUMNS)]


def geocode(df: pd.DataFrame, geocoder: Geocoder, progress=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add ``gu, dong, lat, lon, geocode_precision, geocoder``; rows not placed in Seoul go to rejects."""
    results = []
    for i, (address, name) in enumerate(zip(df["address"], df["name"], strict=True)):
        results.append(geocoder.geocode(address, name))
        if progress is not None:
            progress(i + 1, len(df))
    out = df.copy()
    out["gu"] = [r.gu for r in results]
    out["dong"] = [r.dong for r in results]
    out["lat"] = [r.lat for r in results]
    out["lon"] = [r.lon for r in results]
    out["geocode_precision"] = [r.precision for r in results]
    out["geocoder"] = [r.geocoder for r in results]
    reason = pd.Series([r.reason for r in results], index=out.index)
    placed = out["lat"].notna()
    outside = placed & ~pd.Series(
        [inside_seoul(la, lo) if ok else False for la, lo, ok in zip(out["lat"], out["lon"], placed, strict=True)],
        index=out.index,
    )
    reason[outside] = "point is outside Seoul's boundary"
    bad = ~placed | outside
    rejects = out[bad].assign(stage="geocode", reason=reason[bad])[list(REJECT_COLUMNS)]
    return out[~bad][list(COLUMNS)].reset_index(drop=True), rejects


def build(frames: list[pd.DataFrame], geocoder: Geocoder | None = None, progress=None) -> BuildResult:
    """Normalise, deduplicate and geocode raw lists (offline geocoder fitted on them by default)."""
    df = pd.concat(frames, ignore_index=True)
    df, dropped = drop_unsafe_links(df)
    df, notes = normalise(df)
    if len(dropped):
        notes.insert(0, f"detail_url dropped on {len(dropped)} rows: not https:// on {list(DETAIL_HOSTS)}")
    df, markup_rejects = reject_markup(df)
    if len(markup_rejects):
        notes.append(f"{len(markup_rejects)} rows rejected: name or address holds markup characters")
    df, dup_rejects = deduplicate(df)
    geocoder = geocoder or OfflineGeocoder().fit(df["address"])
    located, geo_rejects = geocode(df, geocoder, progress)
    rejects = pd.concat([markup_rejects, dup_rejects, geo_rejects], ignore_index=True)
    return BuildResult(located, rejects, notes, dropped)


def write(result: BuildResult, out_dir: str | Path) -> dict[str, Path]:
    """Write ``locations.csv``, ``rejects.csv`` and ``report.json`` to ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"locations": out / "locations.csv", "rejects": out / "rejects.csv", "report": out / "report.json"}
    write_csv(result.locations, paths["locations"])
    write_csv(result.rejects, paths["rejects"])
    report = {"built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **result.summary()}
    paths["report"].write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return paths


def load(path: str | Path) -> pd.DataFrame:
    """Read a built ``locations.csv`` (the shipped default is ``data/locations/locations.csv``).

    Raises
    ------
    ValueError
        If columns are missing or coordinates are empty (naming the rows).
    """
    df = pd.read_csv(path, dtype={"phone": str, "detail_url": str, "dong": str})
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    empty = df.index[df["lat"].isna() | df["lon"].isna()].tolist()
    if empty:
        raise ValueError(f"{path}: rows without coordinates (0-based): {empty[:20]}")
    return df.astype({"phone": object, "detail_url": object, "dong": object}).where(df.notna(), None)


# -- nearest places --------------------------------------------------------------------------
class NearestPlaces:
    """Nearest places by haversine (great-circle) distance, with a BallTree.

    Parameters
    ----------
    radius_km : float
        Earth radius used to turn angles into kilometres (mean radius, 6371.0088 km).
    """

    def __init__(self, radius_km: float = EARTH_RADIUS_KM):
        self.radius_km = radius_km

    def fit(self, places: pd.DataFrame) -> NearestPlaces:
        """Index ``places`` (columns ``lat``, ``lon`` in WGS84 degrees); return ``self``."""
        self.places_ = places.reset_index(drop=True)
        self.tree_ = BallTree(np.radians(self.places_[["lat", "lon"]].to_numpy(dtype=float)), metric="haversine")
        return self

    def query(self, lat: float, lon: float, k: int = 5) -> pd.DataFrame:
        """The ``k`` nearest places to (lat, lon) with ``distance_km``, nearest first.

        Returns
        -------
        pandas.DataFrame of shape (min(k, n_places), n_columns + 1)
        """
        k = min(k, len(self.places_))
        if k == 0:
            return self.places_.assign(distance_km=pd.Series(dtype=float))
        dist, idx = self.tree_.query(np.radians([[lat, lon]]), k=k)
        return self.places_.iloc[idx[0]].assign(distance_km=dist[0] * self.radius_km).reset_index(drop=True)


def nearest(places: pd.DataFrame, lat: float, lon: float, k: int = 5) -> pd.DataFrame:
    """:class:`NearestPlaces` fitted on ``places`` and queried once (empty input → empty table)."""
    if places.empty:
        return places.assign(distance_km=pd.Series(dtype=float))
    return NearestPlaces().fit(places).query(lat, lon, k)


def haversine_km(lat1, lon1, lat2, lon2, radius_km: float = EARTH_RADIUS_KM):
    """Great-circle distance in km between points given in degrees (array-like, broadcast)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * radius_km * np.arcsin(np.sqrt(a))


def select(places: pd.DataFrame, gus: tuple[str, ...] = (), place_types: tuple[str, ...] = ()) -> pd.DataFrame:
    """Places in the given 구 and of the given place types (empty tuple: no filter)."""
    mask = pd.Series(True, index=places.index)
    if gus:
        mask &= places["gu"].isin(gus)
    if place_types:
        mask &= places["place_type"].isin(place_types)
    return places[mask]


def nearest_kt_and_centres(
    places: pd.DataFrame,
    lat: float,
    lon: float,
    k: int = 5,
    kt_types: tuple[str, ...] = KT_STORE_TYPES,
    gus: tuple[str, ...] = (),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``k`` nearest KT stores (of ``kt_types``) and learning centres to (lat, lon).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        Each with ``distance_km`` (haversine, km), nearest first; empty when nothing matches.
    """
    kt, centres = kt_and_centres(places, kt_types, gus)
    return nearest(kt, lat, lon, k), nearest(centres, lat, lon, k)


def kt_and_centres(
    places: pd.DataFrame, kt_types: tuple[str, ...] = KT_STORE_TYPES, gus: tuple[str, ...] = ()
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The KT stores of ``kt_types`` and the learning centres of ``places``, in the 구 ``gus`` (empty: all)."""
    kt = select(places[places["source"] == "kt"], gus, kt_types)
    centres = select(places[places["source"] == "learning_centre"], gus)
    return kt, centres


def build_from_dir(raw_dir: str | Path, geocoder: Geocoder | None = None, progress=None) -> BuildResult:
    """Read every known ``*_raw.csv`` list in ``raw_dir`` (see :data:`RAW_FORMATS`) and :func:`build` them.

    Parameters
    ----------
    raw_dir : str or Path
        Folder of crawled lists (``data/raw/locations`` or a scraper's work folder).
    geocoder : Geocoder, optional
        None geocodes offline (legal-dong points fitted on the rows being built).
    progress : callable(done, total), optional

    Raises
    ------
    FileNotFoundError
        If the folder holds none of the known lists.
    """
    raw_dir = Path(raw_dir)
    files = sorted(p for p in raw_dir.glob("*_raw.csv") if p.name in RAW_FORMATS)
    if not files:
        raise FileNotFoundError(f"no raw lists in {raw_dir} (expected one of {sorted(RAW_FORMATS)})")
    return build([read_raw(p) for p in files], geocoder, progress)


def precise_share(places: pd.DataFrame) -> float | None:
    """Share of places geocoded to an address or a legal dong (not only to a 구).

    Returns
    -------
    float or None
        In [0, 1]; None for an empty table.
    """
    return float(places["geocode_precision"].isin(["address", "dong"]).mean()) if len(places) else None


def nearest_rows(*tables: pd.DataFrame | None) -> pd.DataFrame | None:
    """The non-empty nearest-place tables stacked, for the map's highlight and the download.

    Parameters
    ----------
    *tables : pandas.DataFrame or None
        Results of :func:`nearest_kt_and_centres` (``distance_km`` in km).

    Returns
    -------
    pandas.DataFrame or None
        None when every table is missing or empty.
    """
    parts = [t for t in tables if t is not None and not t.empty]
    return pd.concat(parts) if parts else None
