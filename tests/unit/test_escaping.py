"""Values from data or users never become script, markup or a spreadsheet formula (churn_core.escaping).

The map's payloads are run for real: the tooltips folium writes as JavaScript template
literals are evaluated by Node.js (the project's npm toolchain), and the popup HTML is
parsed; CSV files are read back with pandas; Markdown is rendered with markdown-it
(CommonMark).
"""

from __future__ import annotations

import ast
import html
import io
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pandas as pd
import pytest

from churn_core.config import LOCATIONS_DIR, PROJECT_ROOT
from churn_core.escaping import (
    csv_bytes,
    csv_cell,
    csv_safe,
    has_markup,
    html_text,
    js_template_html,
    markdown_text,
    safe_link,
    write_csv,
)
from churn_core.geo import locations, maps

pytestmark = pytest.mark.unit

HOSTS = locations.DETAIL_HOSTS
REAL_LINK = "https://www.xn--2z1bw8k1pjz5ccumkb.kr/edc/crse/plcdtl.do?&sch_edc_place_id=20210001574"
#: Names a hostile list could carry; each would set ``__pwned`` if it ran.
HOSTILE = (
    '<img src=x onerror="window.__pwned=1">',
    "${window.__pwned=2}",
    "</script><script>window.__pwned=3</script>",
    "`;window.__pwned=4;`",
    "\\`${window.__pwned=5}",
    "'><svg onload=window.__pwned=6>",
)


# -- CSV cells (OWASP CSV injection) ---------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    ["=1+1", "=HYPERLINK(\"https://evil.example\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)",
     "\t=1+1", "\r=1+1", "\n=1+1", "＝1+1", "＋1", "－1+1", "＠SUM(A1)", "-", "+"],
)  # fmt: skip
def test_formula_like_cells_are_neutralised(text) -> None:
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["-12.5", "+821012345678", "1e5", "-1e5", "+.5", "-0", "12", "plain", "", "a=b"])
def test_numbers_and_plain_text_are_unchanged(text) -> None:
    assert csv_cell(text) == text


def test_numbers_keep_their_type_and_text_reads_back_literally(tmp_path) -> None:
    df = pd.DataFrame(
        {
            "name": ["=1+1", "-12.5", "@me", "ok"],
            "mixed": ["+1-1", 3.5, None, "-7"],
            "amount": [-12.5, 3.0, -0.25, 1e5],
            "count": [-3, 0, 7, 2],
            "flag": [True, False, True, False],
            "level": pd.Categorical(["=A", "B", "=A", "B"]),
            "=evil": ["x", "y", "z", "w"],
        }
    )
    safe = csv_safe(df)
    assert list(safe["name"]) == ["'=1+1", "-12.5", "'@me", "ok"]
    assert list(safe["mixed"])[:2] == ["'+1-1", 3.5] and list(safe["mixed"])[3] == "-7"
    assert list(safe["level"]) == ["'=A", "B", "'=A", "B"]
    assert safe.columns[-1] == "'=evil"
    pd.testing.assert_frame_equal(safe[["amount", "count", "flag"]], df[["amount", "count", "flag"]])

    data = csv_bytes(df)
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 with a byte-order mark
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert back["amount"].tolist() == df["amount"].tolist() and back["count"].tolist() == df["count"].tolist()
    text = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert text["name"].tolist() == ["'=1+1", "-12.5", "'@me", "ok"]
    assert text["'=evil"].tolist() == ["x", "y", "z", "w"]
    written = pd.read_csv(write_csv(df, tmp_path / "out.csv"), dtype=str, keep_default_na=False)
    assert written["name"].tolist() == ["'=1+1", "-12.5", "'@me", "ok"]
    assert not any(cell.startswith(("=", "+", "@")) for cell in written.to_numpy().ravel())


# -- HTML and JavaScript template literals ------------------------------------------------------------
def _node_template_literals(literals: list[str]) -> dict:
    """Evaluate JavaScript template literal bodies in Node.js, as the browser would run folium's tooltips."""
    node = shutil.which("node")
    assert node, "Node.js is needed (it is the project's npm toolchain: `make setup`)"
    body = ",".join(f"`{text}`" for text in literals)
    script = f"globalThis.window = globalThis; const out = [{body}];\n"
    script += "console.log(JSON.stringify({out, pwned: typeof globalThis.__pwned}));"
    done = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr  # a literal that ends early is a syntax error here
    return json.loads(done.stdout)


def test_js_template_html_survives_a_template_literal() -> None:
    escaped = [js_template_html(text) for text in HOSTILE]
    for text in escaped:
        assert "<" not in text and ">" not in text and '"' not in text and "'" not in text
        assert re.search(r"(?<!\\)(\\\\)*`", text) is None  # every backtick escaped
        assert re.search(r"(?<!\\)(\\\\)*\$\{", text) is None  # every ${ escaped
    result = _node_template_literals(escaped)
    assert result["pwned"] == "undefined"
    assert result["out"] == [html_text(text) for text in HOSTILE]  # HTML text of the original, literally


