"""Sign-in and roles: Argon2 password checks, a throttle against guessing, OIDC roles, demo accounts.

Accounts live in the settings (``CHURN_STAFF_USERS``, JSON: ``{"kim": {"password_hash":
"$argon2id$…", "role": "staff"}}``); ``churn-studio user-hash`` prints a hash to put
there. Hashes are Argon2id (argon2-cffi). When no account and no OIDC role is configured,
the demo accounts of ``churn-studio demo-accounts`` (random passwords, printed once,
stored only as hashes in the git-ignored ``data/demo_accounts.json``) are used instead.

Roles and what they may do are declared once, in :data:`ROLE_PERMISSIONS`; every page
needs the permission of :data:`PAGE_PERMISSIONS` unless it is public
(``CHURN_PUBLIC_PAGES``, only pages of :data:`PUBLIC_ELIGIBLE_PAGES`).

Failed sign-ins are throttled per account and per session by :class:`SignInThrottle`:
a growing delay (``base × 2^(n−1)`` seconds, capped) and, after ``max_failures``
failures, a lockout. An attempt before the earliest allowed time is refused without
checking the password; nothing sleeps. The state is kept in the process (thread-safe),
so a new browser session does not reset an account's count. Sign-in events go to the
logger ``churn_core.auth`` with the time and the account, never the password.

When Streamlit's OIDC login is configured (``[auth]`` in ``.streamlit/secrets.toml``),
``CHURN_OIDC_ROLES`` maps *verified* e-mail addresses to roles (:func:`oidc_role`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

if TYPE_CHECKING:
    from churn_core.config import Settings

log = logging.getLogger("churn_core.auth")

#: What each role may do. ``read``: aggregate pages; ``read_customers``: customer rows on
#: screen (scores, at-risk lists, CLV, segment members); ``download_customers``: CSV
#: downloads of customer rows; ``map``: the store map when it is not public; ``send``:
#: the outreach page (contacts, campaigns, sending); ``health``: the model health page (analysts only);
#: ``uplift``: the uplift page (analysts only).
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "analyst": frozenset({"read", "read_customers", "download_customers", "health", "uplift"}),
    "marketer": frozenset({"read", "read_customers", "map"}),
    "staff": frozenset({"read", "read_customers", "download_customers", "map", "send"}),
}

#: The permission each page needs when it is not public (pages by script stem, lower case).
PAGE_PERMISSIONS: dict[str, str] = {
    "home": "read",
    "eda": "read",
    "models": "read",
    "privacy": "read",
    "map": "map",
    "scoring": "read_customers",
    "revenue": "read_customers",
    "segments": "read_customers",
    "outreach": "send",
    "health": "health",
    "uplift": "uplift",  # the uplift page (issue #15): analysts only, like model health
}

#: Pages that show only aggregates or non-personal data, so they may be made public.
#: Customer-level parts of them (the EDA table tab and its download) still need a role.
PUBLIC_ELIGIBLE_PAGES: frozenset[str] = frozenset({"home", "eda", "models", "map", "privacy"})

#: User names of the demo accounts, one per role.
DEMO_USERS: dict[str, str] = {f"demo-{role}": role for role in ROLE_PERMISSIONS}

MIN_PASSWORD_CHARS = 12
_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` for the settings.

    Raises
    ------
    ValueError
        If the password is shorter than 12 characters.
    """
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"use at least {MIN_PASSWORD_CHARS} characters")
    return _HASHER.hash(password)


def authenticate(users: Mapping[str, Mapping[str, str]], username: str, password: str) -> str | None:
    """The user's role if the password matches its hash, else None (unknown users too).

    An unknown user costs the same Argon2 work as a known one, so timing does not tell
    which accounts exist. No throttling here: see :func:`sign_in`.
    """
    user = users.get(username)
    if not user:
        _HASHER.hash(password)  # spend the same time as a real check
        return None
    try:
        _HASHER.verify(user["password_hash"], password)
    except (VerificationError, InvalidHashError, KeyError):
        return None
    role = user.get("role", "analyst")
    return role if role in ROLE_PERMISSIONS else None


