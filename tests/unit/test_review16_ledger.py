"""The outreach ledger as the browser shows it (issue #16 browser review): shipped templates by
their names, and missing texts (no error code, no recipient yet) empty rather than ``None``."""

from __future__ import annotations

import pandas as pd

from churn_core.formatting import ledger_table
from churn_core.i18n import t


def test_ledger_names_templates_and_shows_no_none() -> None:
    ledger = pd.DataFrame(
        {
            "campaign_id": ["c1", "c1", "c1"],
            "channel": ["sms", "sms", "email"],
            "status": ["queued", "recorded", "failed"],
            "template_id": ["sms_urgent", "sms_standard", "custom-0123456789"],
            "error_code": [None, None, "smtp_550"],
            "recipient": [None, "010-0000-0001", None],
            "attempts": [0, 1, 1],
        }
    )
    for lang in ("ko", "en"):
        shown = ledger_table(ledger, lang)
        assert list(shown["template_id"]) == [
            t("tpl.sms_urgent", lang), t("tpl.sms_standard", lang), "custom-0123456789"
        ]  # fmt: skip
        assert list(shown["error_code"]) == ["", "", "smtp_550"]
        assert list(shown["recipient"]) == ["", "010-0000-0001", ""]
        assert not shown.isna().any().any()
        assert list(shown["attempts"]) == [0, 1, 1]
