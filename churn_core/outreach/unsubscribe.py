"""One-click unsubscribe (RFC 8058) and the privacy page's opt-out: signed tokens and the opt-out they record.

Every e-mail's ``List-Unsubscribe`` header carries a link ``<unsubscribe_url>?token=…`` made
for its recipient (:func:`unsubscribe_link`). The token is signed with the settings' key
(:func:`secret`) by ``itsdangerous`` (``URLSafeTimedSerializer``, HMAC-SHA256, a salt of its
own) and binds the customer ID, the channel to withdraw, the campaign and the issue time.
It is checked without any database lookup (:func:`verify`): a forged, altered, truncated or
oversized token raises :class:`InvalidTokenError`, and nothing is recorded.

* Tokens **do not expire**: an opt-out link must keep working in an e-mail read years later.
  Changing the key (``CHURN_UNSUBSCRIBE_SECRET`` or the generated key file) invalidates
  every link already sent (the free 080 opt-out number still works).
* Tokens are **signed, not encrypted**: whoever sees the link can read the customer ID (a
  pseudonymous account number, never a name, address or phone number), the channel and the
  campaign, and can use it to opt that customer out — which is what an unsubscribe link is
  for. They cannot make a token for anyone else.
* The opt-out is recorded at once in the append-only consent history
  (:func:`churn_core.outreach.consent.record_opt_out`, source ``unsubscribe_link`` from the
  API, ``privacy_form`` from the privacy page, evidence ``token <id> …``). Using a link twice
  records a second withdrawal: harmless (the latest event is still a withdrawal), and a
  click after a later re-consent withdraws again, as the recipient asked.

The API process (:mod:`api.routes.optout`) and the privacy page (``pages/privacy.py``) both
call :func:`check` (is the link good?) and :func:`opt_out` (record it), which never raise for
a bad token or a failed write but say so in an :class:`OptOutOutcome`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from itsdangerous import BadData, URLSafeTimedSerializer

from churn_core.config import Settings, get_settings
from churn_core.data.warehouse import Warehouse
from churn_core.outreach.compliance import KST
from churn_core.outreach.consent import CHANNELS, SOURCES, record_opt_out

__all__ = [
    "InvalidTokenError",
    "OptOutOutcome",
    "OptOutToken",
    "check",
    "mint",
    "opt_out",
    "record",
    "secret",
    "unsubscribe_link",
    "verify",
    "with_token",
]

logger = logging.getLogger(__name__)

#: Domain separation: a signature made for another purpose with the same key is not a token.
SALT = "churn-studio/unsubscribe/v1"
#: Tokens longer than this are refused before any work (a real one is about 120 characters).
MAX_TOKEN_CHARS = 1_000
#: Shortest key accepted from the settings (a generated key has 64 characters).
MIN_SECRET_CHARS = 32
MAX_CUSTOMER_ID_CHARS = 64


class InvalidTokenError(ValueError):
    """The token is missing, malformed, altered, signed with another key or does not say who.

    Attributes
    ----------
    reason : str
        ``missing``, ``too_long``, ``bad_signature`` or ``bad_payload`` (for logs; the pages
        show one message for all of them).
    """

    def __init__(self, reason: str):
        super().__init__(f"invalid unsubscribe token ({reason})")
        self.reason = reason


@dataclass(frozen=True)
class OptOutToken:
    """What a verified token says.

    Attributes
    ----------
    customer_id : str
        Whose consent is withdrawn.
    channel : str
        Which channel (one of :data:`churn_core.outreach.consent.CHANNELS`; ``email`` for
        the e-mail links).
    campaign_id : str or None
        The campaign whose message carried the link.
    issued_at : datetime.datetime
        When the token was made (UTC, whole seconds).
    token_id : str
        First 16 hex digits of the token's SHA-256: names the token in the evidence without
        storing the token itself.
    """

    customer_id: str
    channel: str
    campaign_id: str | None
    issued_at: dt.datetime
    token_id: str

    @property
    def evidence(self) -> str:
        """The ``evidence`` of the consent event: token id, campaign and issue time."""
        return f"token {self.token_id}; campaign {self.campaign_id or '-'}; issued {self.issued_at:%Y-%m-%dT%H:%M:%SZ}"


def secret(settings: Settings | None = None) -> str:
    """The key that signs unsubscribe tokens.

    ``settings.unsubscribe_secret`` if set; otherwise the key kept in
    ``settings.unsubscribe_secret_file``, generated (64 URL-safe characters from
    :mod:`secrets`) and written with permissions 0600 on first use. Two processes starting
    at once end up with the same key (the file is created atomically, first one wins).

    Raises
    ------
    ValueError
        If the configured key or the key file's content is shorter than 32 characters.
    OSError
        If the key file can be neither read nor created.
    """
    s = settings or get_settings()
    if s.unsubscribe_secret is not None:
        key = s.unsubscribe_secret.get_secret_value().strip()
        if len(key) < MIN_SECRET_CHARS:
            raise ValueError(f"CHURN_UNSUBSCRIBE_SECRET must have at least {MIN_SECRET_CHARS} characters")
        return key
    path = Path(s.unsubscribe_secret_file)
    if not path.exists():
        _create_secret_file(path)
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)  # a copy made with looser permissions is tightened
    key = path.read_text(encoding="ascii").strip()
    if len(key) < MIN_SECRET_CHARS:
        raise ValueError(f"{path} holds no usable key (under {MIN_SECRET_CHARS} characters): delete it to regenerate")
    return key


def _create_secret_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(48) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):  # a concurrent first use got there first: keep its key
            os.link(tmp, path)  # atomic "create if absent"
    finally:
        tmp.unlink(missing_ok=True)


def _serializer(key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(key, salt=SALT, signer_kwargs={"digest_method": hashlib.sha256})


def mint(customer_id: str, key: str, channel: str = "email", campaign_id: str | None = None) -> str:
    """A signed, URL-safe token that opts ``customer_id`` out of ``channel``.

    Parameters
    ----------
    customer_id : str
        The recipient's customer ID (at most 64 characters).
    key : str
        The signing key (:func:`secret`).
    channel : str
        Channel to withdraw, one of :data:`churn_core.outreach.consent.CHANNELS`.
    campaign_id : str, optional
        The campaign whose message carries the link (kept as evidence).

    Returns
    -------
    str
        The token (about 120 characters of ``[A-Za-z0-9_.-]``).

    Raises
    ------
    ValueError
        If ``customer_id`` is empty or too long, or ``channel`` is unknown.
    """
    customer_id = str(customer_id).strip()
    if not customer_id or len(customer_id) > MAX_CUSTOMER_ID_CHARS:
        raise ValueError(f"customer_id must have 1 to {MAX_CUSTOMER_ID_CHARS} characters")
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {list(CHANNELS)}, not {channel!r}")
    return _serializer(key).dumps({"c": customer_id, "ch": channel, "k": campaign_id})


def verify(token: str | None, key: str) -> OptOutToken:
    """Check a token's signature and read what it says (no database lookup; tokens never expire).

    Raises
    ------
    InvalidTokenError
        If the token is missing, longer than :data:`MAX_TOKEN_CHARS`, not signed with ``key``
        (forged, altered, truncated, signed for another purpose) or does not name a
        customer and a known channel.
    """
    if not token or not token.strip():
        raise InvalidTokenError("missing")
    token = token.strip()
    if len(token) > MAX_TOKEN_CHARS:
        raise InvalidTokenError("too_long")
    try:
        payload, issued = _serializer(key).loads(token, return_timestamp=True)
    except BadData as exc:
        raise InvalidTokenError("bad_signature") from exc
    if not isinstance(payload, dict):
        raise InvalidTokenError("bad_payload")
    customer_id, channel, campaign_id = payload.get("c"), payload.get("ch"), payload.get("k")
    if (
        not isinstance(customer_id, str)
        or not customer_id.strip()
        or len(customer_id) > MAX_CUSTOMER_ID_CHARS
        or channel not in CHANNELS
        or not (campaign_id is None or isinstance(campaign_id, str))
    ):
        raise InvalidTokenError("bad_payload")
    token_id = hashlib.sha256(token.encode()).hexdigest()[:16]
    return OptOutToken(customer_id, channel, campaign_id, issued.astimezone(dt.UTC), token_id)


def with_token(url: str, token: str) -> str:
    """``url`` with ``token`` as its ``token`` query parameter (other parameters and the fragment kept)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "token"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("token", token)])))


