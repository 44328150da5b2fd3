"""The message catalog: every user-facing string in Korean (default) and English.

The catalog is one TOML file, ``churn_core/locale/messages.toml``; each key has a ``ko``
and an ``en`` text, with ``{name}`` placeholders filled by :func:`t`. Data values
(category levels such as "Month-to-month") are translated under ``value.<value>`` and
shown unchanged when the catalog has no entry.
"""

from __future__ import annotations

import math
import tomllib
from functools import lru_cache
from pathlib import Path

from churn_core.config import Language

CATALOG_PATH: Path = Path(__file__).parent / "locale" / "messages.toml"
LANGUAGES: tuple[Language, ...] = ("ko", "en")
LANGUAGE_NAMES: dict[str, str] = {"ko": "한국어", "en": "English"}


@lru_cache(maxsize=1)
def catalog() -> dict[str, dict[str, str]]:
    """Return the parsed catalog: ``{key: {"ko": text, "en": text}}``."""
    with CATALOG_PATH.open("rb") as fh:
        return tomllib.load(fh)


def t(key: str, lang: str = "ko", **values: object) -> str:
    """Return the text of ``key`` in ``lang`` with placeholders filled.

    Raises
    ------
    KeyError
        If ``key`` is not in the catalog or has no text in ``lang``.
    """
    text = catalog()[key][lang]
    return text.format(**values) if values else text


def value_label(value: object, lang: str = "ko") -> str:
    """Translate a data value (category level) for display; unknown values pass through."""
    entry = catalog().get(f"value.{value}")
    return entry[lang] if entry else str(value)


def feature_label(feature: str, lang: str = "ko") -> str:
    """Return the display name of a feature (warehouse column name)."""
    entry = catalog().get(f"feature.{feature}")
    return entry[lang] if entry else feature


def fmt_int(n: float) -> str:
    """Format a count with thousands separators (``7043`` -> ``"7,043"``)."""
    return f"{int(n):,}"


def fmt_pct(x: float, digits: int = 1) -> str:
    """Format a fraction as a percentage (``0.2654`` -> ``"26.5%"``); NaN -> ``"–"``."""
    return "–" if x is None or math.isnan(x) else f"{100 * x:.{digits}f}%"


def fmt_usd(x: float, digits: int = 0) -> str:
    """Format an amount in US dollars (``139130.85`` -> ``"$139,131"``, ``-31`` -> ``"-$31"``)."""
    return f"-${-x:,.{digits}f}" if x < 0 else f"${x:,.{digits}f}"
