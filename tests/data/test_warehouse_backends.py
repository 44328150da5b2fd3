"""One warehouse interface, two backends: the same calls give the same results on DuckDB
and on the local BigQuery emulator (real ``google-cloud-bigquery`` client)."""

from __future__ import annotations

import datetime as dt
import shutil

import pandas as pd
import pytest

from churn_core.config import RAW_CUSTOMERS_CSV, Settings
from churn_core.data import customers
from churn_core.data.loading import file_sha256
from churn_core.data.tables import TABLES
from churn_core.data.warehouse import BigQueryWarehouse, DuckDBWarehouse, open_warehouse
from churn_core.prediction.at_risk import at_risk_seniors, at_risk_seniors_from_scores
from churn_core.prediction.batch import latest_run, score_warehouse
from churn_core.prediction.business import Economics
from churn_core.prediction.training import MODEL_FILE
from churn_core.studio import STUDIO_ENRICH
from tests.helpers.warehouses import new_bigquery_warehouse

pytestmark = pytest.mark.data

ROWS = pd.DataFrame(
    {
        "source": ["kt", "kt", "learning_centre"],
        "place_type": ["plaza", "store", "centre"],
        "name": ["광화문 플라자", "종로점", "종로 디지털배움터"],
        "address": ["서울특별시 종로구 세종대로 178", "서울 종로구 종로 1", None],
        "phone": ["+8227270000", None, None],
        "detail_url": [None, None, "https://www.xn--2z1bw8k1pjz5ccumkb.kr/edc/crse/placeDetail.do?id=1"],
        "gu": ["종로구"] * 3,
        "dong": ["세종로", "종로1가", None],
        "lat": [37.5721, 37.5702, 37.5730],
        "lon": [126.9769, 126.9819, 126.9790],
        "geocode_precision": ["dong", "dong", "gu"],
        "geocoder": ["offline"] * 3,
        "scraped_at": ["2023-11-20"] * 3,
    }
)


@pytest.fixture
def fresh(request, tmp_path):
    """An empty, unbuilt warehouse of each backend, private to the test."""
    raw = tmp_path / "raw.csv"
    shutil.copy(RAW_CUSTOMERS_CSV, raw)
    if request.param == "duckdb":
        wh = DuckDBWarehouse(tmp_path / "w.duckdb", raw, enrich=STUDIO_ENRICH)
    else:
        wh = new_bigquery_warehouse(request.getfixturevalue("bq_endpoint"), raw)
    yield wh
    wh.close()


both = pytest.mark.parametrize("fresh", ["duckdb", "bigquery"], indirect=True)


@both
def test_declared_tables_have_the_same_schema_on_both_backends(fresh) -> None:
    fresh.ensure_built()
    for name, spec in TABLES.items():
        assert fresh.schema(name) == dict(spec.columns), name
    assert fresh.schema("customers")["customer_id"] == "STRING"
    assert fresh.schema("customers")["tenure"] == "INT64"
    assert fresh.schema("customers")["is_senior"] == "BOOL"
    with pytest.raises(KeyError):
        fresh.schema("no_such_table")


def test_customers_schema_is_identical_across_backends(duckdb_warehouse, bigquery_warehouse) -> None:
    assert duckdb_warehouse.schema("customers") == bigquery_warehouse.schema("customers")
    a = duckdb_warehouse.query("SELECT * FROM {customers} ORDER BY customer_id")
    b = bigquery_warehouse.query("SELECT * FROM {customers} ORDER BY customer_id")
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