def unsubscribe_link(
    base_url: str, key: str, customer_id: str, channel: str = "email", campaign_id: str | None = None
) -> str:
    """The one-click link of one recipient: ``base_url?token=<signed token>`` (see :func:`mint`)."""
    return with_token(base_url, mint(customer_id, key, channel, campaign_id))


def record(wh: Warehouse, token: OptOutToken, source: str = "unsubscribe_link") -> None:
    """Record at once that the token's customer withdrew consent on the token's channel.

    One append to ``consent_events`` (:func:`churn_core.outreach.consent.record_opt_out`);
    calling it again appends another withdrawal (harmless).

    Raises
    ------
    ValueError
        If ``source`` is not one of :data:`churn_core.outreach.consent.SOURCES`.
    Exception
        Whatever the warehouse raises when the write fails (nothing was recorded then).
    """
    record_opt_out(wh, token.customer_id, source=source, evidence=token.evidence, channel=token.channel)


@dataclass(frozen=True)
class OptOutOutcome:
    """What became of an opt-out request.

    Attributes
    ----------
    status : str
        ``valid`` (the token checks out; nothing recorded yet), ``recorded`` (the withdrawal
        is in the warehouse), ``invalid`` (bad token; nothing recorded) or ``unavailable``
        (no signing key or the warehouse write failed; nothing recorded).
    token : OptOutToken or None
        The verified token (``valid``, ``recorded`` and a failed write).
    recorded_at : datetime.datetime or None
        When the withdrawal was recorded (UTC; ``recorded`` only).
    reason : str
        Why it was ``invalid`` or ``unavailable`` (for logs).
    """

    status: str
    token: OptOutToken | None = None
    recorded_at: dt.datetime | None = None
    reason: str = ""

    @property
    def when_kst(self) -> str:
        """``recorded_at`` in Korea time as ``YYYY-MM-DD HH:MM`` (empty if nothing was recorded)."""
        return self.recorded_at.astimezone(KST).strftime("%Y-%m-%d %H:%M") if self.recorded_at else ""


