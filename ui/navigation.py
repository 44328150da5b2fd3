"""Language, translation and navigation: what every page calls first.

The UI language is kept under a plain session-state key (it survives page switches);
all text comes from the message catalog (:mod:`churn_core.i18n`).

Pages are classic ``pages/`` scripts with a translated sidebar, not ``st.navigation``.
Re-checked on Streamlit 1.67.0: with ``st.navigation`` the entry point's sidebar widgets
vanish from ``AppTest`` after the first interaction whenever the page files live in a
folder named ``pages/``. Reproduction: ``entry.py`` puts ``st.sidebar.selectbox(...,
key="lang")`` and then ``st.navigation([st.Page("pages/a.py"), st.Page("pages/b.py")]).run()``;
``at = AppTest.from_file("entry.py").run()`` shows the selectbox in ``at.sidebar``, and
after ``at.sidebar.selectbox[0].select("en").run()`` it is gone. The same files in a
folder with another name keep it. The design keeps ``pages/``, so this module keeps the
classic layout; ``client.showSidebarNavigation = false`` hides Streamlit's own list of
file names and :func:`page_setup` draws the translated one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

import streamlit as st

from churn_core.config import get_settings
from churn_core.i18n import LANGUAGE_NAMES, LANGUAGES, t

LANG_KEY = "lang"

#: The app's pages in navigation order: (script path, catalog key of the title, icon).
PAGES: tuple[tuple[str, str, str], ...] = (
    ("Home.py", "nav.home", ":material/home:"),
    ("pages/eda.py", "nav.eda", ":material/query_stats:"),
    ("pages/models.py", "nav.models", ":material/model_training:"),
    ("pages/scoring.py", "nav.scoring", ":material/person_search:"),
    ("pages/revenue.py", "nav.revenue", ":material/savings:"),
    ("pages/segments.py", "nav.segments", ":material/hub:"),
    ("pages/map.py", "nav.map", ":material/map:"),
    ("pages/outreach.py", "nav.outreach", ":material/campaign:"),
    ("pages/health.py", "nav.health", ":material/monitor_heart:"),
    ("pages/uplift.py", "nav.uplift", ":material/trending_up:"),
    ("pages/privacy.py", "nav.privacy", ":material/policy:"),
)

#: Page name (script stem, lower case: ``"scoring"``) by catalog key of its title.
PAGE_NAMES: dict[str, str] = {key: PurePosixPath(path).stem.lower() for path, key, _ in PAGES}

#: Tabs showing customer rows on pages that may be public, by catalog prefix: the
#: permission each needs (its download too). Without it the tab holds the sign-in form.
CUSTOMER_TABS: dict[str, dict[str, str]] = {"eda": {"table": "read_customers"}}


def lang() -> str:
    """Return the UI language chosen in the sidebar (the settings' default before that)."""
    return st.session_state.get(LANG_KEY, get_settings().default_language)


def tr(key: str, **values: object) -> str:
    """Translate ``key`` from the message catalog into the current UI language."""
    return t(key, lang(), **values)


#: Session-state key listing the widgets of the last run whose shown labels follow the language.
_RELABEL_KEY = "_relabel_keys"


def relabel(key: str) -> str:
    """Mark the widget ``key`` as one whose option labels follow the UI language; returns ``key``.

    Its options must be stable codes translated by ``format_func`` (never translated
    labels). The browser keeps the labels it was last sent and posts them back on every
    rerun; after a language switch they no longer match the new language's labels, so
    Streamlit would drop the selection at the next interaction. On a switch, every widget
    marked here gets its value written back (:func:`_store_language`), which makes
    Streamlit send the browser the labels of the new language.

    Parameters
    ----------
    key : str
        The widget's key (the list is rebuilt on every run by the widgets drawn).

    Returns
    -------
    str
        ``key``, to pass on: ``st.selectbox(..., key=relabel("eda_feature"))``.
    """
    st.session_state.setdefault(_RELABEL_KEY, set()).add(key)
    return key


def _store_language() -> None:
    st.session_state[LANG_KEY] = st.session_state[f"_{LANG_KEY}_widget"]
    for key in st.session_state.get(_RELABEL_KEY, ()):  # widgets of the page on screen
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def language_selector() -> None:
    """Sidebar selector of the UI language."""
    st.session_state[f"_{LANG_KEY}_widget"] = lang()
    st.sidebar.selectbox(
        tr("app.language"), LANGUAGES, format_func=LANGUAGE_NAMES.get,
        key=f"_{LANG_KEY}_widget", on_change=_store_language,
    )  # fmt: skip


def page_setup(title_key: str, icon: str) -> str | None:
    """Set up a page: browser-tab title, language selector, translated navigation, warehouse caption,
    and the role check.

    A page that is not public (``CHURN_PUBLIC_PAGES``) and that the session's role may
    not open shows the sign-in form (or why the role may not) and stops here: nothing
    of the page runs. Idle sessions are signed out here (see :mod:`ui.auth`).

    Returns
    -------
    str or None
        The signed-in role (None on a public page when nobody is signed in).
    """
    from ui.auth import guard_page
    from ui.data import warehouse

    st.set_page_config(page_title=tr(title_key), page_icon=icon, layout="wide")
    st.session_state[_RELABEL_KEY] = set()  # filled again by this run's widgets (relabel)
    language_selector()
    for path, key, page_icon in PAGES:
        st.sidebar.page_link(path, label=tr(key), icon=page_icon)
    as_of_selector()
    where = warehouse().describe()
    st.sidebar.caption(tr("app.backend", backend=tr(f"app.backend_{where['backend']}"), location=where["location"]))
    synthetic_label()
    role = guard_page(PAGE_NAMES.get(title_key, title_key.removeprefix("nav.")), title_key)
    st.sidebar.divider()
    return role


# -- customer snapshots (issue #14): the "as of" selector and the synthetic label ----------------------
def _store_as_of() -> None:
    from ui.data import AS_OF_KEY, snapshot_list

    day = st.session_state["_as_of_widget"]
    latest = snapshot_list()["snapshot_date"].iloc[-1]
    st.session_state[AS_OF_KEY] = None if day == latest else day


def as_of_selector() -> None:
    """Sidebar selector of the customer snapshot every page shows (latest first and by default).

    Synthetic snapshots are marked in their label. With one snapshot only its date is shown
    (a caption); with none, nothing.
    """
    from ui.data import selected_as_of, snapshot_list

    df = snapshot_list()
    if df.empty:
        return
    if len(df) == 1:
        st.sidebar.caption(tr("snapshot.single", date=df["snapshot_date"].iloc[0].isoformat()))
        return
    dates = list(reversed(df["snapshot_date"]))
    synthetic = dict(zip(df["snapshot_date"], df["is_synthetic"].astype(bool), strict=True))

    def label(day) -> str:
        kind = ("latest_" if day == dates[0] else "") + ("synthetic" if synthetic[day] else "")
        return tr(f"snapshot.option_{kind.rstrip('_')}" if kind else "snapshot.option", date=day.isoformat())

    labels = {day: label(day) for day in dates}  # made now, in this run's language (not when the widget is read)
    st.session_state["_as_of_widget"] = selected_as_of() or dates[0]
    st.sidebar.selectbox(
        tr("snapshot.as_of"), dates, format_func=labels.__getitem__, key=relabel("_as_of_widget"),
        on_change=_store_as_of, help=tr("snapshot.as_of_help"),
    )  # fmt: skip


def synthetic_label() -> None:
    """A visible warning on the page when the snapshot shown is synthetic (generated customers)."""
    from ui.data import shown_snapshot

    row = shown_snapshot()
    if row and bool(row.get("is_synthetic")):
        drift = tr("snapshot.synthetic_drift") if row.get("drift") else ""
        st.warning(tr("snapshot.synthetic_banner", date=row["snapshot_date"].isoformat(), drift=drift),
                   icon=":material/science:")  # fmt: skip


class _RoleTab:
    """A lazy tab that needs a permission: without it, ``open`` is False and the tab
    holds the sign-in form (or why the role may not see it) instead of its content."""

    def __init__(self, tab, permission: str) -> None:
        self._tab, self._permission, self._explained = tab, permission, False

    @property
    def open(self) -> bool | None:
        from ui.auth import allowed, needs_role

        if not self._tab.open:
            return self._tab.open
        if allowed(self._permission):
            return True
        if not self._explained:
            self._explained = True
            with self._tab:
                needs_role(self._permission)
        return False

    def __enter__(self):
        return self._tab.__enter__()

    def __exit__(self, *exc):
        return self._tab.__exit__(*exc)

    def __getattr__(self, name: str):
        return getattr(self._tab, name)


def page_tabs(prefix: str, names: Sequence[str], key: str) -> dict:
    """Lazy tabs titled ``<prefix>.tab_<name>``; only the open one runs its code.

    The open tab is kept by name under ``_<key>_open`` and survives a language switch.
    Streamlit's tab widget is identified by its titles (and ``default``), so new titles
    make a new widget that opens its ``default``: on a switch (and on coming back to the
    page, whose tab state Streamlit dropped), ``default`` becomes the tab that was open
    (kept under ``_<key>_anchor`` with the language, so clicks within one language leave
    the widget's identity alone).

    Returns
    -------
    dict of str to streamlit tab
        By name; test ``tab[name].open`` before drawing into it.
    """
    titles = {n: tr(f"{prefix}.tab_{n}") for n in names}
    opened = st.session_state.get(f"_{key}_open")
    anchor = st.session_state.get(f"_{key}_anchor")
    if anchor is None or anchor[0] != lang() or anchor[1] not in titles or key not in st.session_state:
        anchor = st.session_state[f"_{key}_anchor"] = (lang(), opened if opened in titles else names[0])
    tabs = st.tabs(list(titles.values()), key=key, on_change="rerun", default=titles[anchor[1]])
    st.session_state[f"_{key}_open"] = next((n for n, tab in zip(names, tabs, strict=True) if tab.open), names[0])
    guarded = CUSTOMER_TABS.get(prefix, {})
    return {n: _RoleTab(tab, guarded[n]) if n in guarded else tab for n, tab in zip(names, tabs, strict=True)}
