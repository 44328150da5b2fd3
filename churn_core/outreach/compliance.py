"""Korean rules for advertising messages (정보통신망법 제50조), enforced in code.

* Prior consent per channel, never to opted-out recipients; checked again at send time
  (:func:`eligibility`), not only when the audience is chosen.
* The message starts with ``(광고)`` and the sender's name, carries the sender's contact,
  and ends with a free opt-out instruction (무료수신거부 number or link); a template
  without these is refused (:func:`template_problems`). E-mail subjects start with
  ``(광고)`` too, and every e-mail links the privacy notice.
* Nothing is sent between 21:00 and 08:00 KST without separate night-time consent; such
  sends are held until 08:00 KST (:func:`quiet_hours`, :func:`next_allowed`).

This encodes the rules as the issue states them; it is not legal advice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import string
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from zoneinfo import ZoneInfo

from churn_core.prediction.business import AT_RISK_TIERS

KST = ZoneInfo("Asia/Seoul")
QUIET_START = dt.time(21, 0)
QUIET_END = dt.time(8, 0)
AD_MARK = "(광고)"
OPT_OUT_WORD = "무료수신거부"
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


def template_problems(template: Template, sender: Sender) -> list[str]:
    """Everything that makes a template unlawful or unusable (empty list: compliant).

    Checked on the text as rendered for a sample recipient, so the sender's details may
    come from placeholders.
    """
    problems = []
    fields = {f for _, f, _, _ in string.Formatter().parse(template.body + template.subject) if f}
    unknown = sorted(fields - PLACEHOLDERS)
    if unknown:
        return [f"unknown placeholders: {unknown} (allowed: {sorted(PLACEHOLDERS)})"]
    sample = render(template, sender, {})
    body = sample["body"].strip()
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
    if template.channel == "email":
        if not sample["subject"].strip().startswith(AD_MARK):
            problems.append(f"the e-mail subject must start with '{AD_MARK}'")
        if sender.privacy_url not in body:
            problems.append("the e-mail must link the privacy notice ({privacy_url})")
    if template.channel == "sms" and len(body) > 2000:
        problems.append("an SMS/LMS body must stay under 2,000 characters")
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


def eligibility(contact: dict, channel: str, now: dt.datetime, real_provider: bool) -> tuple[str, str]:
    """Whether a contact may get an advertising message on ``channel`` now.

    Returns
    -------
    (decision, reason)
        decision is ``"send"``, ``"hold"`` (quiet hours; send at 08:00 KST) or ``"skip"``;
        reason is a short code: ``opted_out``, ``no_consent``, ``no_address``,
        ``demo_contact``, ``quiet_hours`` or ``""``.
    """
    if contact is None:
        return "skip", "no_contact"
    if contact.get("opted_out"):
        return "skip", "opted_out"
    if not contact.get(f"{channel}_consent"):
        return "skip", "no_consent"
    if not contact.get("phone_e164" if channel == "sms" else "email"):
        return "skip", "no_address"
    if real_provider and contact.get("is_demo"):
        return "skip", "demo_contact"
    if quiet_hours(now) and not contact.get("night_consent"):
        return "hold", "quiet_hours"
    return "send", ""


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
}  # fmt: skip


def template_for(channel: str, risk_tier: str) -> str:
    """Template id by channel and risk tier (very high risk gets the personal-help message)."""
    if channel == "email":
        return "email_standard"
    return "sms_urgent" if risk_tier == "very_high" else "sms_standard"


def risk_templates(templates: dict[str, Template], channel: str) -> dict[str, Template]:
    """The template each targeted risk tier gets on ``channel`` (the automatic choice)."""
    return {tier: templates[template_for(channel, tier)] for tier in AT_RISK_TIERS}


def save_template(folder: str | Path, template: Template) -> str:
    """Store an edited template (JSON) under a content-derived id, so a resumed campaign finds it."""
    digest = hashlib.sha256(f"{template.channel}|{template.subject}|{template.body}".encode()).hexdigest()[:10]
    stored = replace(template, template_id=f"custom-{digest}")
    path = Path(folder) / f"{stored.template_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(stored), ensure_ascii=False), encoding="utf-8")
    return stored.template_id


def load_templates(folder: str | Path) -> dict[str, Template]:
    """The shipped templates plus every edited one stored in ``folder``."""
    out = dict(DEFAULT_TEMPLATES)
    for path in sorted(Path(folder).glob("custom-*.json")) if Path(folder).exists() else []:
        data = json.loads(path.read_text(encoding="utf-8"))
        out[data["template_id"]] = Template(**data)
    return out


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
