"""The HTTP API of the retention studio (FastAPI under uvicorn), separate from the Streamlit app.

It serves what cannot live in a Streamlit page: the RFC 8058 one-click unsubscribe endpoint
(:mod:`api.routes.optout`) and the prediction API (:mod:`api.routes.predict`,
:mod:`api.routes.model`, :mod:`api.routes.health`). Layout as in the FastAPI project template:
:mod:`api.main` (app factory ``create_app(settings)``), :mod:`api.deps` (settings, warehouse,
serving model and API key as dependencies), :mod:`api.schemas` (bodies generated from the
declared schema), :mod:`api.keys` (API keys and their digests), one router per resource under
:mod:`api.routes`. All logic stays in :mod:`churn_core`.

Run it with ``churn-studio api``, ``make api`` or ``.venv/bin/python -m api`` (uvicorn on
``api_host:api_port``, 127.0.0.1:8502 by default).
"""
