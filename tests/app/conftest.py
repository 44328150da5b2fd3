"""Every AppTest runs with one test account per role (``tests.helpers.apptest.accounts_json``),
so ``open_page(path, role=...)`` can sign in through the real form; a test may set its own
``CHURN_STAFF_USERS`` on top (monkeypatch restores both)."""

from __future__ import annotations

import pytest

from churn_core.config import get_settings
from tests.helpers.apptest import accounts_json


@pytest.fixture(autouse=True)
def role_accounts(monkeypatch):
    monkeypatch.setenv("CHURN_STAFF_USERS", accounts_json())
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
