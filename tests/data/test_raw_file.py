"""The real IBM Telco file passes the declared schema, and the derived columns hold."""

from __future__ import annotations

import pandas as pd
import pytest

from churn_core.analytics import eda
from churn_core.config import PROJECT_ROOT, RAW_CUSTOMERS_CSV
from churn_core.data.loading import AGE_GROUPS, SERVICE_COLUMNS, TENURE_BANDS, file_sha256
from churn_core.data.schema import COLUMNS, LEAKAGE_COLUMNS, LEAKAGE_COLUMNS_RAW, RAW_COLUMNS

pytestmark = pytest.mark.data


def test_shape_ids_and_target(customers: pd.DataFrame) -> None:
    assert customers.shape == (7043, 57)
    assert customers["customer_id"].is_unique
    assert int(customers["churn_flag"].sum()) == 1869
    assert (customers["churn_flag"] == (customers["churn"] == "Yes")).all()


SHARED_COPY = PROJECT_ROOT.parent / "shared" / "data" / "telco_customer_churn.csv"


@pytest.mark.skipif(not SHARED_COPY.exists(), reason="shared/ is not beside this checkout (it is in CI)")
def test_raw_file_is_the_shared_copy() -> None:
    assert file_sha256(SHARED_COPY) == file_sha256(RAW_CUSTOMERS_CSV)


def test_blank_total_charges_are_the_eleven_new_customers(customers: pd.DataFrame) -> None:
    blank = customers[customers["total_charges_was_blank"]]
    assert len(blank) == 11
    assert (blank["tenure"] == 0).all()
    assert (blank["total_charges"] == 0.0).all()
    assert not customers["total_charges"].isna().any()


def test_is_senior_equals_senior_citizen_flag(customers: pd.DataFrame) -> None:
    assert (customers["is_senior"].astype(int) == customers["senior_citizen"]).all()
    assert int(customers["is_senior"].sum()) == 1142


def test_age_groups_and_tenure_bands(customers: pd.DataFrame) -> None:
    assert set(customers["age_group"]) <= set(AGE_GROUPS)
    lows = {"<30": 0, "30-39": 30, "40-49": 40, "50-59": 50, "60-64": 60, "65-69": 65, "70-79": 70, "80+": 80}
    for group, low in lows.items():
        ages = customers.loc[customers["age_group"] == group, "age"]
        assert ages.min() >= low
    seniors = customers["age_group"].isin(["65-69", "70-79", "80+"])
    assert (seniors == customers["is_senior"]).all()
    assert set(customers["tenure_band"]) <= set(TENURE_BANDS)
    assert (customers.loc[customers["tenure"] <= 12, "tenure_band"] == "0-12").all()
    assert (customers.loc[customers["tenure"] >= 61, "tenure_band"] == "61-72").all()


def test_n_services_hand_checked(customers: pd.DataFrame) -> None:
    # 3668-QPYBK: phone, DSL internet, online security, online backup, unlimited data.
    row = customers.set_index("customer_id").loc["3668-QPYBK"]
    assert row["n_services"] == 5
    assert customers["n_services"].between(0, len(SERVICE_COLUMNS)).all()


def test_premium_tech_support_repeats_tech_support(customers: pd.DataFrame) -> None:
    # Documented in data/README.md; the reason premium_tech_support is not counted twice.
    assert ((customers["premium_tech_support"] == "Yes") == (customers["tech_support"] == "Yes")).all()


def test_leakage_columns_declared_and_kept_out_of_eda_features() -> None:
    assert set(LEAKAGE_COLUMNS_RAW) >= {
        "Churn Score", "Churn Score.1", "churn_rate", "Churn Category", "Churn Reason",
        "Customer Status", "CLTV", "Satisfaction Score",
    }  # fmt: skip
    features = set(eda.CATEGORICAL_FEATURES) | set(eda.NUMERIC_FEATURES)
    assert not features & set(LEAKAGE_COLUMNS)


def test_every_column_is_documented_in_the_data_readme() -> None:
    readme = (PROJECT_ROOT / "data" / "README.md").read_text(encoding="utf-8")
    for spec in COLUMNS:
        assert f"`{spec.raw}`" in readme, spec.raw
    assert len(RAW_COLUMNS) == 52