def check(token: str | None, settings: Settings | None = None) -> OptOutOutcome:
    """Verify ``token`` with the settings' key; records nothing (the confirmation page's GET).

    Returns
    -------
    OptOutOutcome
        ``valid`` with the token, ``invalid`` or ``unavailable`` (no usable signing key).
    """
    try:
        key = secret(settings)
    except (OSError, ValueError) as exc:
        logger.error("unsubscribe signing key unavailable: %s", exc)
        return OptOutOutcome("unavailable", reason="signing_key")
    try:
        return OptOutOutcome("valid", verify(token, key))
    except InvalidTokenError as exc:
        logger.info("unsubscribe token refused (%s)", exc.reason)
        return OptOutOutcome("invalid", reason=exc.reason)


def opt_out(
    wh: Warehouse, token: str | None, settings: Settings | None = None, source: str = "unsubscribe_link"
) -> OptOutOutcome:
    """Verify ``token`` and record the withdrawal it asks for, at once (:func:`record`).

    Parameters
    ----------
    wh : Warehouse
        Where the consent history lives.
    token : str or None
        The token from the link (query string or form field).
    settings : Settings, optional
        For the signing key (default: the process settings).
    source : str
        ``unsubscribe_link`` (the API) or ``privacy_form`` (the privacy page).

    Returns
    -------
    OptOutOutcome
        ``recorded`` only when the warehouse write succeeded; otherwise ``invalid`` or
        ``unavailable``, and nothing was recorded.

    Raises
    ------
    ValueError
        If ``source`` is not one of :data:`churn_core.outreach.consent.SOURCES` (a caller's bug).
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {list(SOURCES)}, not {source!r}")
    outcome = check(token, settings)
    if outcome.status != "valid":
        return outcome
    try:
        record(wh, outcome.token, source)
    except Exception as exc:  # any failure of the write: nothing is claimed
        logger.exception("opt-out of token %s not recorded", outcome.token.token_id)
        return OptOutOutcome("unavailable", outcome.token, reason=type(exc).__name__)
    logger.info("opt-out recorded: token %s, channel %s, source %s", outcome.token.token_id, outcome.token.channel,
                source)  # fmt: skip
    return OptOutOutcome("recorded", outcome.token, recorded_at=dt.datetime.now(dt.UTC))
