"""API keys of the prediction API: made here, stored in the settings only as digests.

A key is ``cs_`` and 43 URL-safe characters (256 random bits from :mod:`secrets`). The settings
hold ``hmac-sha256:<hex>`` of it (``api_keys``: name → digest), never the key. Keys are
high-entropy, so a fast keyed digest is enough (a slow password hash such as the staff
accounts' Argon2 would only cost time per request): the HMAC key below only separates these
digests from any other SHA-256 use. A presented key is compared with every stored digest with
:func:`hmac.compare_digest` (no early exit, constant time per digest).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping

#: Prefix of every key (recognisable in logs and secret scanners).
KEY_PREFIX = "cs_"
#: Prefix of every stored digest.
DIGEST_PREFIX = "hmac-sha256:"
_HMAC_KEY = b"churn-studio api key v1"


def generate_api_key() -> str:
    """A new random API key (``cs_`` + 43 URL-safe characters, 256 bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """The digest of ``key`` to store in the settings: ``hmac-sha256:`` and 64 hex digits."""
    return DIGEST_PREFIX + hmac.new(_HMAC_KEY, key.encode("utf-8"), hashlib.sha256).hexdigest()


def match_api_key(key: str | None, digests: Mapping[str, str], revoked: Iterable[str] = ()) -> str | None:
    """The name of the configured key ``key`` is, or None (missing, unknown or revoked).

    Parameters
    ----------
    key : str or None
        The key a request presented.
    digests : mapping of str to str
        Settings ``api_keys``: key name → stored digest (:func:`hash_api_key`).
    revoked : iterable of str
        Names refused even when listed (settings ``api_revoked_keys``).

    Returns
    -------
    str or None
        The key's name.
    """
    if not key:
        return None
    presented = hash_api_key(key).encode("ascii")
    found = None
    for name, digest in digests.items():  # every digest is compared: the time does not depend on which matched
        if hmac.compare_digest(presented, str(digest).strip().lower().encode("ascii", "replace")):
            found = name
    return None if found is None or found in set(revoked) else found
