"""Korean messaging channels through the official ``solapi`` SDK: SMS/LMS, KakaoTalk 알림톡 and 브랜드 메시지.

Campaign channel codes (:data:`churn_core.outreach.compliance.CAMPAIGN_CHANNELS`); a campaign
is planned and sent on one of them:

============  =====================================  ==========  ========================================
code          provider and message                   consent     rules
============  =====================================  ==========  ========================================
``sms``       Twilio SMS/LMS                         phone       §50 advertising (ad mark, opt-out line)
``sms_kr``    SOLAPI SMS (≤ 90 bytes) or LMS         phone       §50 advertising; registered sender number
``alimtalk``  SOLAPI KakaoTalk 알림톡 (``ATA``)       phone       information only, approved template code
``brand``     SOLAPI KakaoTalk 브랜드 메시지          phone       §50 advertising (as SMS)
``email``     SMTP                                   e-mail      §50 advertising, privacy link
============  =====================================  ==========  ========================================

The ledger, quiet hours, consent (read from the history before each batch), opt-outs and
the compliance check of every rendered message apply to every channel unchanged
(:func:`churn_core.outreach.campaigns.send`); demo contacts are never handed to a real channel.

SOLAPI specifics:

* **Sender number** (발신번호 사전등록, 전기통신사업법 제84조의2): every SOLAPI message carries
  the sender number, which must be one registered in advance; a missing or unregistered one is
  refused (:class:`SenderNotRegisteredError` here; :func:`channel_from_settings` turns it into
  a channel that holds every row with reason ``sender_not_registered``, nothing sent).
* **SMS or LMS**: a body of at most 90 bytes in EUC-KR (CP949; a character it cannot encode
  counts 2 bytes) goes as SMS, a longer one as LMS with a subject (the template's, else the
  body's first line), both cut to SOLAPI's limits (:func:`sms_type`).
* **알림톡** sends the rendered text of a template Kakao approved: the app's template id maps
  to Kakao's template code (setting ``alimtalk_template_codes``); a row whose template has no
  approved code is held (``template_not_approved``). No SMS fallback (``disableSms``), so an
  informational message never turns into a text of another kind.
* **브랜드 메시지** is a free-form text (``BMS_FREE``, bubble ``TEXT``) with the configured
  targeting; it is advertising, so its text follows the SMS rules.
* **Errors**: the SDK raises ``Exception(errorCode, errorMessage)`` on 4xx and
  ``Exception("UnknownError", body)`` on 5xx. Rate limits and server errors
  (:data:`TRANSIENT_CODES`) and refused connections (nothing reached SOLAPI) raise
  :class:`~churn_core.outreach.campaigns.TransientSendError`, which the ledger retries with
  back-off (bounded by ``SendOptions.attempts``). A connection lost after the request was sent
  (read timeout, dropped answer) is *not* retried: whether SOLAPI accepted the message is
  unknown, so the row fails with ``unknown_outcome`` rather than risk a second message (SOLAPI
  has no idempotency key). A message SOLAPI did not accept (``failedMessageList``, e.g. an
  unregistered sender on their side) fails with SOLAPI's status code.

Authentication is the SDK's: header ``Authorization: HMAC-SHA256 ApiKey=…, Date=…, salt=…,
signature=…`` with ``signature = HMAC-SHA256(secret, Date + salt)`` in hex.
"""

from __future__ import annotations

import re

import httpx
import phonenumbers
from pydantic import ValidationError

from churn_core.outreach.campaigns import SendResult, TransientSendError

#: SOLAPI error codes worth retrying: rate limits and server-side failures (5xx come as ``UnknownError``).
TRANSIENT_CODES = frozenset({"UnknownError", "TooManyRequests", "RateLimitExceeded", "InternalError",
                             "ServiceUnavailable", "Timeout"})  # fmt: skip
#: Largest SMS body in bytes (EUC-KR); a longer text goes as LMS.
SMS_MAX_BYTES = 90
#: Largest LMS subject in bytes (EUC-KR).
LMS_SUBJECT_MAX_BYTES = 40
#: Hold reasons of the channels (``outbox.reason`` of rows they refuse before any call).
HOLD_REASONS = ("sender_not_registered", "template_not_approved", "kakao_channel_missing")