def test_html_text_escapes_text_and_attributes() -> None:
    assert (
        html_text("<a href=\"x\" title='y'>&</a>") == "&lt;a href=&quot;x&quot; title=&#x27;y&#x27;&gt;&amp;&lt;/a&gt;"
    )
    assert html_text(None) == ""


def test_has_markup() -> None:
    assert all(has_markup(text) for text in HOSTILE)
    assert not has_markup("서울시민대학 동남권캠퍼스 (고덕동, 2층) 02-123-4567 & KT")
    assert not has_markup(None) and not has_markup(3.5)


# -- links ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "http://www.xn--2z1bw8k1pjz5ccumkb.kr/edc",
        "javascript:alert(1)//https://www.xn--2z1bw8k1pjz5ccumkb.kr/",
        "JaVaScRiPt:window.__pwned=1",
        "data:text/html,<script>alert(1)</script>",
        "https://evil.com/edc",
        "https://xn--2z1bw8k1pjz5ccumkb.kr.evil.com/edc",
        "https://evil.com/?u=https://www.xn--2z1bw8k1pjz5ccumkb.kr/",
        "https://evilxn--2z1bw8k1pjz5ccumkb.kr/",
        "https://www.xn--2z1bw8k1pjz5ccumkb.kr@evil.com/",
        "https://evil.com\\@www.xn--2z1bw8k1pjz5ccumkb.kr/",  # Python reads the host after @, browsers evil.com
        "https://evil.com\\.xn--2z1bw8k1pjz5ccumkb.kr/",
        "https://www.xn--2z1bw8k1pjz5ccumkb.kr\t.evil.com/",
        "https://www.xn--2z1bw8k1pjz5ccumkb.kr:99999/",
        "//www.xn--2z1bw8k1pjz5ccumkb.kr/edc",
        "/edc/crse/plcdtl.do",
        "",
        None,
        float("nan"),
    ],
)
def test_safe_link_refuses_everything_but_https_on_the_site(url) -> None:
    assert safe_link(url, HOSTS) is None


@pytest.mark.parametrize(
    "url",
    [
        REAL_LINK,
        "https://xn--2z1bw8k1pjz5ccumkb.kr/",
        "https://디지털배움터.kr/edc",
        " https://www.xn--2z1bw8k1pjz5ccumkb.kr/a ",
    ],
)
def test_safe_link_keeps_the_real_site(url) -> None:
    assert safe_link(url, HOSTS) == url.strip()


# -- Markdown ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "[click](javascript:window.__pwned=1)",
        "![x](https://evil.example/p.png)",
        "<https://evil.example>",
        "<img src=x onerror=alert(1)>",
        "**bold** _it_ `code` ~~s~~",
        "# heading\n- item\n    code",
        "a\\*b [x][1]\n\n[1]: javascript:alert(1)",
    ],
)
def test_markdown_text_shows_as_typed(text) -> None:
    from markdown_it import MarkdownIt

    rendered = MarkdownIt("commonmark").render(markdown_text(text))
    assert rendered.startswith("<p>") and rendered.count("<") == 2  # one paragraph: <p> … </p>, no other tag
    assert html.unescape(rendered[3:-5]) == " ".join(text.splitlines())


# -- the locations build ------------------------------------------------------------------------------
def _raw(name: str, address: str, url: str = "") -> dict:
    return {"source": "learning_centre", "place_type": "learning_centre", "name": name, "address": address,
            "phone": "", "detail_url": url, "scraped_at": "2023-11"}  # fmt: skip


def test_build_rejects_markup_names_and_drops_unsafe_links(tmp_path) -> None:
    raw = pd.DataFrame(
        [
            _raw("고덕도서관", "서울특별시 강동구 고덕로 399 (고덕동)", REAL_LINK),
            _raw(HOSTILE[0], "서울특별시 강동구 올림픽로 702 (천호동)"),
            _raw("자양한강도서관", "서울특별시 광진구 뚝섬로52길 66 (자양동) ${window.__pwned=2}"),
            _raw("은평구립도서관", "서울특별시 은평구 통일로78가길 13-84 (불광동)", "javascript:window.__pwned=3"),
            _raw(
                "광진정보도서관",
                "서울특별시 광진구 아차산로78길 90 (광장동)",
                "https://evil.com\\@www.xn--2z1bw8k1pjz5ccumkb.kr/",
            ),
        ]
    )
    result = locations.build([raw])
    kept = result.locations.set_index("name")
    assert set(kept.index) == {"고덕도서관", "은평구립도서관", "광진정보도서관"}
    assert kept.loc["고덕도서관", "detail_url"] == REAL_LINK
    assert kept.loc["은평구립도서관", "detail_url"] is None and kept.loc["광진정보도서관", "detail_url"] is None
    rejects = result.rejects.set_index("name")
    assert rejects.loc[HOSTILE[0], "reason"] == "name holds markup characters"
    assert rejects.loc["자양한강도서관", "reason"] == "address holds markup characters"
    assert set(result.dropped_links["name"]) == {"은평구립도서관", "광진정보도서관"}
    assert result.dropped_links["reason"].str.contains("https://").all()

    paths = locations.write(result, tmp_path)
    report = json.loads(paths["report"].read_text(encoding="utf-8"))
    assert report["markup_rejected"] == 2 and report["links_dropped"] == 2
    assert any("detail_url dropped on 2 rows" in note for note in report["notes"])
    assert {"stage": "normalise", "reason": "name holds markup characters", "n": 1} in report["rejects"]
    on_disk = pd.read_csv(paths["rejects"], dtype=str)
    assert HOSTILE[0] in set(on_disk["name"])  # reported as it was, for the operator to see


