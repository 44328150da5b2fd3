"""Local copies of the two sites' structure, served on 127.0.0.1 for the scraper tests.

* KT store finder: a search tab and box; result pages fetched by JavaScript from a JSON
  endpoint and drawn into ``.store-list``; numbered page links in groups with a "next
  group" arrow. ``page_size`` stores a page, so the last page is short.
* 디지털배움터 place list: server-rendered pages (``pno``) of cards whose ``onclick``
  holds the place id; a pager with the page numbers.

Faults, per site: ``slow_pages`` answer after ``slow_s`` seconds; ``fail_once_pages``
answer HTTP 500 the first time. Rows come from the shipped raw lists (real public store
and centre listings, not invented), including a store without phone and an address
drawn on two lines.
"""

from __future__ import annotations

import html
import json
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

from tests.helpers.servers import LocalServer

KT_PAGE = """<!doctype html><html lang="ko"><head><meta charset="utf-8"><title>KT 매장 찾기</title></head>
<body><div id="cfmClContents">
 <ul class="tab-list"><li><a href="#trigger1-1">내 주변 매장</a></li><li><a href="#trigger1-2">매장명/주소 검색</a></li></ul>
 <div id="trigger1-1" class="panel">지도</div>
 <div id="trigger1-2" class="panel" style="display:none"><input type="text" title="검색어"><button type="button">검색</button></div>
 <div class="store-list" aria-busy="false"></div>
 <div class="paging"></div>
</div>
<script>
const GROUP = __GROUP__;
let term = "";
document.querySelectorAll(".tab-list a").forEach(a => a.addEventListener("click", e => {
  e.preventDefault();
  document.querySelectorAll(".panel").forEach(p => p.style.display = "none");
  document.querySelector(a.getAttribute("href")).style.display = "block";
}));
document.querySelector("#trigger1-2 button").addEventListener("click", () => {
  term = document.querySelector("#trigger1-2 input").value; load(1);
});
function esc(s) { const d = document.createElement("div"); d.textContent = s; return d.innerHTML; }
async function load(page) {
  const list = document.querySelector(".store-list");
  list.setAttribute("aria-busy", "true");
  const resp = await fetch("/store/api/search?q=" + encodeURIComponent(term) + "&page=" + page);
  if (!resp.ok) {
    list.innerHTML = '<p class="error">일시적인 오류가 발생했습니다 (' + resp.status + ')</p>';
    list.setAttribute("aria-busy", "false");
    return;
  }
  const data = await resp.json();
  list.innerHTML = data.rows.map(r => '<div class="store-item"><div class="store-no"></div>'
    + '<div class="store-type">[' + esc(r.type) + ']</div><div class="store-name">' + esc(r.name) + '</div>'
    + '<div class="store-addr">' + r.address_html + '</div>'
    + (r.phone ? '<div class="store-tel">' + esc(r.phone) + '</div>' : '') + '</div>').join("");
  const first = Math.floor((page - 1) / GROUP) * GROUP + 1;
  let pager = "";
  for (let p = first; p < first + GROUP && p <= data.pages; p++) {
    pager += '<a href="#" data-page="' + p + '"' + (p === page ? ' class="on"' : '') + '>' + p + '</a>';
  }
  if (first + GROUP <= data.pages) pager += '<a href="#" class="next">다음</a>';
  const paging = document.querySelector(".paging");
  paging.innerHTML = pager;
  paging.querySelectorAll("a[data-page]").forEach(a => a.addEventListener("click", e => {
    e.preventDefault(); load(parseInt(a.dataset.page));
  }));
  const next = paging.querySelector("a.next");
  if (next) next.addEventListener("click", e => { e.preventDefault(); load(first + GROUP); });
  list.setAttribute("aria-busy", "false");
}
</script></body></html>"""


@dataclass
class SiteState:
    """Rows and faults of the fixture sites (mutable: counts requests)."""

    kt_rows: list[dict]
    edc_rows: list[dict]
    kt_page_size: int = 3
    kt_group: int = 3
    edc_page_size: int = 12
    slow_pages: set[int] = field(default_factory=set)
    slow_s: float = 1.5
    fail_once_pages: set[int] = field(default_factory=set)
    failed: set[tuple[str, int]] = field(default_factory=set)
    requests: list[str] = field(default_factory=list)


def _handler(state: SiteState):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, body: str, kind: str = "text/html; charset=utf-8") -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _fault(self, site: str, page: int) -> bool:
            if page in state.slow_pages:
                time.sleep(state.slow_s)  # the fixture server simulates a slow site
            if page in state.fail_once_pages and (site, page) not in state.failed:
                state.failed.add((site, page))
                self._send(500, "<html><head><title>500 Internal Server Error</title></head><body>오류</body></html>")
                return True
            return False

        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            state.requests.append(self.path)
            if url.path == "/store/KtStoreSearch.do":
                return self._send(200, KT_PAGE.replace("__GROUP__", str(state.kt_group)))
            if url.path == "/store/api/search":
                page = int(query.get("page", 1))
                if self._fault("kt", page):
                    return None
                rows = [r for r in state.kt_rows if query.get("q", "") in r["address"]]
                size = state.kt_page_size
                pages = max(1, -(-len(rows) // size))
                chunk = rows[(page - 1) * size : page * size]
                body = {
                    "pages": pages,
                    "rows": [
                        {**r, "address_html": "<br>".join(html.escape(x) for x in r["address"].split("\n"))}
                        for r in chunk
                    ],
                }
                return self._send(200, json.dumps(body, ensure_ascii=False), "application/json; charset=utf-8")
            if url.path == "/edc/crse/place.do":
                page = int(query.get("pno", 1))
                if self._fault("edc", page):
                    return None
                size = int(query.get("psize", state.edc_page_size))
                rows = state.edc_rows if query.get("sch_area_cd") == "101" else []
                pages = max(1, -(-len(rows) // size))
                cards = "".join(
                    f'<li><a href="#none" onclick="fn_placeDetail(\'{r["id"]}\'); return false;">'
                    f'<p class="title ellip">{html.escape(r["name"])}</p></a>'
                    f'<ul class="info"><li class="ellip">{"<br>".join(html.escape(x) for x in r["address"].split(chr(10)))}</li></ul></li>'
                    for r in rows[(page - 1) * size : page * size]
                )
                pager = "".join(f'<a href="?pno={p}" data-page="{p}">{p}</a>' for p in range(1, pages + 1))
                body = (
                    '<!doctype html><html lang="ko"><head><meta charset="utf-8"><title>교육장소</title></head><body>'
                    f'<div id="content"><ul class="edu-place-list">{cards}</ul><div class="paging">{pager}</div></div>'
                    "</body></html>"
                )
                return self._send(200, body)
            return self._send(404, "<html><head><title>404</title></head></html>")

    return Handler


class FixtureSite(LocalServer):
    """Serve the fixture sites on 127.0.0.1 (a free port) in a background thread."""

    def __init__(self, state: SiteState):
        self.state = state
        super().__init__(_handler(state))