def can(role: str | None, action: str) -> bool:
    """True if ``role`` may do ``action`` (a permission of :data:`ROLE_PERMISSIONS`)."""
    return role is not None and action in ROLE_PERMISSIONS.get(role, frozenset())


def page_permission(page: str) -> str:
    """The permission ``page`` needs when it is not public (``read_customers`` for an unknown page)."""
    return PAGE_PERMISSIONS.get(page, "read_customers")


def may_open_page(role: str | None, page: str, public_pages: Iterable[str]) -> bool:
    """True if ``page`` is public, or ``role`` has the page's permission.

    Only pages of :data:`PUBLIC_ELIGIBLE_PAGES` can be public, whatever ``public_pages`` says.
    """
    if page in PUBLIC_ELIGIBLE_PAGES and page in set(public_pages):
        return True
    return can(role, page_permission(page))


# --------------------------------------------------------------------------- OIDC


def oidc_role(user_info: Mapping[str, object], roles: Mapping[str, str]) -> str | None:
    """The role of a user signed in with OIDC, or None.

    Parameters
    ----------
    user_info : mapping
        The identity claims (``st.user.to_dict()``): ``is_logged_in``, ``email``,
        ``email_verified``.
    roles : mapping of str to str
        E-mail address → role (``CHURN_OIDC_ROLES``); addresses compare case-insensitively.

    Returns
    -------
    str or None
        The role, only if the user is logged in, the provider says the address is
        verified (``email_verified`` is the boolean ``True``; a missing claim or the
        string ``"true"`` is not enough) and the address maps to a known role.
    """
    if user_info.get("is_logged_in") is not True or user_info.get("email_verified") is not True:
        return None
    email = user_info.get("email")
    if not isinstance(email, str) or not email:
        return None
    by_address = {str(k).casefold(): v for k, v in roles.items()}
    role = by_address.get(email.casefold())
    return role if role in ROLE_PERMISSIONS else None


# --------------------------------------------------------------------------- throttle


@dataclass(frozen=True)
class ThrottlePolicy:
    """How failed sign-ins slow down further attempts.

    Attributes
    ----------
    base_delay_s : float
        Delay after the first failure, in seconds; it doubles with each further failure.
    max_delay_s : float
        Upper bound of the growing delay, in seconds.
    max_failures : int
        Failures in a row after which the key is locked for ``lockout_s``; every further
        failure locks it again.
    lockout_s : float
        Length of a lockout, in seconds.
    forget_after_s : float
        Failures are forgotten after this long without a new one (a success forgets them at once).
    """

    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    max_failures: int = 5
    lockout_s: float = 15 * 60.0
    forget_after_s: float = 24 * 3600.0

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottlePolicy:
        """The policy of the settings ``signin_*``."""
        return cls(
            base_delay_s=settings.signin_base_delay_s,
            max_delay_s=settings.signin_max_delay_s,
            max_failures=settings.signin_max_failures,
            lockout_s=settings.signin_lockout_minutes * 60.0,
        )

    def wait_after(self, failures: int) -> float:
        """Seconds before the next attempt after ``failures`` failures in a row."""
        if failures <= 0:
            return 0.0
        if failures >= self.max_failures:
            return self.lockout_s
        return min(self.base_delay_s * 2.0 ** min(failures - 1, 60), self.max_delay_s)


@dataclass
class _KeyState:
    failures: int = 0
    last_failure: float = -math.inf
    not_before: float = -math.inf