class SenderNotRegisteredError(ValueError):
    """The SOLAPI sender number is missing or not among the registered ones (발신번호 사전등록)."""


def _digits(text: str | None) -> str:
    return re.sub(r"\D", "", text or "")


def euc_kr_bytes(text: str) -> int:
    """Length of ``text`` in EUC-KR (CP949) bytes, as Korean carriers count; unencodable characters count 2."""
    total = 0
    for ch in text:
        try:
            total += len(ch.encode("cp949"))
        except UnicodeEncodeError:
            total += 2
    return total


def _cut(text: str, max_bytes: int) -> str:
    out = ""
    for ch in text:
        if euc_kr_bytes(out + ch) > max_bytes:
            break
        out += ch
    return out


def sms_type(body: str) -> str:
    """``"SMS"`` for a body of at most :data:`SMS_MAX_BYTES` EUC-KR bytes, else ``"LMS"``."""
    return "SMS" if euc_kr_bytes(body) <= SMS_MAX_BYTES else "LMS"


def domestic_number(e164: str) -> str:
    """A Korean number in E.164 (``+821012345678``) as SOLAPI wants it: digits, national (``01012345678``).

    Raises
    ------
    ValueError
        If ``e164`` is not a valid Korean number.
    """
    try:
        parsed = phonenumbers.parse(e164, "KR")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {e164!r}") from exc
    if parsed.country_code != 82 or not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"not a valid Korean number: {e164!r}")
    return _digits(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL))


def registered_sender(sender_number: str | None, registered: list[str] | tuple[str, ...]) -> str:
    """The sender number as digits, if it is one of the ``registered`` numbers.

    Raises
    ------
    SenderNotRegisteredError
        If ``sender_number`` is empty or not registered (numbers compare as digits).
    """
    if not _digits(sender_number):
        raise SenderNotRegisteredError("SOLAPI needs a sender number (setting solapi_sender_number); none is set")
    if _digits(sender_number) not in {_digits(n) for n in registered}:
        raise SenderNotRegisteredError(
            f"sender number {sender_number} is not registered (setting solapi_registered_senders: "
            f"{list(registered)}); register it with SOLAPI first (발신번호 사전등록)"
        )
    return _digits(sender_number)


class _SolapiChannel:
    """What the three SOLAPI channels share: the SDK client, the sender number, error mapping."""

    real = True
    name = ""

    def __init__(self, api_key: str, api_secret: str, sender_number: str | None,
                 registered_senders: list[str] | tuple[str, ...], base_url: str | None = None):  # fmt: skip
        from solapi import SolapiMessageService

        self.sender = registered_sender(sender_number, registered_senders)
        self.service = SolapiMessageService(api_key, api_secret)
        if base_url:
            self.service.base_url = base_url.rstrip("/")

    def check(self, template_id: str, message: dict[str, str]) -> str | None:
        """A hold reason for a message this channel refuses before any call (None: may send)."""
        return None

    def _request(self, to: str, message: dict[str, str]):
        raise NotImplementedError

    def send(self, recipient: str, message: dict[str, str]) -> SendResult:
        """Send one message; see the module docstring for the errors and what is retried.

        Parameters
        ----------
        recipient : str
            Mobile number in E.164 (``+8210…``).
        message : dict
            ``body``, ``subject``, and ``template_id`` (알림톡).

        Returns
        -------
        SendResult
            ``provider_id``: SOLAPI's message id.

        Raises
        ------
        TransientSendError
            Rate limit, server error or refused connection (worth retrying).
        """
        from solapi.error.MessageNotReceiveError import MessageNotReceivedError
        from solapi.model import SendRequestConfig

        if reason := self.check(message.get("template_id", ""), message):
            return SendResult(False, error_code=reason, message=f"refused before sending: {reason}")
        try:
            request = self._request(domestic_number(recipient), message)
        except ValueError as exc:
            return SendResult(False, error_code="invalid_request", message=str(exc)[:200])
        try:
            response = self.service.send(request, SendRequestConfig(show_message_list=True))
        except MessageNotReceivedError as exc:
            failed = exc.failed_messages[0]
            return SendResult(False, error_code=str(failed.status_code), message=failed.status_message)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # nothing reached SOLAPI: safe to retry
            raise TransientSendError("connection", str(exc)) from exc
        except httpx.HTTPError as exc:  # sent, answer lost: accepted or not is unknown, never sent twice
            return SendResult(False, error_code="unknown_outcome", message=f"{type(exc).__name__}: {exc}"[:200])
        except (ValidationError, ValueError) as exc:  # an answer that is not SOLAPI's JSON
            return SendResult(False, error_code="invalid_response", message=str(exc)[:200])
        except Exception as exc:  # the SDK's Exception(errorCode, errorMessage); one argument: not JSON
            if len(exc.args) < 2:
                return SendResult(False, error_code="invalid_response", message=str(exc)[:200])
            code, text = str(exc.args[0]), str(exc.args[1])
            if code in TRANSIENT_CODES:
                raise TransientSendError(code, text[:200]) from exc
            return SendResult(False, error_code=code, message=text[:200])
        if response.failed_message_list:
            failed = response.failed_message_list[0]
            return SendResult(False, error_code=str(failed.status_code), message=failed.status_message)
        items = response.message_list or []
        return SendResult(True, provider_id=items[0].message_id if items else response.group_info.group_id)


