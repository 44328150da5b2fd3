"""The HTTP API of the retention studio (FastAPI under uvicorn), separate from the Streamlit app.

It serves what cannot live in a Streamlit page: today the RFC 8058 one-click unsubscribe
endpoint (:mod:`api.routes.optout`); the prediction API will join it. Layout as in the
FastAPI project template: :mod:`api.main` (app factory ``create_app(settings)``),
:mod:`api.deps` (settings, signing key, warehouse as dependencies), one router per resource
under :mod:`api.routes`. All logic stays in :mod:`churn_core`.

Run it with ``make api`` or ``.venv/bin/python -m api`` (uvicorn on ``api_host:api_port``,
127.0.0.1:8502 by default).
"""
