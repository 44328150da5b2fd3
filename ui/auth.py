"""Sign-in of staff: Argon2 accounts from the settings, or Streamlit's OIDC login."""

from __future__ import annotations

import streamlit as st

from churn_core.config import get_settings
from ui.navigation import tr


def _signed_in_role() -> str:
    st.sidebar.caption(tr("out.signed_in", user=st.session_state["staff_user"], role=st.session_state["staff_role"]))
    if st.sidebar.button(tr("out.sign_out"), key="sign_out"):
        for key in ("staff_role", "staff_user"):
            st.session_state.pop(key, None)
        st.rerun()
    return st.session_state["staff_role"]


def staff_role() -> str | None:
    """Sign-in for the outreach page; returns the role of the signed-in user, or None.

    Accounts with Argon2 hashes come from the settings; when Streamlit's OIDC login is
    configured (``[auth]`` in secrets), a provider button is offered and the user's e-mail
    is mapped to a role by ``CHURN_OIDC_ROLES``. Without a valid session nothing
    sensitive is shown by the caller.
    """
    from churn_core.auth import authenticate

    settings = get_settings()
    if st.session_state.get("staff_role"):
        return _signed_in_role()
    oidc = "auth" in st.secrets if st.secrets.load_if_toml_exists() else False
    if oidc and getattr(st.user, "is_logged_in", False):
        role = settings.oidc_roles.get(str(st.user.get("email", "")))
        if role:
            st.session_state.update(staff_role=role, staff_user=str(st.user.get("email")))
            return role
    with st.form("staff_login"):
        st.subheader(tr("out.login"))
        user = st.text_input(tr("out.username"), key="login_user")
        password = st.text_input(tr("out.password"), type="password", key="login_password")
        submitted = st.form_submit_button(tr("out.sign_in"))
    if oidc:
        st.button(tr("out.sign_in_oidc"), on_click=st.login)
    if not settings.staff_users and not oidc:
        st.info(tr("out.no_accounts"), icon=":material/key:")
    if submitted:
        role = authenticate(settings.staff_users, user, password)
        if role is None:
            st.error(tr("out.bad_login"))
        else:
            st.session_state.update(staff_role=role, staff_user=user)
            st.rerun()
    return None
