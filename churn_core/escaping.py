"""Escaping of values that come from data or users, for the context they land in: one place.

- HTML text and attributes: :func:`html_text` (``html.escape`` with quotes);
- a JavaScript template string holding HTML (folium writes tooltips as
  ```<div>…</div>```): :func:`js_template_html`, which escapes ``\\``, `````, ``${``
  after the HTML escaping;
- links: :func:`safe_link` keeps only ``https://`` URLs on an expected host;
- CSV cells: :func:`csv_cell` / :func:`csv_safe` neutralise cells that a spreadsheet
  would run as a formula (``=``, ``+``, ``-``, ``@``, tab, carriage return: OWASP "CSV
  injection") by prefixing a single quote; numbers, and text that is a plain number such
  as ``-12.5`` or ``+821012345678``, are left as they are. :func:`csv_bytes` is what every
  CSV download and every CSV a command writes goes through.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd

#: First characters that make a spreadsheet treat a cell as a formula (OWASP CSV injection).
CSV_FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
#: Characters refused in place names (markup or script); see :func:`has_markup`.
MARKUP_CHARACTERS: frozenset[str] = frozenset('<>`${}\\"')


def html_text(value: object) -> str:
    """``value`` as HTML text or a quoted attribute value (``& < > " '`` escaped)."""
    return html.escape("" if value is None else str(value), quote=True)


def js_template_html(value: object) -> str:
    """``value`` escaped for HTML, then for a JavaScript template literal (``\\``, ````` and ``${``)."""
    text = html_text(value)
    return text.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${")


def has_markup(text: object) -> bool:
    """True when ``text`` holds a character of :data:`MARKUP_CHARACTERS` (never valid in a place name)."""
    return isinstance(text, str) and any(ch in MARKUP_CHARACTERS for ch in text)


def safe_link(url: object, allowed_hosts: tuple[str, ...]) -> str | None:
    """``url`` if it is ``https://`` on one of ``allowed_hosts`` (or a subdomain), else None."""
    if not isinstance(url, str) or not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not host:
        return None
    return url.strip() if any(host == h or host.endswith("." + h) for h in allowed_hosts) else None


def csv_cell(value: object) -> object:
    """A cell made safe for spreadsheets: formula-like text gets a leading ``'``; anything else is unchanged."""
    if isinstance(value, str) and value.startswith(CSV_FORMULA_STARTS) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells (and column names) went through :func:`csv_cell`; numbers unchanged."""
    out = df.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(csv_cell)
    out.columns = [csv_cell(str(c)) for c in out.columns]
    return out


def csv_bytes(df: pd.DataFrame) -> bytes:
    """``df`` as UTF-8 CSV with a byte-order mark (Excel opens it right), cells neutralised."""
    return csv_safe(df).to_csv(index=False).encode("utf-8-sig")


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` as UTF-8 CSV (no byte-order mark) with neutralised cells; returns the path."""
    csv_safe(df).to_csv(path, index=False, encoding="utf-8")
    return Path(path)
