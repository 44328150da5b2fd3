"""``python -m api``: serve the API with uvicorn on the settings' ``api_host:api_port`` (127.0.0.1:8502)."""

from __future__ import annotations

import uvicorn

from api.main import create_app
from churn_core.config import get_settings
from churn_core.logs import setup_logging, uvicorn_log_config


def main() -> None:
    """Serve :func:`api.main.create_app` until interrupted (the server header is left out).

    Log lines (the API's and uvicorn's) are JSON, redacted, on stderr and in ``<log_dir>/api.log``.
    """
    settings = get_settings()
    setup_logging("api", settings)
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port, server_header=False,
                log_config=uvicorn_log_config(settings.log_level))  # fmt: skip


if __name__ == "__main__":
    main()
