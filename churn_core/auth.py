"""Staff sign-in for the outreach page: hashed passwords from settings, and roles.

Accounts live in the settings (``CHURN_STAFF_USERS``, JSON: ``{"kim": {"password_hash":
"$argon2id$…", "role": "staff"}}``); ``churn-studio user-hash`` prints a hash to put
there. Hashes are Argon2id (argon2-cffi). Roles: ``analyst`` reads, ``marketer`` also
uses the map, ``staff`` also sends. When Streamlit's OIDC login is configured
(``[auth]`` in ``.streamlit/secrets.toml``), ``CHURN_OIDC_ROLES`` maps e-mail addresses
to roles the same way.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "analyst": frozenset({"read"}),
    "marketer": frozenset({"read", "map"}),
    "staff": frozenset({"read", "map", "send"}),
}
_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` for the settings.

    Raises
    ------
    ValueError
        If the password is shorter than 12 characters.
    """
    if len(password) < 12:
        raise ValueError("use at least 12 characters")
    return _HASHER.hash(password)


def authenticate(users: dict[str, dict], username: str, password: str) -> str | None:
    """The user's role if the password matches its hash, else None (unknown users too)."""
    user = users.get(username)
    if not user:
        _HASHER.hash(password)  # spend the same time as a real check
        return None
    try:
        _HASHER.verify(user["password_hash"], password)
    except (VerificationError, InvalidHashError):
        return None
    role = user.get("role", "analyst")
    return role if role in ROLE_PERMISSIONS else None


def can(role: str | None, action: str) -> bool:
    """True if ``role`` may do ``action`` (``read``, ``map`` or ``send``)."""
    return role is not None and action in ROLE_PERMISSIONS.get(role, frozenset())
