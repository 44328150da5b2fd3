"""Sign-in and roles in the app: every page and every download asks here.

:func:`guard_page` (called by :func:`ui.navigation.page_setup` on every page) signs out
idle sessions, shows who is signed in, and stops a page the session may not open with
the sign-in form instead. :func:`allowed` answers for downloads and customer-level tabs.
The rules themselves (roles, permissions, throttle, OIDC) are in :mod:`churn_core.auth`.

Password accounts come from ``CHURN_STAFF_USERS`` (or the demo accounts); with
Streamlit's OIDC login configured (``[auth]`` in secrets) a provider button is offered and
verified e-mail addresses get the role of ``CHURN_OIDC_ROLES``. Signing out of an OIDC
session calls ``st.logout()``, which also ends the identity-provider session when the
provider publishes an ``end_session_endpoint``.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections.abc import Callable

import streamlit as st

from churn_core.auth import (
    ROLE_PERMISSIONS,
    SignInThrottle,
    ThrottlePolicy,
    can,
    load_accounts,
    may_open_page,
    oidc_role,
    sign_in,
)
from churn_core.config import get_settings
from churn_core.escaping import markdown_text
from ui.navigation import tr

#: Seconds on a monotonic clock, for the idle timeout and the sign-in throttle. Tests replace it.
clock: Callable[[], float] = time.monotonic

ROLE_KEY, USER_KEY = "staff_role", "staff_user"  # read by the outreach page
_KIND_KEY, _SEEN_KEY, _DEMO_KEY = "_auth_kind", "_auth_last_seen", "_auth_demo"
_SESSION_KEY, _NOTICE_KEY = "_auth_session", "_auth_notice"
_STATE_KEYS = (ROLE_KEY, USER_KEY, _KIND_KEY, _SEEN_KEY, _DEMO_KEY)

_THROTTLE: SignInThrottle | None = None
_THROTTLE_LOCK = threading.Lock()


def signin_throttle() -> SignInThrottle:
    """The process-wide sign-in throttle (shared by every session; rebuilt if its settings change)."""
    global _THROTTLE
    policy = ThrottlePolicy.from_settings(get_settings())
    with _THROTTLE_LOCK:
        if _THROTTLE is None or _THROTTLE.policy != policy:
            _THROTTLE = SignInThrottle(policy, clock=lambda: clock())
        return _THROTTLE


def _oidc_configured() -> bool:
    return bool(st.secrets.load_if_toml_exists() and "auth" in st.secrets)


def _user_info() -> dict:
    return dict(st.user.to_dict()) if _oidc_configured() else {}


def _session_id() -> str:
    if _SESSION_KEY not in st.session_state:
        st.session_state[_SESSION_KEY] = secrets.token_hex(8)
    return st.session_state[_SESSION_KEY]


def sign_out(notice: str | None = None) -> None:
    """End this session's sign-in; for an OIDC identity also ``st.logout()`` (and the provider's session)."""
    oidc = st.session_state.get(_KIND_KEY) == "oidc" or bool(_user_info().get("is_logged_in"))
    for key in _STATE_KEYS:
        st.session_state.pop(key, None)
    if notice:
        st.session_state[_NOTICE_KEY] = notice
    if oidc:
        st.logout()


def current_role() -> str | None:
    """The role of this session, or None when nobody is signed in.

    Signs out a session idle for longer than ``CHURN_SESSION_IDLE_MINUTES`` (with a
    notice) and one whose account was removed or changed role; takes the role of a
    verified OIDC identity. Every call counts as activity.
    """
    settings = get_settings()
    state, now = st.session_state, clock()
    role = state.get(ROLE_KEY)
    if role:
        if state.get(_KIND_KEY) == "oidc":
            still = oidc_role(_user_info(), settings.oidc_roles) == role
        else:
            still = load_accounts(settings).users.get(state.get(USER_KEY), {}).get("role") == role
        idle_s = now - state.get(_SEEN_KEY, now)
        if idle_s > settings.session_idle_minutes * 60:
            sign_out(tr("auth.idle_signed_out", minutes=f"{settings.session_idle_minutes:g}"))
            role = None
        elif not still:
            sign_out()
            role = None
    if role is None:
        info = _user_info()
        role = oidc_role(info, settings.oidc_roles)
        if role:
            state.update({ROLE_KEY: role, USER_KEY: str(info.get("email")), _KIND_KEY: "oidc"})
    if role:
        state[_SEEN_KEY] = now
    return role


def staff_role() -> str | None:
    """The role of the signed-in user, or None (no form: :func:`guard_page` draws it)."""
    return st.session_state.get(ROLE_KEY)


def role_name(role: str) -> str:
    """A role's name in the UI language (``role.<role>`` in the catalog; unknown roles as they are)."""
    from churn_core.i18n import catalog

    return tr(f"role.{role}") if f"role.{role}" in catalog() else role


