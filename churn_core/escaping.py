"""Escaping of values that come from data or users, for the context they land in: one place.

- HTML text and attributes: :func:`html_text` (``html.escape`` with quotes);
- a JavaScript template string holding HTML (folium writes tooltips as
  ```<div>…</div>```): :func:`js_template_html`, which escapes ``\\``, `````, ``${``
  after the HTML escaping;
- Markdown text (``st.markdown``, ``st.caption``, alerts): :func:`markdown_text` escapes every
  ASCII punctuation character, so a value never becomes a link, an image, emphasis or a
  directive;
- links: :func:`safe_link` keeps only ``https://`` URLs on an expected host (no user
  information, no backslash, no spaces or control characters: browsers and Python's
  ``urlsplit`` would disagree on the host);
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

#: First characters that make a spreadsheet treat a cell as a formula (OWASP CSV injection), with
#: line feed and the full-width forms of ``= + - @`` that some spreadsheets also take as a formula.
CSV_FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_MARKDOWN_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character (CommonMark escapes)
_URL_FORBIDDEN = re.compile(r"[\\\s\x00-\x1f\x7f]")  # backslash, whitespace, control characters
#: Characters refused in place names (markup or script); see :func:`has_markup`.
MARKUP_CHARACTERS: frozenset[str] = frozenset('<>`${}\\"')


def html_text(value: object) -> str:
    """``value`` as HTML text or a quoted attribute value (``& < > " '`` escaped); None is ``""``."""
    return html.escape("" if value is None else str(value), quote=True)


def js_template_html(value: object) -> str:
    """``value`` escaped for HTML, then for a JavaScript template literal (``\\``, ````` and ``${``).

    For text that folium writes between backticks (``bindTooltip(`<div>…</div>`)``): the
    result can neither end the literal, nor interpolate (``${…}``), nor open a tag.
    """
    text = html_text(value)
    return text.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${")


def markdown_text(value: object) -> str:
    """``value`` as literal Markdown text: every ASCII punctuation character backslash-escaped.

    For data put into ``st.markdown``, ``st.caption`` or an alert: ``[x](javascript:…)``,
    ``![](…)``, ``<https://…>``, ``**``, ``:red[…]``, ``$…$`` all show as typed. Line breaks
    become spaces (a value never starts a list, heading or code block). None is ``""``.
    """
    text = "" if value is None else " ".join(str(value).splitlines())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def has_markup(text: object) -> bool:
    """True when ``text`` holds a character of :data:`MARKUP_CHARACTERS` (never valid in a place name)."""
    return isinstance(text, str) and any(ch in MARKUP_CHARACTERS for ch in text)


def _ascii_host(host: str) -> str | None:
    try:
        return host.encode("idna").decode("ascii").lower().rstrip(".")
    except UnicodeError:
        return None


def safe_link(url: object, allowed_hosts: tuple[str, ...]) -> str | None:
    """``url`` if it is ``https://`` on one of ``allowed_hosts`` (or a subdomain of one), else None.

    Parameters
    ----------
    url : object
        A link from data (anything that is not a non-empty string gives None).
    allowed_hosts : tuple of str
        Host names in ASCII (punycode, ``xn--…``); a Unicode host in ``url`` is compared
        in its punycode form.

    Returns
    -------
    str or None
        The URL (surrounding spaces removed), or None when it is not ``https``, names
        another host (``…kr.evil.com``, ``evil.com/?u=https://…kr``), carries user
        information (``https://…kr@evil.com``), holds a backslash, a space or a control
        character (``https://evil.com\\@…kr`` goes to evil.com in a browser while
        Python reads the host after the ``@``), or has an invalid port.
    """
    if not isinstance(url, str) or not url.strip():
        return None
    url = url.strip()
    if _URL_FORBIDDEN.search(url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on an invalid port
    except ValueError:
        return None
    if parts.scheme != "https" or "@" in parts.netloc or not parts.hostname:
        return None
    host = _ascii_host(parts.hostname)
    if host is None:
        return None
    return url if any(host == h or host.endswith("." + h) for h in allowed_hosts) else None


def csv_cell(value: object) -> object:
    """A cell made safe for spreadsheets: formula-like text gets a leading ``'``; anything else is unchanged.

    Text starting with one of :data:`CSV_FORMULA_STARTS` is prefixed, unless the whole
    text is a plain number (``-12.5``, ``+821012345678``, ``-1e5``), which a spreadsheet
    reads as that number.
    """
    if isinstance(value, str) and value.startswith(CSV_FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells (and column names) went through :func:`csv_cell`.

    Text, object (mixed) and categorical columns are neutralised; numeric, boolean and
    date columns are unchanged, as are numbers inside object columns.
    """
    out = df.copy()
    for column in range(out.shape[1]):
        series = out.iloc[:, column]
        categorical = isinstance(series.dtype, pd.CategoricalDtype)
        if series.dtype == object or categorical or pd.api.types.is_string_dtype(series):
            out.isetitem(column, series.map(csv_cell))
    out.columns = [csv_cell(str(c)) for c in out.columns]
    return out


def csv_bytes(df: pd.DataFrame) -> bytes:
    """``df`` as UTF-8 CSV with a byte-order mark (Excel opens it right), cells neutralised, no index."""
    return csv_safe(df).to_csv(index=False).encode("utf-8-sig")


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` as UTF-8 CSV (no byte-order mark, no index) with neutralised cells; returns the path."""
    csv_safe(df).to_csv(path, index=False, encoding="utf-8")
    return Path(path)
