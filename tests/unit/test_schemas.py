"""The two accepted customer-file schemas, declared once (issue #13): detection, loading, derived columns."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from churn_core.config import RAW_CUSTOMERS_CSV
from churn_core.data.loading import DataValidationError, load_any_customers, load_any_customers_bytes
from churn_core.data.schema import (
    CLASSIC_FEATURES,
    LEAKAGE_COLUMNS,
    RAW_COLUMNS,
    SCHEMAS,
    detect_schema,
    missing_for,
)
from churn_core.prediction.features import FEATURE_SETS, MODEL_FEATURES
from tests.helpers.classic import classic_bytes, write_classic

pytestmark = pytest.mark.unit


def _header() -> list[str]:
    return list(pd.read_csv(RAW_CUSTOMERS_CSV, nrows=0).columns)


def test_one_declaration_of_both_schemas_and_their_features() -> None:
    assert set(SCHEMAS) == {"extended", "classic"}
    assert SCHEMAS["extended"].raw_columns == RAW_COLUMNS
    # the classic Kaggle file is exactly the first 21 columns of the shipped extended file
    assert list(SCHEMAS["classic"].raw_columns) == _header()[:21]
    assert SCHEMAS["classic"].raw_columns[-1] == "Churn"
    assert SCHEMAS["classic"].features == CLASSIC_FEATURES and len(CLASSIC_FEATURES) == 19
    assert SCHEMAS["extended"].features == MODEL_FEATURES
    assert {name: spec.features for name, spec in SCHEMAS.items()} == FEATURE_SETS
    for spec in SCHEMAS.values():
        assert not set(spec.features) & set(LEAKAGE_COLUMNS)
        assert set(spec.features) <= set(spec.columns)  # every feature the schema provides is in its table
    assert SCHEMAS["classic"].not_derivable == {"age_group": "Age"}


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (slice(None), "extended"),
        (slice(0, 21), "classic"),  # with Churn
        (slice(0, 20), "classic"),  # without Churn: a file to score
    ],
)
def test_detect_schema_from_raw_header(columns: slice, expected: str) -> None:
    assert detect_schema(_header()[columns]) == expected


def test_detect_schema_from_warehouse_names_and_near_misses() -> None:
    assert detect_schema(SCHEMAS["classic"].columns) == "classic"
    assert detect_schema(SCHEMAS["extended"].columns) == "extended"
    classic = _header()[:21]
    # a classic file missing a column is still read as classic, so validation names that column
    assert detect_schema([c for c in classic if c != "Contract"]) == "classic"
    # an extended file missing a classic column is closer to the extended schema
    assert detect_schema([c for c in _header() if c != "Contract"]) == "extended"


@pytest.mark.parametrize("misspelled", ["Offer", "Age", "Number of Referrals"])
def test_an_extended_file_missing_one_extended_column_stays_extended(misspelled: str) -> None:
    # not read as classic (which would score it with the classic model, or build a classic warehouse
    # dropping 31 columns): validation / the mapping step must name the misspelled column instead
    header = [f"{c}x" if c == misspelled else c for c in _header()]
    assert detect_schema(header) == "extended"
    # a classic file with one or two extra extended columns is still classic
    assert detect_schema([*_header()[:21], "Age", misspelled]) == "classic"


def test_missing_columns_named_as_users_know_them() -> None:
    have = SCHEMAS["classic"].columns
    assert missing_for(have, ("age_group", "offer", "cltv", "contract")) == ["Age", "Offer", "CLTV"]
    assert missing_for(SCHEMAS["extended"].columns, ("age_group", "offer")) == []


def test_classic_file_loads_with_the_derived_columns_it_allows(tmp_path, customers) -> None:
    df = load_any_customers(write_classic(tmp_path))
    assert df.attrs["schema"] == "classic"
    assert tuple(df.columns) == SCHEMAS["classic"].columns
    assert "age_group" not in df and "age" not in df
    assert len(df) == len(customers)
    ext = customers.set_index("customer_id").loc[df["customer_id"]]
    for col in (*CLASSIC_FEATURES, "churn_flag", "tenure_band", "total_charges_was_blank"):
        assert (df[col].to_numpy() == ext[col].to_numpy()).all(), col
    # is_senior from SeniorCitizen equals the extended file's Age >= 65
    assert (df["is_senior"].to_numpy() == ext["is_senior"].to_numpy()).all()
    # n_services counts the 9 services a classic file has (no streaming music, no unlimited data)
    extra = (ext["streaming_music"] == "Yes").astype(int) + (ext["unlimited_data"] == "Yes").astype(int)
    assert (df["n_services"].to_numpy() == (ext["n_services"] - extra).to_numpy()).all()
    assert df["n_services"].between(0, 9).all()


def test_extended_file_loads_as_before(customers) -> None:
    df = load_any_customers(RAW_CUSTOMERS_CSV)
    assert df.attrs["schema"] == "extended"
    pd.testing.assert_frame_equal(df, customers)


def test_a_broken_classic_file_names_column_and_line() -> None:
    raw = pd.read_csv(io.BytesIO(classic_bytes(rows=50)), dtype=str, keep_default_na=False)
    raw.loc[4, "Contract"] = "Forever"
    with pytest.raises(DataValidationError) as err:
        load_any_customers_bytes(raw.to_csv(index=False).encode(), "classic.csv")
    problems = err.value.problems
    assert list(problems["column"]) == ["Contract"]
    assert problems["lines"].iloc[0] == [6]  # row 4 is CSV line 6 (line 1 is the header)


def test_a_classic_warehouse_file_needs_churn() -> None:
    with pytest.raises(DataValidationError) as err:
        load_any_customers_bytes(classic_bytes(churn=False, rows=20), "no_churn.csv")
    assert list(err.value.problems["column"]) == ["Churn"]
