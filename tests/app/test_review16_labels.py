"""Labels a browser walk of issue #16 found raw: the campaign simulator's segments carry the
descriptive names of the segments page, and the batch-scoring note gives the model's training
time in KST (as the model card does), not as an ISO UTC string."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from churn_core.analytics import segments as sg
from churn_core.config import RAW_CUSTOMERS_CSV
from churn_core.formatting import segment_name
from churn_core.i18n import t
from churn_core.prediction.scoring import SCORING_RAW_COLUMNS
from tests.helpers.apptest import open_page, open_tab
from ui.data import customer_sample

pytestmark = pytest.mark.app


def test_campaign_simulator_names_segments_as_the_segments_page_does() -> None:
    at = open_tab(open_page("pages/revenue.py", role="analyst"), "clv_tab", "clv", "campaign")
    assert not at.exception, at.exception
    box = next(s for s in at.selectbox if s.label == t("clv.audience", "ko"))
    customers = customer_sample()
    traits = sg.segment_traits(customers, customers["segment"])
    names = [segment_name(s, codes, "ko") for s, codes in traits.items()]
    assert names and all(name in box.options for name in names)
    assert not any(o.startswith(t("filters.segment_n", "ko", n="")) for o in box.options)


def test_batch_scoring_note_gives_the_training_time_in_kst() -> None:
    rows = pd.read_csv(RAW_CUSTOMERS_CSV, dtype=str, keep_default_na=False, nrows=5)[list(SCORING_RAW_COLUMNS)]
    at = open_tab(open_page("pages/scoring.py", role="analyst"), "score_tab", "score", "batch")
    data = rows.to_csv(index=False).encode()
    at.file_uploader(key="score_upload").set_value(("five.csv", data, "text/csv")).run()
    assert not at.exception, at.exception
    marker = t("score.model_used", "ko", schema="", name="", version="\0").split("\0")[0][-4:]  # "(학습 "
    note = next(c.value for c in at.caption if marker in c.value)
    assert " KST" in note and "+00:00" not in note and "T0" not in note


def test_outreach_names_templates_instead_of_showing_their_ids() -> None:
    at = open_page("pages/outreach.py", role="staff")
    box = next(s for s in at.selectbox if s.label == t("out.template_base", "ko"))
    shown = [o for o in box.options if o != t("out.template_auto", "ko")]
    assert t("tpl.sms_standard", "ko") in shown and t("tpl.sms_urgent", "ko") in shown
    assert not any("sms_" in o for o in shown)
    note = t("out.template_auto_note", "ko", id="\0").split("\0")[0]
    auto = next(c.value for c in at.caption if c.value.startswith(note))
    assert "sms_" not in auto and any(t(f"tpl.{i}", "ko") in auto for i in ("sms_standard", "sms_urgent"))


def test_send_precheck_table_reads_in_the_ui_language(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CHURN_TEMPLATES_DIR", str(tmp_path / "templates"))
    at = open_page("pages/outreach.py", role="staff")
    at.text_input(key="o_cid_sms").input("review16-precheck").run()
    at.button(key="o_plan").click().run()
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "decision" in d.value.columns)
    allowed = {t(f"out.decision_{d}", "ko") for d in ("send", "hold", "skip")}
    assert len(table) and set(table["decision"]) <= allowed


def test_home_gives_the_warehouse_build_time_in_kst() -> None:
    at = open_page()
    marker = t("app.warehouse_caption", "ko", backend="", file="", n="", built="\0").split("\0")[0][-4:]
    note = next(c.value for c in at.caption if marker in c.value)
    assert note.endswith(" KST") and "+00:00" not in note


def test_eda_rates_table_counts_have_thousands_separators() -> None:
    at = open_page("pages/eda.py")
    table = next(d for d in at.dataframe if "level" in d.value.columns)
    config = json.loads(table.proto.columns)
    for column in ("n", "churned"):
        assert config[column]["type_config"]["format"] == "localized", config[column]