class SolapiSmsChannel(_SolapiChannel):
    """SMS/LMS through SOLAPI (channel ``sms_kr``): SMS up to 90 EUC-KR bytes, else LMS with a subject.

    Parameters
    ----------
    api_key, api_secret : str
        SOLAPI credentials (settings; never in git).
    sender_number : str
        Sender number; must be in ``registered_senders``.
    registered_senders : list of str
        Numbers registered with SOLAPI in advance.
    base_url : str, optional
        Replaces ``https://api.solapi.com`` (a local stub in tests).

    Raises
    ------
    SenderNotRegisteredError
        If the sender number is missing or not registered.
    """

    name = "sms_kr"

    def _request(self, to: str, message: dict[str, str]):
        from solapi.model import RequestMessage

        body = message["body"]
        kind = sms_type(body)
        subject = None
        if kind == "LMS":
            first_line = body.strip().splitlines()[0] if body.strip() else ""
            subject = _cut(message.get("subject") or first_line, LMS_SUBJECT_MAX_BYTES)
        return RequestMessage(from_=self.sender, to=to, text=body, type=kind, subject=subject,
                              auto_type_detect=False)  # fmt: skip


class KakaoAlimtalkChannel(_SolapiChannel):
    """KakaoTalk 알림톡 through SOLAPI (channel ``alimtalk``): informational, approved templates only.

    Parameters
    ----------
    pf_id : str
        The KakaoTalk channel's profile id.
    template_codes : dict of str to str
        App template id → the code Kakao approved for it. A template without one is refused.
    api_key, api_secret, sender_number, registered_senders, base_url
        As :class:`SolapiSmsChannel`.

    Raises
    ------
    ValueError
        If ``pf_id`` is empty; :class:`SenderNotRegisteredError` as :class:`SolapiSmsChannel`.
    """

    name = "alimtalk"

    def __init__(self, api_key, api_secret, sender_number, registered_senders, pf_id: str,
                 template_codes: dict[str, str], base_url=None):  # fmt: skip
        if not pf_id:
            raise ValueError("알림톡 needs the KakaoTalk channel's pfId (setting kakao_pf_id)")
        super().__init__(api_key, api_secret, sender_number, registered_senders, base_url)
        self.pf_id, self.template_codes = pf_id, dict(template_codes)

    def check(self, template_id: str, message: dict[str, str]) -> str | None:
        """``template_not_approved`` for a template without an approved Kakao template code."""
        return None if self.template_codes.get(template_id) else "template_not_approved"

    def _request(self, to: str, message: dict[str, str]):
        from solapi.model import KakaoOption, RequestMessage

        option = KakaoOption(pf_id=self.pf_id, template_id=self.template_codes[message["template_id"]],
                             disable_sms=True)  # fmt: skip
        return RequestMessage(from_=self.sender, to=to, text=message["body"], type="ATA", kakao_options=option,
                              auto_type_detect=False)  # fmt: skip


