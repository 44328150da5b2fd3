"""Writes that hold under failure and concurrency, on DuckDB and on the BigQuery emulator (real client):
a failed table write keeps the old rows, the ledger key is unique under racing plans, a stuck row is
recovered by exactly one process, and BigQuery's concurrent-update errors are retried, bounded."""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

import duckdb
import pandas as pd
import pytest

from churn_core.config import RAW_CUSTOMERS_CSV
from churn_core.data.warehouse import BigQueryWarehouse, DuckDBWarehouse
from churn_core.outreach import campaigns as outreach
from tests.helpers.bq_emulator import PROJECT
from tests.helpers.outreach_doubles import DAY
from tests.helpers.servers import LocalServer
from tests.helpers.warehouses import new_bigquery_warehouse

pytestmark = pytest.mark.data

BACKENDS = ["duckdb", "bigquery"]
TIMEOUT_S = 600.0


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    """An empty warehouse of each backend with the declared tables only (no customers needed)."""
    if request.param == "duckdb":
        wh = DuckDBWarehouse(tmp_path / "w.duckdb", RAW_CUSTOMERS_CSV)
    else:
        wh = new_bigquery_warehouse(request.getfixturevalue("bq_endpoint"))
    wh.ensure_tables()
    yield wh
    wh.close()


def _count(wh, name: str) -> int:
    return int(wh.query(f"SELECT COUNT(*) AS n FROM {wh.table(name)}")["n"].iloc[0])


def _contacts(n: int) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [f"W{i}" for i in range(n)], "name": "x", "phone_e164": None, "email": None,
                         "preferred_channel": "sms", "gu": None, "is_demo": False})  # fmt: skip


def _audience(n: int) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [f"R{i:03d}" for i in range(n)], "risk_tier": "high"})


def _twin(wh):
    """A second app instance on the same data (BigQuery: its own client; DuckDB: one file, one process)."""
    if isinstance(wh, BigQueryWarehouse):
        return BigQueryWarehouse(wh.project, wh.dataset, wh.raw_csv, api_endpoint=wh.api_endpoint)
    return wh


def _race(*calls):
    """Run the calls at once in threads (a barrier releases them together); return their results."""
    barrier, results, errors = threading.Barrier(len(calls)), [None] * len(calls), []

    def run(i, call):
        try:
            barrier.wait(timeout=30)
            results[i] = call()
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return results


# -- a failed write keeps the old rows --------------------------------------------------------
def test_a_failed_conversion_leaves_the_bigquery_table_as_it_was(bq_endpoint) -> None:
    wh = new_bigquery_warehouse(bq_endpoint)
    wh.replace_table("scratch", pd.DataFrame({"a": [1, 2, 3]}))
    with pytest.raises(Exception, match=r"(?i)convert"):
        wh.replace_table("scratch", pd.DataFrame({"a": [1, "not a number"]}))  # fails while converting the rows
    assert _count(wh, "scratch") == 3


@pytest.mark.parametrize("store", BACKENDS, indirect=True)
def test_a_write_that_fails_midway_keeps_the_old_contacts(store, monkeypatch) -> None:
    store.replace_table("contacts", _contacts(3))

    def crash(*args, **kwargs):
        raise RuntimeError("connection lost mid-write")

    if isinstance(store, BigQueryWarehouse):
        monkeypatch.setattr(BigQueryWarehouse, "_swap", crash)  # after the rows reached the staging table
    else:
        monkeypatch.setattr(DuckDBWarehouse, "_load", crash)  # after the table was re-created, in the transaction
    with pytest.raises(RuntimeError, match="mid-write"):
        store.replace_table("contacts", _contacts(5).assign(name="new"))
    monkeypatch.undo()
    book = store.query("SELECT * FROM {contacts} ORDER BY customer_id")
    assert len(book) == 3 and set(book["name"]) == {"x"}
    if isinstance(store, BigQueryWarehouse):  # no staging table left behind
        assert not [t.table_id for t in store.client.list_tables(store.location) if t.table_id.startswith("_staging")]
    store.replace_table("contacts", _contacts(5))
    assert _count(store, "contacts") == 5


# -- consent history and the merging import ----------------------------------------------------
@pytest.mark.parametrize("store", BACKENDS, indirect=True)
def test_an_older_export_never_undoes_an_opt_out_on_both_backends(store) -> None:
    from churn_core.outreach import consent, contacts

    header = "customerID,name,mobile,email,sms_consent,sms_consent_date,email_consent,email_consent_date,opted_out\n"
    newer = (
        header
        + "A1,가,010-2345-6781,,Y,2026-02-01,N,,N\nA2,나,010-2345-6782,a2@example.org,Y,2026-02-01,Y,2026-02-01,N\n"
    )
    older = header + "A1,가,010-2345-6781,,Y,2026-01-05,N,,N\n"
    known, today = {"A1", "A2"}, DAY.date()
    contacts.apply_import(store, contacts.validate_contacts(newer.encode(), known, "feb.csv", today), "kim", DAY)
    consent.record_opt_out(store, "A1", "unsubscribe_link", "token t1", occurred_at=DAY - dt.timedelta(days=60))
    old = contacts.validate_contacts(older.encode(), known, "jan.csv", today)
    assert contacts.preview_import(store, old).grants_without_effect == 1
    contacts.apply_import(store, old, "kim", DAY)
    state = consent.current_consent(store, as_of=DAY).set_index("customer_id")
    assert state.loc["A1", "opted_out"] and not state.loc["A1", "sms_consent"]
    assert state.loc["A2", "sms_consent"] and state.loc["A2", "email_consent"] and not state.loc["A2", "opted_out"]
    assert _count(store, "contacts") == 2 and len(consent.history(store)) == 5
    late = dt.datetime(2028, 1, 15, tzinfo=dt.UTC)  # A2's grants of 1 February 2026 expire on 1 February 2028
    due = consent.reconfirmation_due(store, as_of=late)
    assert set(zip(due["customer_id"], due["channel"], strict=True)) == {("A2", "sms"), ("A2", "email")}
    assert set(due["address"]) == {"+821023456782", "a2@example.org"} and not due["expired"].any()