# -- the map --------------------------------------------------------------------------------------------
class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data) -> None:
        self.text.append(data)


def test_map_with_hostile_names_holds_no_live_payload() -> None:
    places = locations.load(LOCATIONS_DIR / "locations.csv")
    places = places[places["source"] == "learning_centre"].head(len(HOSTILE) + 2).reset_index(drop=True)
    places.loc[: len(HOSTILE) - 1, "name"] = list(HOSTILE)
    places.loc[: len(HOSTILE) - 1, "address"] = list(reversed(HOSTILE))
    places.loc[0, "phone"] = "'><script>window.__pwned=7</script>"
    places.loc[1, "detail_url"] = "javascript:window.__pwned=8"
    places.loc[2, "detail_url"] = "https://evil.com\\@www.xn--2z1bw8k1pjz5ccumkb.kr/"
    nearest = places.assign(distance_km=0.5)
    labels = {"me": "<b>me</b>${window.__pwned=9}", "layer.learning_centre": "<i>centres</i>"}
    page = maps.build_map(places, ("learning_centre",), labels, origin=(37.55, 127.0), nearest=nearest, tiles=None)
    rendered = page.get_root().render()

    assert "<img src=x" not in rendered and "<svg" not in rendered and "<script>window" not in rendered
    assert "<i>centres</i>" not in rendered  # layer names and legend labels are HTML in Leaflet: escaped too

    tooltips = re.findall(r"bindTooltip\(\s*`(.*?)`,", rendered, re.S)
    assert len(tooltips) == len(places) + 1  # the nearest places and "me"
    result = _node_template_literals(tooltips)
    assert result["pwned"] == "undefined"
    for text in HOSTILE:
        assert any(html_text(text) in out for out in result["out"])

    data = json.loads(re.search(r"var data = (\[.*?\]);\n", rendered, re.S).group(1))
    popups = [row[2] for row in data]
    assert len(popups) == len(places)
    for popup in popups:
        parser = _Tags()
        parser.feed(popup)
        assert {tag for tag, _ in parser.tags} <= {"b", "br", "a", "small"}
        for tag, attrs in parser.tags:
            assert not any(key.startswith("on") for key in attrs), (tag, attrs)
            if tag == "a":
                assert attrs["href"].startswith("tel:") or safe_link(attrs["href"], HOSTS), attrs["href"]
    texts = []
    for popup in popups:
        parser = _Tags()
        parser.feed(popup)
        texts.append("".join(parser.text))
    for text in HOSTILE:
        assert any(text in shown_text for shown_text in texts), text  # shown literally


# -- architecture: one way out for every CSV ---------------------------------------------------------------
CODE_DIRS = ("churn_core", "ui", "pages", "scrapers", "api")


def _python_files():
    yield PROJECT_ROOT / "Home.py"
    for folder in CODE_DIRS:
        yield from sorted((PROJECT_ROOT / folder).rglob("*.py"))


def test_every_csv_is_written_through_escaping() -> None:
    offenders = []
    for path in _python_files():
        if path == PROJECT_ROOT / "churn_core" / "escaping.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "to_csv":
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
            is_csv_module = (
                isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "csv"
            )
            if is_csv_module and node.attr in {"writer", "DictWriter"}:
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
    assert not offenders, f"write CSVs with churn_core.escaping.write_csv / csv_bytes: {offenders}"


def test_every_streamlit_download_button_gets_download_csv() -> None:
    """Streamlit's ``download_button`` (``st.`` or a container's) only ever gets ``download_csv(...)``."""
    files = [
        PROJECT_ROOT / "Home.py",
        *sorted((PROJECT_ROOT / "pages").glob("*.py")),
        *(PROJECT_ROOT / "ui").glob("*.py"),
    ]
    buttons, offenders = 0, []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr != "download_button":
                continue
            buttons += 1
            data = next(
                (k.value for k in node.keywords if k.arg == "data"), node.args[1] if len(node.args) > 1 else None
            )
            made_by = data.func.id if isinstance(data, ast.Call) and isinstance(data.func, ast.Name) else None
            if made_by != "download_csv":
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
    assert buttons >= 1
    assert not offenders, f"downloads must be made by ui.download_csv: {offenders}"
