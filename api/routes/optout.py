"""One-click unsubscribe (RFC 8058): ``GET /optout?token=…`` asks, ``POST /optout`` records.

* ``GET`` shows a small confirmation page (Korean, then English) with a button that POSTs the
  token. It never records anything: mail scanners and link previews fetch links on their own.
* ``POST`` (the token in the query string, as in the ``List-Unsubscribe`` URL, or in the form
  field ``token``; body ``List-Unsubscribe=One-Click`` from mail clients) records the
  withdrawal at once through :func:`churn_core.outreach.unsubscribe.opt_out` and answers 200
  with a confirmation. A second POST records a second withdrawal (harmless).
* A missing, forged, altered or truncated token: 400 and a page saying nothing was recorded
  (the token is never echoed). No signing key or a failed warehouse write: 503 with
  ``Retry-After``, and a page saying nothing was recorded.

Every value on the pages is escaped by Jinja2's autoescape.
"""

from __future__ import annotations

from typing import Annotated

import jinja2
from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse

from api.deps import SettingsDep, WarehouseDep
from churn_core.config import Settings
from churn_core.i18n import LANGUAGES, t
from churn_core.outreach import unsubscribe

router = APIRouter(tags=["opt-out"])

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
PAGE = _ENV.from_string(
    """<!doctype html>
<html lang="ko">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{ title }}</title>
<style>
body { font-family: sans-serif; font-size: 20px; line-height: 1.5; max-width: 40em; margin: 2em auto; padding: 0 1em; }
button { font-size: 22px; padding: .5em 1.5em; }
section + section { border-top: 1px solid #ccc; margin-top: 2em; }
</style>
</head>
<body>
{% for block in blocks %}
<section lang="{{ block.lang }}">
<h1>{{ block.heading }}</h1>
<p>{{ block.text }}</p>
{% if token %}
<form method="post" action="optout">
<input type="hidden" name="token" value="{{ token }}">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">{{ block.button }}</button>
</form>
{% endif %}
<p><a href="{{ privacy_url }}">{{ block.privacy }}</a></p>
</section>
{% endfor %}
</body>
</html>
"""
)

_STATUS = {"valid": 200, "recorded": 200, "invalid": 400, "unavailable": 503}
_KEYS = {"valid": "confirm", "recorded": "done", "invalid": "invalid", "unavailable": "unavailable"}


def render(outcome: unsubscribe.OptOutOutcome, settings: Settings, token: str | None = None) -> HTMLResponse:
    """The page for ``outcome`` with its status code (see the module docstring).

    ``token`` (the raw token) is posted back by the button of the confirmation page only.
    """
    name = _KEYS[outcome.status]
    verified = outcome.token
    blocks = []
    for lang in LANGUAGES:
        channel = t(f"optout.channel_{verified.channel}", lang) if verified else ""
        values = {"phone": settings.opt_out_phone, "when": outcome.when_kst, "channel": channel}
        blocks.append({
            "lang": lang, "heading": t(f"optout.{name}_h", lang), "text": t(f"optout.{name}_text", lang, **values),
            "button": t("optout.confirm_button", lang), "privacy": t("optout.privacy_link", lang),
        })  # fmt: skip
    html = PAGE.render(
        title=" · ".join(t(f"optout.{name}_h", lang) for lang in LANGUAGES), blocks=blocks,
        token=token if outcome.status == "valid" else None, privacy_url=settings.privacy_url,
    )  # fmt: skip
    headers = {"Retry-After": "60"} if outcome.status == "unavailable" else None
    return HTMLResponse(html, status_code=_STATUS[outcome.status], headers=headers)


@router.get("/optout", response_class=HTMLResponse)
def confirm(settings: SettingsDep, token: Annotated[str | None, Query()] = None) -> HTMLResponse:
    """The confirmation page of a link (200), or why it cannot be used (400, 503); records nothing."""
    outcome = unsubscribe.check(token, settings)
    return render(outcome, settings, token)


@router.post("/optout", response_class=HTMLResponse)
def opt_out(
    settings: SettingsDep,
    wh: WarehouseDep,
    token: Annotated[str | None, Query()] = None,
    form_token: Annotated[str | None, Form(alias="token")] = None,
) -> HTMLResponse:
    """Record the opt-out of the token (query or form field) at once: 200, 400 or 503 (see the module).

    The body ``List-Unsubscribe=One-Click`` of RFC 8058 is accepted and not required: the
    signed token alone says who opts out of what.
    """
    if token and form_token and token != form_token:
        outcome = unsubscribe.OptOutOutcome("invalid", reason="two_tokens")  # which one did the recipient mean?
    else:
        outcome = unsubscribe.opt_out(wh, token or form_token, settings, source="unsubscribe_link")
    return render(outcome, settings)