class SignInThrottle:
    """Thread-safe, in-process record of failed sign-ins per key (account, session).

    An attempt is *acquired* before the password is checked: if any of its keys is still
    waiting, it is refused with the seconds left, otherwise each key is reserved until the
    delay its next failure would earn, so that parallel attempts on one account (from many
    sessions at once) cannot all slip in before the first failure is recorded.

    Parameters
    ----------
    policy : ThrottlePolicy
        Delays and lockout.
    clock : callable, default time.monotonic
        Seconds on a monotonic clock; tests inject their own.
    max_keys : int, default 100_000
        Upper bound of keys kept; beyond it, keys whose failures were forgotten and then
        the oldest are dropped (bounded memory under a spray of made-up user names).
    """

    def __init__(
        self, policy: ThrottlePolicy | None = None, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        self.policy = policy or ThrottlePolicy()
        self._clock = clock
        self._max_keys = max_keys
        self._lock = threading.Lock()
        self._state: dict[str, _KeyState] = {}

    def _get(self, key: str, now: float) -> _KeyState:
        state = self._state.get(key)
        if state is None or (now - state.last_failure > self.policy.forget_after_s and now >= state.not_before):
            state = self._state[key] = _KeyState()
        return state

    def retry_after(self, keys: Iterable[str]) -> float:
        """Seconds until every key in ``keys`` may try again (0.0 if all may now)."""
        with self._lock:
            now = self._clock()
            return max([0.0, *(self._get(k, now).not_before - now for k in keys)])

    def acquire(self, keys: Iterable[str]) -> float:
        """Ask to check a password for ``keys``.

        Returns
        -------
        float
            0.0 if the attempt may go ahead (the keys are now reserved until :meth:`record`),
            else the seconds to wait; then nothing is reserved and the password must not be checked.
        """
        keys = list(keys)
        with self._lock:
            now = self._clock()
            states = [self._get(k, now) for k in keys]
            wait = max([0.0, *(s.not_before - now for s in states)])
            if wait > 0:
                return wait
            for s in states:
                s.not_before = now + self.policy.wait_after(s.failures + 1)
            return 0.0

    def record(self, keys: Iterable[str], ok: bool) -> int:
        """Record the outcome of an acquired attempt.

        Returns
        -------
        int
            The highest failure count among ``keys`` after this attempt (0 after a success).
        """
        with self._lock:
            now = self._clock()
            worst = 0
            for key in keys:
                if ok:
                    self._state.pop(key, None)
                    continue
                s = self._get(key, now)
                s.failures += 1
                s.last_failure = now
                s.not_before = now + self.policy.wait_after(s.failures)
                worst = max(worst, s.failures)
            self._prune(now)
            return worst

    def failures(self, key: str) -> int:
        """Failures in a row recorded for ``key`` (0 once forgotten)."""
        with self._lock:
            return self._get(key, self._clock()).failures

    def _prune(self, now: float) -> None:
        if len(self._state) <= self._max_keys:
            return
        forget = self.policy.forget_after_s
        for key, s in list(self._state.items()):
            if now >= s.not_before and (s.failures == 0 or now - s.last_failure > forget):
                del self._state[key]  # the same as no record
        if len(self._state) > self._max_keys:
            oldest = sorted(self._state, key=lambda k: self._state[k].last_failure)
            for key in oldest[: len(self._state) - self._max_keys]:
                del self._state[key]


@dataclass(frozen=True)
class SignInResult:
    """Outcome of one sign-in attempt.

    Attributes
    ----------
    role : str or None
        The role on success, else None.
    retry_after_s : float
        > 0 when the attempt was refused by the throttle (the password was not checked):
        seconds until the next attempt is allowed.
    locked : bool
        True when the account or session is locked out (``max_failures`` reached).
    refused : bool
        True when the throttle refused the attempt before the password was checked.
    """

    role: str | None
    retry_after_s: float = 0.0
    locked: bool = False
    refused: bool = False


def _account_label(users: Mapping[str, object], username: str) -> str:
    """How an account appears in the log: its name if it exists, else a short digest.

    A name that is no account may be a password typed into the wrong field: it is never
    logged as it is.
    """
    if username in users:
        return repr(username)
    return f"<unknown {hashlib.sha256(username.encode('utf-8', 'replace')).hexdigest()[:8]}>"


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def sign_in(
    users: Mapping[str, Mapping[str, str]], username: str, password: str, *, session: str, throttle: SignInThrottle
) -> SignInResult:
    """Check a password under the throttle and log the outcome.

    Parameters
    ----------
    users : mapping
        The accounts (``CHURN_STAFF_USERS`` or the demo accounts).
    username, password : str
        What was typed. The password is never logged nor stored.
    session : str
        An identifier of the browser session (throttled on its own besides the account).
    throttle : SignInThrottle
        The process-wide throttle.

    Returns
    -------
    SignInResult
        The role, or why not. Unknown accounts are throttled like known ones, so the
        throttle does not tell which accounts exist.
    """
    keys = (f"account:{username.strip().casefold()}", f"session:{session}")
    who, when = _account_label(users, username), _utc_now()
    wait = throttle.acquire(keys)
    if wait > 0:
        locked = any(throttle.failures(k) >= throttle.policy.max_failures for k in keys)
        log.warning(
            "sign-in refused at %s: account=%s session=%s %s, retry after %.1f s",
            when, who, session[:8], "locked out" if locked else "too soon after a failure", wait,
        )  # fmt: skip
        return SignInResult(None, wait, locked, refused=True)
    role = authenticate(users, username, password)
    failures = throttle.record(keys, ok=role is not None)
    if role is not None:
        log.info("sign-in at %s: account=%s role=%s session=%s", when, who, role, session[:8])
        return SignInResult(role)
    locked = failures >= throttle.policy.max_failures
    log.warning(
        "sign-in failed at %s: account=%s session=%s failures=%d%s",
        when, who, session[:8], failures, " (locked out)" if locked else "",
    )  # fmt: skip
    return SignInResult(None, throttle.retry_after(keys), locked)


# --------------------------------------------------------------------------- demo accounts


@dataclass(frozen=True)
class Accounts:
    """The accounts a password may sign in to.

    Attributes
    ----------
    users : dict
        ``{"name": {"password_hash": …, "role": …}}``.
    demo : bool
        True when these are the generated demo accounts (``CHURN_STAFF_USERS`` is empty).
    """

    users: dict[str, dict[str, str]]
    demo: bool = False


def load_accounts(settings: Settings) -> Accounts:
    """The password accounts of the settings, or the demo accounts when none are configured.

    Demo accounts (from ``settings.demo_accounts_file``) are used only when neither
    ``CHURN_STAFF_USERS`` nor ``CHURN_OIDC_ROLES`` is set. A missing or unreadable file
    means no accounts.
    """
    if settings.staff_users or settings.oidc_roles:
        return Accounts(dict(settings.staff_users))
    try:
        data = json.loads(Path(settings.demo_accounts_file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Accounts({})
    users = {
        name: {"password_hash": str(entry["password_hash"]), "role": str(entry["role"])}
        for name, entry in data.get("users", {}).items()
        if name in DEMO_USERS and isinstance(entry, dict) and entry.get("role") == DEMO_USERS[name]
    }
    return Accounts(users, demo=bool(users))


def create_demo_accounts(path: Path, *, replace: bool = False) -> dict[str, str] | None:
    """Create one demo account per role with a random password; return the passwords once.

    The file holds only Argon2id hashes and is created with mode 0600. Nothing is
    logged.

    Parameters
    ----------
    path : Path
        The demo accounts file (``settings.demo_accounts_file``).
    replace : bool, default False
        Make new passwords even if the file exists.

    Returns
    -------
    dict of str to str or None
        User name → password (print it, then forget it), or None if the file exists
        and ``replace`` is False.
    """
    path = Path(path)
    if path.exists() and not replace:
        return None
    passwords = {name: secrets.token_urlsafe(12) for name in DEMO_USERS}
    users = {name: {"password_hash": hash_password(pw), "role": DEMO_USERS[name]} for name, pw in passwords.items()}
    doc = {"note": "Demo accounts of churn-studio (Argon2id hashes only).", "users": users}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2)
    os.replace(tmp, path)
    return passwords
