"""Campaign outcomes (issue #15): the treatment-effect simulation, the outcome file import, outcomes
from the snapshots, and the treated-vs-control report checked against statsmodels and by hand."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats import proportion as sm_proportion

from churn_core.data.tables import OUTBOX, OUTCOMES
from churn_core.outreach import outcomes
from churn_core.outreach.outcomes import TREATMENT_EFFECTS, OutcomeFileError, simulated_churn
from churn_core.prediction.business import Economics

pytestmark = pytest.mark.unit

PLANNED = dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.UTC)
CONTRACTS = ("Month-to-month", "One year", "Two year")


def _customers(store, n: int, charges: float = 50.0) -> list[str]:
    ids = [f"C{i:04d}" for i in range(n)]
    contract = [CONTRACTS[i % 3] for i in range(n)]
    store.replace_table("customers", pd.DataFrame({"customer_id": ids, "contract": contract,
                                                   "monthly_charges": charges + np.arange(n) % 7}))  # fmt: skip
    return ids


def _ledger(store, campaign: str, ids: list[str], control: list[bool], status: str = "recorded") -> None:
    rows = pd.DataFrame({name: None for name, _ in OUTBOX.columns}, index=range(len(ids)))
    rows = rows.assign(campaign_id=campaign, customer_id=ids, channel="sms", is_control=control,
                       status=np.where(control, "skipped", status), attempts=1, created_at=PLANNED,
                       updated_at=PLANNED)  # fmt: skip
    store.merge_rows("outbox", rows)


def _outcomes(store, campaign: str, ids: list[str], churned: list[bool], source: str = "import") -> None:
    store.merge_rows("campaign_outcomes", pd.DataFrame({
        "campaign_id": campaign, "customer_id": ids, "churned": churned, "observed_at": dt.date(2026, 11, 15),
        "source": source, "outcome_id": None, "assumption": None, "recorded_at": PLANNED,
    }))  # fmt: skip


def _campaign(store, campaign: str, n_t: int, k_t: int, n_c: int, k_c: int) -> list[str]:
    ids = _customers(store, n_t + n_c)
    control = [i >= n_t for i in range(n_t + n_c)]
    churned = [i < k_t for i in range(n_t)] + [i < k_c for i in range(n_c)]
    _ledger(store, campaign, ids, control)
    _outcomes(store, campaign, ids, churned)
    return ids


# -- simulation --------------------------------------------------------------------------------------
def test_simulated_churn_follows_the_assumption_within_sampling_error() -> None:
    n = 20_000
    rng = np.random.default_rng(7)
    base = rng.uniform(0.1, 0.6, n)
    treated = rng.random(n) < 0.5
    contract = rng.choice(CONTRACTS, n)
    churn = simulated_churn(base, treated, contract, "m2m_only", np.random.default_rng(3))
    assert churn.dtype == bool and churn.shape == (n,)
    for kind, reduction in TREATMENT_EFFECTS["m2m_only"].items():
        for is_treated in (True, False):
            group = (contract == kind) & (treated == is_treated)
            expected = base[group].mean() * (1 - reduction if is_treated else 1)
            low, high = sm_proportion.proportion_confint(churn[group].sum(), group.sum(), alpha=0.001, method="wilson")
            assert low < expected < high, (kind, is_treated, expected, low, high)
    again = simulated_churn(base, treated, contract, "m2m_only", np.random.default_rng(3))
    assert np.array_equal(churn, again)  # seeded: reproducible
    none = simulated_churn(base, treated, contract, "none", np.random.default_rng(3))
    control_draw = simulated_churn(base, np.zeros(n, bool), contract, "none", np.random.default_rng(3))
    assert np.array_equal(none, control_draw)  # "none": the offer changes nothing


def test_simulated_churn_refuses_bad_input() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(KeyError, match="known"):
        simulated_churn([0.2], [True], ["One year"], "huge", rng)
    with pytest.raises(ValueError, match="'Three year'"):
        simulated_churn([0.2], [True], ["Three year"], "uniform", rng)
    with pytest.raises(ValueError, match=r"positions \[1\]"):
        simulated_churn([0.2, 1.5], [True, False], ["One year"] * 2, "uniform", rng)
    with pytest.raises(ValueError, match="lengths differ"):
        simulated_churn([0.2], [True, False], ["One year"], "uniform", rng)


def _scores(store, ids: list[str], p: float) -> None:
    store.append_rows("scores", pd.DataFrame({"run_id": "r1", "customer_id": ids, "churn_probability": p,
                      "risk_score": 100 * p, "risk_tier": "high", "expected_profit_usd": 0.0, "clv_usd": 0.0,
                      "revenue_at_risk_12m_usd": 0.0, "scored_at": PLANNED}))  # fmt: skip
    store.append_rows("model_runs", pd.DataFrame([{"run_id": "r1", "kind": "score", "model_sha256": "x",
                      "backend": "duckdb", "started_at": PLANNED, "finished_at": PLANNED, "n_rows": len(ids),
                      "status": "done", "details": "{}"}]))  # fmt: skip


def test_simulated_outcomes_have_syn_ids_and_are_labelled_simulated(store) -> None:
    ids = _customers(store, 300)
    _ledger(store, "sim", ids, [i % 2 == 0 for i in range(300)])
    with pytest.raises(ValueError, match=r"300 customer.*lack a stored churn probability"):
        outcomes.simulate_outcomes(store, "sim", "m2m_only", seed=1)  # no score run yet: nothing written
    assert outcomes.campaign_outcomes(store, "sim").empty
    _scores(store, ids, 0.4)
    done = outcomes.simulate_outcomes(store, "sim", "m2m_only", seed=1)
    assert done.written == 300 and done.simulated
    rows = outcomes.campaign_outcomes(store, "sim")
    assert rows["outcome_id"].str.startswith("SYN-").all() and rows["outcome_id"].is_unique
    assert set(rows["source"]) == {"simulated"} and set(rows["assumption"]) == {"m2m_only"}
    assert set(rows["observed_at"]) == {dt.date(2026, 10, 31)}  # planning day + 30
    first = rows.set_index("customer_id")["churned"]
    again = outcomes.simulate_outcomes(store, "sim", "m2m_only", seed=1)  # replaces, same draw
    assert again.replaced_simulated == 300
    assert outcomes.campaign_outcomes(store, "sim").set_index("customer_id")["churned"].equals(first)
    report = outcomes.campaign_report(store, "sim")
    assert report.simulated and report.assumption == "m2m_only" and report.sources == ("simulated",)
    table = outcomes.report_table(report, "en")
    assert table.iloc[:, 0].str.startswith("[Simulated · m2m_only] ").all()  # every row says so
    assert outcomes.report_figure(report, "en").layout.title.text.startswith("[Simulated · m2m_only]")
    real = outcomes.import_outcomes(store, f"customerID,churned,observed_at\n{ids[0]},yes,2026-11-01\n".encode())
    assert real.written == 1 and real.replaced_simulated == 300  # an observed outcome ends the simulation
    assert not outcomes.campaign_report(store, "sim").simulated
    with pytest.raises(ValueError, match="real outcomes"):
        outcomes.simulate_outcomes(store, "sim", "none", seed=2)


# -- the report against statsmodels and by hand -----------------------------------------------------
def _wilson(k: int, n: int) -> tuple[float, float]:
    z, p = 1.959963984540054, k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_report_matches_statsmodels_and_hand_computed_counts(store) -> None:
    ids = _campaign(store, "c1", n_t=200, k_t=40, n_c=100, k_c=30)
    r = outcomes.campaign_report(store, "c1")
    assert (r.n_treated, r.churned_treated, r.n_control, r.churned_control) == (200, 40, 100, 30)
    assert r.rate_treated == pytest.approx(0.2) and r.rate_control == pytest.approx(0.3)
    assert r.ci_treated == pytest.approx(_wilson(40, 200), abs=1e-9)
    assert r.ci_control == pytest.approx(_wilson(30, 100), abs=1e-9)
    assert r.difference == pytest.approx(0.1)
    assert r.ci_difference == pytest.approx(sm_proportion.confint_proportions_2indep(30, 100, 40, 200, method="score"))
    assert r.ci_difference[0] < 0.1 < r.ci_difference[1]
    assert r.p_value == pytest.approx(sm_proportion.test_proportions_2indep(30, 100, 40, 200, method="score").pvalue)
    pooled = 70 / 300  # the score test of no difference is close to the pooled z-test
    z = 0.1 / math.sqrt(pooled * (1 - pooled) * (1 / 100 + 1 / 200))
    assert r.p_value == pytest.approx(math.erfc(z / math.sqrt(2)), rel=0.05)
    assert r.kept == pytest.approx(0.1 * 200) and r.ci_kept == pytest.approx(tuple(200 * x for x in r.ci_difference))
    economics = Economics.from_settings()
    charges = store.query("SELECT monthly_charges FROM {customers}")["monthly_charges"].to_numpy()[:200]
    value = economics.value_months * charges.mean()
    per_sms = outcomes.message_costs()["sms"]
    assert r.messages == 200 and r.value_per_customer_usd == pytest.approx(value)
    assert r.discount_cost_usd == pytest.approx(200 * economics.offer_cost_usd)
    assert r.message_cost_usd == pytest.approx(200 * per_sms)
    net = 20 * value - 200 * economics.offer_cost_usd - 200 * per_sms
    assert r.net_revenue_usd == pytest.approx(net)
    assert r.too_small and r.too_small_reason == "power"  # 100 controls cannot show a 10-point difference
    assert not r.simulated and r.without_outcome == 0
    assert len(ids) == 300


def test_control_group_too_small_to_tell(store) -> None:
    _campaign(store, "tiny", n_t=200, k_t=40, n_c=20, k_c=6)
    tiny = outcomes.campaign_report(store, "tiny")
    assert tiny.too_small and tiny.too_small_reason == "group"
    assert tiny.detectable_difference > outcomes.MAX_DETECTABLE_DIFFERENCE
    every = _campaign(store, "all", n_t=190, k_t=30, n_c=10, k_c=10)  # every control churned: no score interval
    r = outcomes.campaign_report(store, "all")
    newcombe = sm_proportion.confint_proportions_2indep(10, 10, 30, 190, method="newcomb")
    assert r.ci_difference == pytest.approx(newcombe) and 0 < r.p_value < 1e-6 and len(every) == 200


def test_large_balanced_groups_can_tell(store) -> None:
    big = _campaign(store, "big", n_t=2000, k_t=500, n_c=2000, k_c=600)
    r = outcomes.campaign_report(store, "big")
    assert not r.too_small and r.too_small_reason is None
    assert r.detectable_difference < outcomes.MAX_DETECTABLE_DIFFERENCE
    assert r.p_value < 0.001 and len(big) == 4000


def test_report_counts_customers_without_an_outcome_and_refuses_none(store) -> None:
    ids = _customers(store, 60)
    _ledger(store, "wait", ids, [i % 2 == 1 for i in range(60)])
    with pytest.raises(outcomes.NoOutcomesError, match="no outcomes yet"):
        outcomes.campaign_report(store, "wait")
    with pytest.raises(outcomes.NoOutcomesError, match="no planned customers"):
        outcomes.campaign_report(store, "nobody")
    _outcomes(store, "wait", ids[:50], [False] * 50)
    r = outcomes.campaign_report(store, "wait")
    assert r.without_outcome == 10 and r.n_treated + r.n_control == 50


# -- import ------------------------------------------------------------------------------------------
def test_a_bad_outcome_file_names_lines_and_columns_and_writes_nothing(store) -> None:
    ids = _customers(store, 10)
    _ledger(store, "imp", ids, [False] * 10)
    _outcomes(store, "imp", ids[:1], [True])
    before = outcomes.campaign_outcomes(store)
    bad = (
        "customerID,churned,observed_at\n"
        f"{ids[0]},yes,2026-11-15\n"  # line 2: fine
        f"{ids[1]},maybe,2026-11-15\n"  # line 3: churned
        f"{ids[2]},no,30/13/2026\n"  # line 4: date
        f"{ids[3]},no,2026-11-15\n"  # line 5 and 6: the same customer twice
        f"{ids[3]},yes,2026-11-15\n"
        f",no,2026-11-15\n"  # line 7: no id
        f"{ids[4]},no,2999-01-01\n"  # line 8: the future
    )
    with pytest.raises(OutcomeFileError) as err:
        outcomes.import_outcomes(store, bad.encode(), source="bad.csv")
    problems = err.value.problems.set_index("reason")
    lines = {r.rsplit(" on ", 1)[0]: (row["column"], row["lines"]) for r, row in problems.iterrows()}
    assert lines["not yes/no, true/false or 1/0"] == ("churned", [3])
    assert lines["not a date (YYYY-MM-DD)"] == ("observed_at", [4])
    assert lines["customer on several lines"] == ("customerID", [5, 6])
    assert lines["empty customer id"] == ("customerID", [7])
    assert next(v for k, v in lines.items() if k.startswith("date after today")) == ("observed_at", [8])
    assert "bad.csv" in str(err.value) and "nothing was loaded" in str(err.value)
    pd.testing.assert_frame_equal(outcomes.campaign_outcomes(store), before)  # nothing written
    with pytest.raises(OutcomeFileError, match=r"churned.*missing"):
        outcomes.import_outcomes(store, b"customerID,observed_at\nC0001,2026-11-15\n", source="cols.csv")
    pd.testing.assert_frame_equal(outcomes.campaign_outcomes(store), before)


def test_import_matches_campaigns_planned_before_and_replaces_simulated(store) -> None:
    ids = _customers(store, 40)
    _ledger(store, "a", ids[:30], [i % 3 == 0 for i in range(30)])
    _scores(store, ids, 0.3)
    outcomes.simulate_outcomes(store, "a", "uniform", seed=4)
    text = "Customer_ID;Churn;Observed date\n" + "".join(
        f"{c};{'Yes' if i % 4 == 0 else 'No'};{'2026-09-01' if i == 5 else '2026-11-15'}\n" for i, c in enumerate(ids)
    )  # semicolons, other header spellings; line of ids[5] observed before the campaign
    done = outcomes.import_outcomes(store, text.encode("utf-8-sig"), source="obs.csv")
    assert done.written == 29 and done.campaigns == ("a",) and done.replaced_simulated == 30
    assert done.unmatched == 11 and ids[5] in done.unmatched_examples  # 10 not in the campaign, 1 too early
    rows = outcomes.campaign_outcomes(store, "a")
    assert set(rows["source"]) == {"import"} and len(rows) == 29
    assert rows.set_index("customer_id").loc[ids[4], "churned"]
    assert not outcomes.campaign_report(store, "a").simulated


# -- snapshots ---------------------------------------------------------------------------------------
def test_outcomes_from_snapshots_take_the_first_observation_after_planning(store) -> None:
    ids = _customers(store, 4)
    _ledger(store, "snap", ids, [False, False, True, True])
    rows = pd.DataFrame(
        {
            "snapshot_date": [dt.date(2026, 9, 30)] * 4 + [dt.date(2026, 8, 31), dt.date(2026, 10, 31)],
            "customer_id": ["SYN-" + ids[0], ids[1], ids[2], "OTHER", ids[3], ids[3]],
            "churned": [True, False, True, True, True, False],
            "observed_date": [dt.date(2026, 10, 31)] * 4 + [dt.date(2026, 9, 30), dt.date(2026, 11, 15)],
            "rule": "r",
            "recorded_at": PLANNED,
        }
    )  # ids[3]: observed only before planning, or from a snapshot after it: no outcome yet
    store.merge_rows(OUTCOMES.name, rows)
    done = outcomes.outcomes_from_snapshots(store, "snap")
    assert done.written == 3 and done.unmatched == 1 and done.unmatched_examples == (ids[3],)
    got = outcomes.campaign_outcomes(store, "snap").set_index("customer_id")
    assert got["churned"].to_dict() == {ids[0]: True, ids[1]: False, ids[2]: True}  # SYN- lineage matched
    assert set(got["source"]) == {"snapshot"} and set(got["observed_at"]) == {dt.date(2026, 10, 31)}
