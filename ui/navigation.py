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
    ("pages/privacy.py", "nav.privacy", ":material/policy:"),
)


def lang() -> str:
    """Return the UI language chosen in the sidebar (the settings' default before that)."""
    return st.session_state.get(LANG_KEY, get_settings().default_language)


def tr(key: str, **values: object) -> str:
    """Translate ``key`` from the message catalog into the current UI language."""
    return t(key, lang(), **values)


def _store_language() -> None:
    st.session_state[LANG_KEY] = st.session_state[f"_{LANG_KEY}_widget"]


def language_selector() -> None:
    """Sidebar selector of the UI language."""
    st.session_state[f"_{LANG_KEY}_widget"] = lang()
    st.sidebar.selectbox(
        tr("app.language"), LANGUAGES, format_func=LANGUAGE_NAMES.get,
        key=f"_{LANG_KEY}_widget", on_change=_store_language,
    )  # fmt: skip


def page_setup(title_key: str, icon: str) -> None:
    """Set up a page: browser-tab title, language selector, translated navigation, warehouse caption."""
    from ui.data import warehouse

    st.set_page_config(page_title=tr(title_key), page_icon=icon, layout="wide")
    language_selector()
    for path, key, page_icon in PAGES:
        st.sidebar.page_link(path, label=tr(key), icon=page_icon)
    where = warehouse().describe()
    st.sidebar.caption(tr("app.backend", backend=tr(f"app.backend_{where['backend']}"), location=where["location"]))
    st.sidebar.divider()


def page_tabs(prefix: str, names: Sequence[str], key: str) -> dict:
    """Lazy tabs titled ``<prefix>.tab_<name>``; only the open one runs its code.

    Returns
    -------
    dict of str to streamlit tab
        By name; test ``tab[name].open`` before drawing into it.
    """
    tabs = st.tabs([tr(f"{prefix}.tab_{n}") for n in names], key=key, on_change="rerun")
    return dict(zip(names, tabs, strict=True))