def role_names(permission: str) -> str:
    """The names of the roles that have ``permission``, comma-separated, in the UI language."""
    return ", ".join(role_name(r) for r, perms in ROLE_PERMISSIONS.items() if permission in perms)


def allowed(permission: str | None) -> bool:
    """True if the signed-in role has ``permission`` (None: anyone, signed in or not)."""
    return permission is None or can(st.session_state.get(ROLE_KEY), permission)


def _sidebar_status(role: str | None) -> None:
    if not role:
        return
    state = st.session_state
    st.sidebar.caption(tr("out.signed_in", user=markdown_text(state[USER_KEY]), role=role_name(role)))
    if state.get(_DEMO_KEY):
        st.sidebar.caption(tr("auth.demo_account"))
    st.sidebar.button(tr("out.sign_out"), key="sign_out", on_click=sign_out)


def sign_in_form() -> None:
    """The sign-in form (password accounts, and the OIDC button when configured)."""
    settings = get_settings()
    accounts = load_accounts(settings)
    with st.form("staff_login", clear_on_submit=True):
        user = st.text_input(tr("out.username"), key="login_user", max_chars=64)
        password = st.text_input(tr("out.password"), type="password", key="login_password", max_chars=256)
        submitted = st.form_submit_button(tr("out.sign_in"))
    if _oidc_configured():
        info = _user_info()
        if info.get("is_logged_in"):  # signed in at the provider, but no role here
            st.warning(
                tr("auth.oidc_no_role", email=markdown_text(info.get("email", ""))), icon=":material/no_accounts:"
            )
            st.button(tr("out.sign_out"), key="oidc_sign_out", on_click=sign_out)
        else:
            st.button(tr("out.sign_in_oidc"), on_click=st.login)
    elif not accounts.users:
        st.info(tr("out.no_accounts"), icon=":material/key:")
    if accounts.demo:
        st.info(tr("auth.demo_hint", users=", ".join(sorted(accounts.users))), icon=":material/science:")
    if not submitted:
        return
    result = sign_in(accounts.users, user, password, session=_session_id(), throttle=signin_throttle())
    if result.role:
        st.session_state.update(
            {ROLE_KEY: result.role, USER_KEY: user, _KIND_KEY: "password", _SEEN_KEY: clock(), _DEMO_KEY: accounts.demo}
        )
        st.rerun()
    wait = math.ceil(result.retry_after_s)
    if result.locked:
        st.error(tr("auth.locked", minutes=max(1, math.ceil(wait / 60))), icon=":material/lock_clock:")
    elif result.refused:
        st.error(tr("auth.too_soon", seconds=max(1, wait)), icon=":material/hourglass_top:")
    else:
        st.error(tr("out.bad_login"))


def needs_role(permission: str, form: bool = False) -> None:
    """Say that ``permission`` needs another role or a sign-in; with ``form``, draw the sign-in form here.

    Without ``form`` the user is sent to the sign-in form of the sidebar (public pages).
    """
    role = st.session_state.get(ROLE_KEY)
    if role:
        st.warning(
            tr("auth.no_permission", role=role_name(role), permission=tr(f"auth.perm_{permission}")),
            icon=":material/block:",
        )
    elif form:
        st.info(tr("auth.sign_in_to_see"), icon=":material/lock:")
        sign_in_form()
    else:
        st.info(tr("auth.sign_in_in_sidebar"), icon=":material/lock:")


def guard_page(page: str, title_key: str) -> str | None:
    """Check the session may open ``page``; otherwise show the sign-in form and stop the script.

    Parameters
    ----------
    page : str
        The page's script stem (``"scoring"``), see :data:`churn_core.auth.PAGE_PERMISSIONS`.
    title_key : str
        Catalog key of the page title, shown above the sign-in form.

    Returns
    -------
    str or None
        The role of the session (None on a public page nobody is signed in to).
    """
    from churn_core.auth import page_permission

    role = current_role()
    _sidebar_status(role)
    notice = st.session_state.pop(_NOTICE_KEY, None)
    if notice:
        st.info(notice, icon=":material/timer_off:")
    if may_open_page(role, page, get_settings().public_pages):
        if not role:  # a public page: signing in is offered in the sidebar
            with st.sidebar.expander(tr("out.login"), icon=":material/login:"):
                sign_in_form()
        return role
    st.title(tr(title_key))
    needs_role(page_permission(page), form=True)
    st.stop()