@both
def test_replace_append_query_and_dml(fresh) -> None:
    fresh.ensure_built()
    assert fresh.replace_table("locations", ROWS) == 3
    assert fresh.append_rows("locations", ROWS.iloc[:1]) == 1
    got = fresh.query("SELECT name, lat FROM {locations} WHERE gu = @gu ORDER BY name, lat", {"gu": "종로구"})
    assert got["name"].tolist() == ["광화문 플라자", "광화문 플라자", "종로 디지털배움터", "종로점"]
    fresh.execute("UPDATE {locations} SET phone = @p WHERE name = @n", {"p": "+8221234567", "n": "종로점"})
    phone = fresh.query("SELECT phone FROM {locations} WHERE name = '종로점'")["phone"].tolist()
    assert phone == ["+8221234567"]
    # replace drops the old rows; nulls survive the round trip
    fresh.replace_table("locations", ROWS)
    back = fresh.query("SELECT * FROM {locations} ORDER BY name")
    assert len(back) == 3 and back["address"].isna().sum() == 1
    arrow = fresh.query_arrow("SELECT COUNT(*) AS n FROM {locations}")
    assert arrow.column("n").to_pylist() == [3]


@both
def test_undeclared_columns_are_refused_with_their_names(fresh) -> None:
    fresh.ensure_built()
    with pytest.raises(ValueError, match=r"missing columns \['source'.*undeclared columns \['oops'\]"):
        fresh.replace_table("locations", ROWS.drop(columns="source").assign(oops=1))
    with pytest.raises(KeyError, match="unknown table placeholder"):
        fresh.query("SELECT * FROM {nope}")


@both
def test_rebuild_replaces_customers_but_keeps_other_tables(fresh) -> None:
    fresh.ensure_built()
    fresh.replace_table("locations", ROWS)
    df = pd.read_csv(fresh.raw_csv, dtype=str, keep_default_na=False)
    df.loc[:9, "Contract"] = "Two year"
    fresh.raw_csv.write_bytes(df.to_csv(index=False).encode())
    assert not fresh.is_current()
    assert fresh.ensure_built() is True
    assert fresh.meta()["raw_sha256"] == file_sha256(fresh.raw_csv)
    assert fresh.query("SELECT COUNT(*) AS n FROM {locations}")["n"].iloc[0] == 3
    assert customers.customer_count(fresh) == 7043


@both
def test_iter_batches_streams_bounded_chunks(fresh) -> None:
    fresh.ensure_built()
    sizes = [len(b) for b in fresh.iter_batches("SELECT customer_id FROM {customers}", batch_size=1000)]
    assert sum(sizes) == 7043 and max(sizes) <= 1000 and len(sizes) >= 8


def test_sample_is_deterministic_and_bounded(warehouse) -> None:
    a = customers.customer_sample(warehouse, 500)
    b = customers.customer_sample(warehouse, 500)
    assert len(a) == 500 and a["customer_id"].is_unique
    assert a["customer_id"].tolist() == b["customer_id"].tolist()
    seniors = customers.customer_sample(warehouse, 100_000, seniors_only=True, columns=("customer_id", "age"))
    assert len(seniors) == customers.customer_count(warehouse, seniors_only=True) == 1142
    assert (seniors["age"] >= 65).all()


@both
def test_batch_scores_and_clv_are_written_back(fresh, bundle) -> None:
    fresh.ensure_built()
    sha = file_sha256(bundle_dir() / MODEL_FILE)
    economics = Economics.from_settings()
    result = score_warehouse(fresh, bundle.model, sha, economics, chunk_rows=2500, fit_rows=3000)
    assert result["status"] == "done" and result["n_rows"] == 7043
    scores = fresh.query("SELECT * FROM {scores}")
    assert len(scores) == 7043 and scores["customer_id"].is_unique
    assert scores["churn_probability"].between(0, 1).all() and (scores["clv_usd"] > 0).all()
    run = latest_run(fresh, sha)
    assert run is not None and run["run_id"] == result["run_id"] and run["n_rows"] == 7043
    # the outreach audience read from the warehouse equals scoring the seniors in memory
    from_scores = at_risk_seniors_from_scores(fresh, run["run_id"], economics)
    seniors = customers.customer_sample(fresh, 100_000, seniors_only=True)
    in_memory = at_risk_seniors(bundle.model, seniors, economics)
    assert set(from_scores["customer_id"]) == set(in_memory["customer_id"])
    assert len(from_scores) > 300
    # a second run replaces the first run's rows
    again = score_warehouse(fresh, bundle.model, sha, economics, chunk_rows=5000, fit_rows=3000)
    assert fresh.query("SELECT COUNT(DISTINCT run_id) AS n, COUNT(*) AS r FROM {scores}").iloc[0].tolist() == [1, 7043]
    assert latest_run(fresh, sha)["run_id"] == again["run_id"]
    assert len(fresh.query("SELECT * FROM {model_runs}")) == 2


