"""Korean rules for advertising messages (정보통신망법 제50조), enforced in code.

* Prior consent per channel, never to opted-out recipients; checked again at send time
  (:func:`eligibility`), not only when the audience is chosen. Consent comes from the
  consent history (:mod:`churn_core.outreach.consent`), not from the contact book.
* §50⑧: consent to advertising is reconfirmed every :data:`CONSENT_VALIDITY_YEARS` years; an
  older grant is not used (reason ``consent_expired``, :func:`consent_expired`), and the
  customers whose grant expires within :data:`RECONFIRM_NOTICE_DAYS` days are listed for a
  reconfirmation notice (:func:`churn_core.outreach.consent.reconfirmation_due`).
* The message starts with ``(광고)`` and the sender's name, carries the sender's contact,
  and ends with a free opt-out instruction (무료수신거부 number or link); a template
  without these is refused (:func:`template_problems`), and every rendered message is
  checked again against the sender details of the moment just before it is sent
  (:func:`message_problems`). E-mail subjects start with ``(광고)`` too, and every e-mail
  links the privacy notice.
* Shipped templates (:data:`DEFAULT_TEMPLATES`) cannot be shadowed: an edited template is
  stored under ``custom-`` and a hash of its text, whatever its file says.
* Nothing is sent between 21:00 and 08:00 KST without separate night-time consent; such
  sends are held until 08:00 KST (:func:`quiet_hours`, :func:`next_allowed`).

Every campaign channel (:data:`CAMPAIGN_CHANNELS`) follows these rules unchanged. The phone
channels (``sms`` Twilio, ``sms_kr`` SOLAPI SMS/LMS, ``alimtalk`` KakaoTalk 알림톡, ``brand``
KakaoTalk 브랜드 메시지) use the customer's phone (SMS) consent and mobile number, ``email``
the e-mail consent and address (:func:`consent_channel`, :func:`address_column`). 브랜드 메시지
is advertising with the SMS rules. 알림톡 is for information only: Kakao refuses advertising in
it, so an 알림톡 text must carry none of the advertising marks (:data:`ADVERTISING_MARKS`:
``(광고)``, the opt-out line, discounts or events; a word list, not a judgement of content),
and only a template with a code Kakao approved may be sent (checked by the channel,
:mod:`churn_core.outreach.korean`). Consent and quiet hours still apply to it (stricter than
the law asks for informational messages, on purpose).

This encodes the rules as the issue states them; it is not legal advice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import string
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from churn_core.prediction.business import AT_RISK_TIERS

KST = ZoneInfo("Asia/Seoul")
QUIET_START = dt.time(21, 0)
QUIET_END = dt.time(8, 0)
AD_MARK = "(광고)"
OPT_OUT_WORD = "무료수신거부"
#: §50⑧: advertising consent must be reconfirmed every two years.
CONSENT_VALIDITY_YEARS = 2
#: Customers whose consent expires within this many days are due a reconfirmation notice.
RECONFIRM_NOTICE_DAYS = 30
CUSTOM_PREFIX = "custom-"
#: Campaign channels (issue #15): Twilio SMS/LMS, SOLAPI SMS/LMS, KakaoTalk 알림톡 and 브랜드 메시지, e-mail.
CAMPAIGN_CHANNELS: tuple[str, ...] = ("sms", "sms_kr", "alimtalk", "brand", "email")
#: Channels that reach a mobile number (and use the phone, i.e. SMS, consent).
PHONE_CHANNELS: tuple[str, ...] = ("sms", "sms_kr", "alimtalk", "brand")
#: Informational-only channels: advertising is refused there.
INFORMATIONAL_CHANNELS: tuple[str, ...] = ("alimtalk",)
#: Text that marks a message as advertising (refused in 알림톡): the ad mark, the opt-out word, offers.
ADVERTISING_MARKS: tuple[str, ...] = (AD_MARK, OPT_OUT_WORD, "광고", "할인", "혜택", "이벤트", "쿠폰", "특가",
                                      "{discount}")  # fmt: skip
log = logging.getLogger(__name__)
PLACEHOLDERS = frozenset({"name", "plaza_name", "plaza_address", "plaza_phone", "centre_name", "centre_address",
                          "discount", "sender", "sender_phone", "opt_out", "privacy_url"})  # fmt: skip


@dataclass(frozen=True)
class Sender:
    """Who sends: name, contact number, free opt-out number, privacy-notice link."""

    name: str
    phone: str
    opt_out_phone: str
    privacy_url: str


@dataclass(frozen=True)
class Template:
    """A message template; ``body`` (and ``subject`` for e-mail) use ``{placeholders}``."""

    template_id: str
    channel: str
    body: str
    subject: str = ""


def consent_channel(channel: str) -> str:
    """The consent a campaign channel uses: ``sms`` for every phone channel, ``email`` for e-mail.

    Raises
    ------
    ValueError
        If ``channel`` is not one of :data:`CAMPAIGN_CHANNELS`.
    """
    if channel not in CAMPAIGN_CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; expected one of {list(CAMPAIGN_CHANNELS)}")
    return "sms" if channel in PHONE_CHANNELS else "email"


def address_column(channel: str) -> str:
    """The contact column a campaign channel sends to: ``phone_e164`` or ``email`` (ValueError if unknown)."""
    return "phone_e164" if consent_channel(channel) == "sms" else "email"


def template_problems(template: Template, sender: Sender) -> list[str]:
    """Everything that makes a template unlawful or unusable (empty list: compliant).

    Checked on the text as rendered for a sample recipient, so the sender's details may
    come from placeholders. An 알림톡 template must not even name ``{discount}``.
    """
    fields = {f for _, f, _, _ in string.Formatter().parse(template.body + template.subject) if f}
    unknown = sorted(fields - PLACEHOLDERS)
    if unknown:
        return [f"unknown placeholders: {unknown} (allowed: {sorted(PLACEHOLDERS)})"]
    if template.channel in INFORMATIONAL_CHANNELS and "discount" in fields:
        return ["an 알림톡 is informational: it cannot offer a discount ({discount})"]
    return message_problems(render(template, sender, {}), template.channel, sender)


def message_problems(message: dict[str, str], channel: str, sender: Sender) -> list[str]:
    """Everything that makes a rendered message unlawful (empty list: compliant).

    Parameters
    ----------
    message : dict
        ``subject`` and ``body`` as :func:`render` returns them.
    channel : {"sms", "sms_kr", "alimtalk", "brand", "email"}
        ``alimtalk`` is informational: any advertising mark is a problem, and the §50
        advertising rules (ad mark, opt-out line) do not apply; the sender's name and contact
        are still required.
    sender : Sender
        The sender details of the moment (a campaign planned before they changed is checked
        against the new ones).

    Returns
    -------
    list of str
        One English sentence per problem.
    """
    problems = []
    body = message["body"].strip()
    if channel in INFORMATIONAL_CHANNELS:
        return _informational_problems(message, sender)
    if not body.startswith(f"{AD_MARK}{sender.name}") and not body.startswith(f"{AD_MARK} {sender.name}"):
        problems.append(f"the message must start with '{AD_MARK}' followed by the sender's name '{sender.name}'")
    if _digits(sender.phone) not in _digits(body):
        problems.append(f"the message must include the sender's contact number {sender.phone}")
    last_line = body.splitlines()[-1] if body else ""
    has_opt_out = OPT_OUT_WORD in last_line and (
        _digits(sender.opt_out_phone) in _digits(last_line) or "http" in last_line
    )
    if not has_opt_out:
        problems.append(f"the message must end with a free opt-out line ('{OPT_OUT_WORD}' and a number or link)")
    if channel == "email":
        if not message.get("subject", "").strip().startswith(AD_MARK):
            problems.append(f"the e-mail subject must start with '{AD_MARK}'")
        if sender.privacy_url not in body:
            problems.append("the e-mail must link the privacy notice ({privacy_url})")
    if channel in PHONE_CHANNELS and len(body) > 2000:
        problems.append("an SMS/LMS body must stay under 2,000 characters")
    return problems


def _informational_problems(message: dict[str, str], sender: Sender) -> list[str]:
    text = message.get("subject", "") + "\n" + message["body"]
    problems = []
    marks = [m for m in ADVERTISING_MARKS if m in text]
    if marks:
        problems.append(f"an 알림톡 is informational and may carry no advertising ({', '.join(marks)}); "
                        "send offers as 브랜드 메시지 or SMS")  # fmt: skip
    if sender.name not in text:
        problems.append(f"the message must name the sender '{sender.name}'")
    if _digits(sender.phone) not in _digits(text):
        problems.append(f"the message must include the sender's contact number {sender.phone}")
    if len(message["body"]) > 1000:
        problems.append("an 알림톡 body must stay under 1,000 characters")
    return problems


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def render(template: Template, sender: Sender, values: dict[str, str]) -> dict[str, str]:
    """Fill a template for one recipient (missing values become empty strings)."""
    fill = {k: "" for k in PLACEHOLDERS} | {
        "sender": sender.name,
        "sender_phone": sender.phone,
        "opt_out": sender.opt_out_phone,
        "privacy_url": sender.privacy_url,
    } | {k: v for k, v in values.items() if v is not None}  # fmt: skip
    return {"subject": template.subject.format(**fill), "body": template.body.format(**fill)}


def quiet_hours(now: dt.datetime) -> bool:
    """True between 21:00 and 08:00 in Korea (``now`` must be timezone-aware)."""
    local = now.astimezone(KST).time()
    return local >= QUIET_START or local < QUIET_END


def next_allowed(now: dt.datetime) -> dt.datetime:
    """The next 08:00 KST at or after ``now`` (as UTC), for sends held by quiet hours."""
    local = now.astimezone(KST)
    eight = local.replace(hour=8, minute=0, second=0, microsecond=0)
    if local.time() >= QUIET_START:
        eight += dt.timedelta(days=1)
    return eight.astimezone(dt.UTC)


def consent_expires_at(granted_at) -> pd.Timestamp:
    """When a grant stops counting for advertising: :data:`CONSENT_VALIDITY_YEARS` calendar years later (UTC)."""
    return _utc(granted_at) + pd.DateOffset(years=CONSENT_VALIDITY_YEARS)


def consent_expired(granted_at, now: dt.datetime) -> bool:
    """True if a grant made at ``granted_at`` is too old to use at ``now`` (§50⑧); False if no time is known."""
    if granted_at is None or pd.isna(granted_at):
        return False
    return consent_expires_at(granted_at) <= _utc(now)


def _utc(value) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def eligibility(contact: dict | None, channel: str, now: dt.datetime, real_provider: bool) -> tuple[str, str]:
    """Whether a contact may get an advertising message on ``channel`` now.

    Parameters
    ----------
    contact : dict or None
        The contact (addresses, ``is_demo``) with its current consent (columns of
        :func:`churn_core.outreach.consent.current_consent`: ``sms_consent`` / ``email_consent``
        as :func:`consent_channel` maps ``channel``, their ``…_at``, ``night_consent``,
        ``night_consent_at``, ``opted_out``).
    channel : str
        One of :data:`CAMPAIGN_CHANNELS` (ValueError otherwise).
    now : datetime.datetime
        Timezone-aware time of the send.
    real_provider : bool
        The channel really delivers (demo contacts are never handed to it).

    Returns
    -------
    (decision, reason)
        decision is ``"send"``, ``"hold"`` (quiet hours; send at 08:00 KST) or ``"skip"``;
        reason is a short code: ``no_contact``, ``demo_contact``, ``opted_out``,
        ``no_consent``, ``consent_expired``, ``no_address``, ``quiet_hours`` or ``""``.
    """
    if contact is None:
        return "skip", "no_contact"
    if real_provider and contact.get("is_demo"):
        return "skip", "demo_contact"
    if _true(contact.get("opted_out")):
        return "skip", "opted_out"
    consent = consent_channel(channel)
    if not _true(contact.get(f"{consent}_consent")):
        return "skip", "no_consent"
    if consent_expired(contact.get(f"{consent}_consent_at"), now):
        return "skip", "consent_expired"
    if not contact.get(address_column(channel)):
        return "skip", "no_address"
    night = _true(contact.get("night_consent")) and not consent_expired(contact.get("night_consent_at"), now)
    if quiet_hours(now) and not night:
        return "hold", "quiet_hours"
    return "send", ""


def _true(value) -> bool:
    return bool(value) and not pd.isna(value)


#: Templates shipped with the app; risk tier chooses between them.
DEFAULT_TEMPLATES: dict[str, Template] = {
    "sms_standard": Template(
        "sms_standard", "sms",
        "(광고){sender}\n{name}님, 가까운 {plaza_name}에서 무료 스마트폰 교실이 열립니다. "
        "{centre_name} 디지털 배움터 과정을 마치시면 요금 {discount} 할인을 드립니다.\n"
        "문의 {sender_phone}\n무료수신거부 {opt_out}",
    ),
    "sms_urgent": Template(
        "sms_urgent", "sms",
        "(광고){sender}\n{name}님, 요즘 휴대폰 쓰시기 불편하셨나요? {plaza_name}({plaza_address})에 오시면 "
        "직원이 1:1로 도와드리고, {centre_name} 무료 교육을 마치시면 요금 {discount} 할인을 드립니다.\n"
        "문의 {sender_phone}\n무료수신거부 {opt_out}",
    ),
    "email_standard": Template(
        "email_standard", "email",
        "(광고){sender}\n{name}님 안녕하세요.\n\n가까운 {plaza_name}({plaza_address})에서 무료 스마트폰 교실이 열리고, "
        "{centre_name}({centre_address}) 디지털 배움터 과정을 마치시면 요금 {discount} 할인을 드립니다.\n\n"
        "문의: {sender_phone}\n개인정보 처리방침: {privacy_url}\n무료수신거부: {opt_out} 또는 이 메일의 수신거부 링크",
        subject="(광고) {name}님을 위한 무료 디지털 교육과 요금 할인 안내",
    ),
    # Korean channels (issue #15): SOLAPI SMS/LMS, KakaoTalk 브랜드 메시지 (advertising) and 알림톡 (information)
    "sms_kr_standard": Template(
        "sms_kr_standard", "sms_kr",
        "(광고){sender}\n{name}님, {plaza_name} 무료 스마트폰 교실 안내입니다. "
        "{centre_name} 과정을 마치시면 요금 {discount} 할인.\n문의 {sender_phone}\n무료수신거부 {opt_out}",
        subject="(광고) 무료 스마트폰 교실 안내",
    ),
    "sms_kr_urgent": Template(
        "sms_kr_urgent", "sms_kr",
        "(광고){sender}\n{name}님, 휴대폰 쓰시기 불편하셨나요? {plaza_name}({plaza_address})에서 직원이 1:1로 "
        "도와드리고, {centre_name} 무료 교육을 마치시면 요금 {discount} 할인을 드립니다.\n"
        "문의 {sender_phone}\n무료수신거부 {opt_out}",
        subject="(광고) 1:1 휴대폰 도움 안내",
    ),
    "brand_standard": Template(
        "brand_standard", "brand",
        "(광고){sender}\n{name}님, 가까운 {plaza_name}에서 무료 스마트폰 교실이 열립니다. "
        "{centre_name} 디지털 배움터 과정을 마치시면 요금 {discount} 할인을 드립니다.\n"
        "문의 {sender_phone}\n무료수신거부 {opt_out} (채널 차단으로도 수신거부할 수 있습니다)",
    ),
    "alimtalk_notice": Template(
        "alimtalk_notice", "alimtalk",
        "[{sender}] 디지털 배움터 교육 일정 안내\n{name}님, 가까운 {plaza_name}({plaza_address})와 "
        "{centre_name}({centre_address})의 스마트폰 사용법 교육 일정을 알려 드립니다.\n"
        "궁금하신 점은 {sender_phone}으로 문의해 주세요.",
    ),
}  # fmt: skip


def template_for(channel: str, risk_tier: str) -> str:
    """Template id by channel and risk tier (very high risk gets the personal-help message)."""
    if channel == "email":
        return "email_standard"
    if channel == "alimtalk":
        return "alimtalk_notice"
    if channel == "brand":
        return "brand_standard"
    prefix = "sms_kr" if channel == "sms_kr" else "sms"
    return f"{prefix}_urgent" if risk_tier == "very_high" else f"{prefix}_standard"


def risk_templates(templates: dict[str, Template], channel: str) -> dict[str, Template]:
    """The template each targeted risk tier gets on ``channel`` (the automatic choice)."""
    return {tier: templates[template_for(channel, tier)] for tier in AT_RISK_TIERS}


def custom_id(template: Template) -> str:
    """The id of an edited template: ``custom-`` and a SHA-256 prefix of its channel, subject and body."""
    digest = hashlib.sha256(f"{template.channel}|{template.subject}|{template.body}".encode()).hexdigest()[:10]
    return f"{CUSTOM_PREFIX}{digest}"


def save_template(folder: str | Path, template: Template) -> str:
    """Store an edited template (JSON) under a content-derived id, and return the id.

    The id is always :func:`custom_id` of the text, never the id the template carries, so an
    edited template can never take a shipped template's id. A text identical to a shipped
    template returns the shipped id and writes nothing.
    """
    for shipped in DEFAULT_TEMPLATES.values():
        if (shipped.channel, shipped.subject, shipped.body) == (template.channel, template.subject, template.body):
            return shipped.template_id
    stored = replace(template, template_id=custom_id(template))
    path = Path(folder) / f"{stored.template_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(stored), ensure_ascii=False), encoding="utf-8")
    return stored.template_id


def load_templates(folder: str | Path) -> dict[str, Template]:
    """The shipped templates plus every edited one stored in ``folder``.

    Shipped ids win: a stored template is keyed by :func:`custom_id` of its own text (the id
    written in the file is ignored), so a file claiming ``sms_standard`` — or another
    template's id — cannot replace it. Unreadable files are skipped (and logged).
    """
    out = dict(DEFAULT_TEMPLATES)
    for path in sorted(Path(folder).glob(f"{CUSTOM_PREFIX}*.json")) if Path(folder).exists() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            template = Template(str(data["template_id"]), str(data["channel"]), str(data["body"]),
                                str(data.get("subject", "")))  # fmt: skip
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("skipped unreadable template file %s: %s", path, exc)
            continue
        if template.channel not in CAMPAIGN_CHANNELS:
            log.warning("skipped template file %s: unknown channel %r", path, template.channel)
            continue
        template = replace(template, template_id=custom_id(template))
        out.setdefault(template.template_id, template)
    return out


def shipped_wins(templates: dict[str, Template]) -> dict[str, Template]:
    """``templates`` with every shipped id mapped to the shipped text (whatever was passed for it)."""
    return {**templates, **DEFAULT_TEMPLATES}


#: Template choice meaning "the template follows each recipient's risk tier".
AUTO_TEMPLATE = "auto"


def template_id_for_plan(choice: str, base: Template | None, edited: Template | None, folder: str | Path) -> str | None:
    """The template id a campaign plan records for the staff member's choice.

    Parameters
    ----------
    choice : str
        :data:`AUTO_TEMPLATE` or a template id.
    base, edited : Template, optional
        The chosen template and the text as edited on the page (None with auto).
    folder : str or Path
        Where edited templates are saved (content-hashed id, see :func:`save_template`).

    Returns
    -------
    str or None
        None for auto (chosen per recipient by risk tier); the base id when the text is
        unchanged; otherwise the id of the saved edited template.
    """
    if choice == AUTO_TEMPLATE or base is None:
        return None
    if edited is None or edited == base:
        return base.template_id
    return save_template(folder, edited)


def recipient_template(by_tier: dict[str, Template], risk_tier: str) -> Template:
    """The automatic template of a recipient: by risk tier, the ``high`` one for other tiers."""
    return by_tier.get(risk_tier, by_tier[AT_RISK_TIERS[0]])
