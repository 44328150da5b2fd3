"""The studio in one process: the Streamlit app (``Home.py``) with the API mounted under ``/api``.

``streamlit run app.py`` (what ``make run`` does) serves the pages as usual and, beside them,
the API routes (:func:`api.main.create_app`), e.g. the one-click opt-out at
``/api/optout``. Both use the process's one warehouse, so an opt-out is written at once even
on the embedded DuckDB file, which one process at a time may hold. ``streamlit run Home.py``
still serves the app alone; ``python -m api`` serves the API alone.
"""

import streamlit as st
from starlette.routing import Mount

from api.main import create_app
from churn_core.config import get_settings
from churn_core.logs import setup_logging

setup_logging("app", get_settings())  # the pages' and the mounted API's lines: JSON, data/logs/app.log
app = st.App("Home.py", routes=[Mount("/api", app=create_app(get_settings(), in_app_process=True))])