def test_settings_select_the_backend(tmp_path, bq_endpoint) -> None:
    duck = open_warehouse(Settings(warehouse_path=tmp_path / "x.duckdb"))
    assert isinstance(duck, DuckDBWarehouse) and duck.describe()["backend"] == "duckdb"
    bq = open_warehouse(
        Settings(warehouse_backend="bigquery", bigquery_project="churn-test", bigquery_api_endpoint=bq_endpoint)
    )
    assert isinstance(bq, BigQueryWarehouse) and bq.describe() == {
        "backend": "bigquery",
        "location": "churn-test.churn_studio",
    }
    with pytest.raises(ValueError, match="CHURN_BIGQUERY_PROJECT"):
        open_warehouse(Settings(warehouse_backend="bigquery", bigquery_project=None))


def bundle_dir():
    from churn_core.config import get_settings

    return get_settings().models_dir


@pytest.fixture(scope="module")
def bundle():
    from churn_core.prediction.training import load_bundle

    return load_bundle(bundle_dir())


def test_timestamps_round_trip(warehouse) -> None:
    stamp = dt.datetime(2026, 11, 22, 8, 0, tzinfo=dt.UTC)
    got = warehouse.query("SELECT @t AS t", {"t": stamp})["t"].iloc[0]
    assert pd.Timestamp(got).tz_convert("UTC") == pd.Timestamp(stamp)


@both
def test_outreach_ledger_claims_and_resumes_on_both_backends(fresh) -> None:
    from churn_core.outreach import campaigns as outreach
    from churn_core.outreach import contacts
    from tests.helpers.outreach_doubles import DAY, SENDER, Clock, FakeProvider, consented

    fresh.ensure_built()
    ids = pd.DataFrame({"customer_id": [f"C{i}" for i in range(6)]})
    book = contacts.demo_contacts(ids, gus=("종로구",)).assign(
        is_demo=False, sms_consent=True, opted_out=False, night_consent=False,
        phone_e164=[f"+8210555{i:05d}" for i in range(6)],
    )  # fmt: skip
    consented(fresh, book)
    clock = Clock(DAY)
    audience = ids.assign(risk_tier="high")
    assert outreach.plan(fresh, "bq", audience, "sms", 0.0, "kim", clock())["added"] == 6
    assert outreach.plan(fresh, "bq", audience, "sms", 0.0, "kim", clock())["added"] == 0
    with pytest.raises(KeyboardInterrupt):
        outreach.send(fresh, "bq", FakeProvider(crash_after=2), SENDER, book, {}, outreach.SendOptions(
            sleep=clock.sleep, now=clock))  # fmt: skip
    clock.sleep(outreach.SendOptions().sending_timeout_s + 1)  # the crashed row is past the in-flight timeout
    counts = outreach.send(
        fresh, "bq", FakeProvider(), SENDER, book, {}, outreach.SendOptions(sleep=clock.sleep, now=clock)
    )
    assert counts["sent"] == 3 and counts["unknown_outcome"] == 1
    statuses = outreach.ledger(fresh, "bq")["status"].value_counts().to_dict()
    assert statuses == {"sent": 5, "failed": 1}
    row = outreach.ledger(fresh, "bq").iloc[0]
    # a claim on a row that is no longer queued changes nothing, on both backends
    assert outreach._update(fresh, row, clock(), only_if="queued", status="sending") == 0