class KakaoBrandChannel(_SolapiChannel):
    """KakaoTalk 브랜드 메시지 through SOLAPI (channel ``brand``): advertising, free-form text.

    Parameters
    ----------
    pf_id : str
        The KakaoTalk channel's profile id.
    targeting : {"I", "M", "N"}
        Kakao's targeting (``I``: the channel's friends; ``M``/``N`` need Kakao's permission).
    api_key, api_secret, sender_number, registered_senders, base_url
        As :class:`SolapiSmsChannel`.

    Raises
    ------
    ValueError
        If ``pf_id`` is empty; :class:`SenderNotRegisteredError` as :class:`SolapiSmsChannel`.
    """

    name = "brand"

    def __init__(self, api_key, api_secret, sender_number, registered_senders, pf_id: str, targeting: str = "I",
                 base_url=None):  # fmt: skip
        if not pf_id:
            raise ValueError("브랜드 메시지 needs the KakaoTalk channel's pfId (setting kakao_pf_id)")
        super().__init__(api_key, api_secret, sender_number, registered_senders, base_url)
        self.pf_id, self.targeting = pf_id, targeting

    def _request(self, to: str, message: dict[str, str]):
        from solapi.model import Bms, KakaoOption, RequestMessage

        bms = Bms(targeting=self.targeting, chat_bubble_type="TEXT")
        option = KakaoOption(pf_id=self.pf_id, bms=bms, disable_sms=True)  # Kakao sends no SMS fallback for it
        return RequestMessage(from_=self.sender, to=to, text=message["body"], type="BMS_FREE", kakao_options=option,
                              auto_type_detect=False)  # fmt: skip


class RefusingChannel:
    """A real channel configured wrongly (no registered sender, no pfId): holds every row, sends nothing.

    :func:`~churn_core.outreach.campaigns.send` asks :meth:`check` before claiming a row, so the
    rows stay ``queued`` with the reason and go once the settings are fixed.
    """

    real = True

    def __init__(self, name: str, reason: str, detail: str):
        self.name, self.reason, self.detail = name, reason, detail

    def check(self, template_id: str, message: dict[str, str]) -> str | None:
        """Always the configuration problem."""
        return self.reason

    def send(self, recipient: str, message: dict[str, str]) -> SendResult:
        return SendResult(False, error_code=self.reason, message=self.detail[:200])


def solapi_channel(name: str, settings):
    """The SOLAPI channel ``name`` (``sms_kr``, ``alimtalk``, ``brand``) of the settings, or None without keys.

    A configuration problem (sender missing or unregistered, no pfId) gives a
    :class:`RefusingChannel` that holds every row with the reason.
    """
    if not (settings.solapi_api_key and settings.solapi_api_secret):
        return None
    secret = settings.solapi_api_secret.get_secret_value()
    common = (settings.solapi_api_key, secret, settings.solapi_sender_number, settings.solapi_registered_senders)
    try:
        if name == "sms_kr":
            return SolapiSmsChannel(*common, base_url=settings.solapi_base_url)
        if not settings.kakao_pf_id:
            return RefusingChannel(name, "kakao_channel_missing", "KakaoTalk needs the setting kakao_pf_id")
        if name == "alimtalk":
            return KakaoAlimtalkChannel(*common, settings.kakao_pf_id, settings.alimtalk_template_codes,
                                        base_url=settings.solapi_base_url)  # fmt: skip
        if name == "brand":
            return KakaoBrandChannel(*common, settings.kakao_pf_id, settings.brand_targeting,
                                     base_url=settings.solapi_base_url)  # fmt: skip
    except SenderNotRegisteredError as exc:
        return RefusingChannel(name, "sender_not_registered", str(exc))
    raise ValueError(f"not a SOLAPI channel: {name!r}")