# -- the ledger key --------------------------------------------------------------------------
def test_the_ledger_key_is_a_unique_index_on_duckdb(tmp_path) -> None:
    wh = DuckDBWarehouse(tmp_path / "w.duckdb", RAW_CUSTOMERS_CSV)
    wh.ensure_tables()
    outreach.plan(wh, "k", _audience(2), "sms", 0.0, "kim", DAY)
    row = outreach.ledger(wh, "k").head(1)
    with pytest.raises(duckdb.ConstraintException, match=r"(?i)duplicate key"):
        wh.append_rows("outbox", row)
    wh.close()


@pytest.mark.parametrize("store", BACKENDS, indirect=True)
def test_two_racing_plans_add_each_customer_once(store, monkeypatch) -> None:
    # no in-process lock: as if the plans came from two app instances
    monkeypatch.setattr(outreach, "_campaign_lock", lambda campaign_id: contextlib.nullcontext())
    audience, other = _audience(40), _twin(store)
    results = _race(*(lambda w=w: outreach.plan(w, "race", audience, "sms", 0.0, "kim", DAY) for w in (store, other)))
    led = outreach.ledger(store, "race")
    assert len(led) == 40 and led["customer_id"].is_unique
    assert sum(r["added"] for r in results) == 40
    assert outreach.plan(store, "race", audience, "sms", 0.0, "kim", DAY)["added"] == 0


# -- a row stuck in flight ----------------------------------------------------------------------
@pytest.mark.parametrize("store", BACKENDS, indirect=True)
def test_a_stuck_row_is_recovered_by_exactly_one_of_two_processes(store) -> None:
    outreach.plan(store, "stuck", _audience(3), "sms", 0.0, "kim", DAY)
    for _, row in outreach.ledger(store, "stuck").iterrows():  # three claims whose process then died
        assert outreach._update(store, row, DAY, only_if="queued", status="sending") == 1
    soon = DAY + dt.timedelta(seconds=10)
    assert outreach.recover_stuck(store, "stuck", "sms", soon, TIMEOUT_S) == 0  # may still be in flight
    late, other = DAY + dt.timedelta(seconds=TIMEOUT_S + 1), _twin(store)
    results = _race(*(lambda w=w: outreach.recover_stuck(w, "stuck", "sms", late, TIMEOUT_S) for w in (store, other)))
    assert sorted(results) == [0, 3]
    led = outreach.ledger(store, "stuck")
    assert set(led["status"]) == {"failed"} and set(led["reason"]) == {"unknown_outcome"}


# -- BigQuery: "Could not serialize access" is retried, bounded -------------------------------------
class ConflictingProxy(LocalServer):
    """Forwards the BigQuery REST API to the emulator, answering the first ``fail`` DML jobs (``UPDATE``)
    with BigQuery's concurrent-update error, as a second app instance racing this one would cause."""

    def __init__(self, upstream: str, fail: int):
        self.fail, self.failed = fail, 0
        target, proxy = urlsplit(upstream), self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                dml = self.command == "POST" and self.path.split("?")[0].endswith("/jobs") and b"UPDATE" in body
                if dml and proxy.failed < proxy.fail:
                    proxy.failed += 1
                    message = "Could not serialize access to table churn-test:t.outbox due to concurrent update"
                    reason = {"message": message, "domain": "global", "reason": "invalidQuery"}
                    error = {"code": 400, "message": message, "status": "INVALID_ARGUMENT", "errors": [reason]}
                    return self._reply(400, {"Content-Type": "application/json"}, json.dumps({"error": error}))
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                keep = {k: v for k, v in resp.getheaders() if k.lower() in ("content-type", "location", "range")}
                conn.close()
                self._reply(resp.status, keep, data)

            def _reply(self, status: int, headers: dict, data) -> None:
                data = data.encode() if isinstance(data, str) else data
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        super().__init__(Handler)


def test_bigquery_concurrent_update_errors_are_retried_then_raised(bq_endpoint) -> None:
    wh = new_bigquery_warehouse(bq_endpoint)
    wh.ensure_tables()
    outreach.plan(wh, "busy", _audience(2), "sms", 0.0, "kim", DAY)
    rows = outreach.ledger(wh, "busy")
    with ConflictingProxy(bq_endpoint, fail=2) as proxy:
        other = BigQueryWarehouse(PROJECT, wh.dataset, RAW_CUSTOMERS_CSV, api_endpoint=proxy.url)
        other.conflict_backoff_s = 0.01
        assert outreach._update(other, rows.iloc[0], DAY, only_if="queued", status="sending") == 1
        assert proxy.failed == 2  # two conflicts, then the third try went through
        proxy.fail, proxy.failed, other.conflict_attempts = 10**6, 0, 3
        with pytest.raises(Exception, match="Could not serialize access"):
            outreach._update(other, rows.iloc[1], DAY, only_if="queued", status="sending")
        assert proxy.failed == 3  # bounded: gave up after three tries
        other.close()
    assert outreach.ledger(wh, "busy")["status"].value_counts().to_dict() == {"sending": 1, "queued": 1}
