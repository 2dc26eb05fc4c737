"""Shadow prices: hand-computed marginal values of a cap and of a capacity, on both solvers."""

from __future__ import annotations

import copy

import pytest

from optimizer.app.pipeline import run_scenario
from optimizer.io.load import load_scenario
from optimizer.schema.scenario import Scenario
from optimizer.solve.status import SolverOptions
from tests.conftest import CASES


def test_country_cap_shadow_price(solver: str) -> None:
    # tests/cases/country_cap.yaml: CN may carry 60%. One more point of CN moves one
    # unit of ndpr (100 t) from au_lynas (70) to cn_baotou (50): saves 20; for dy
    # (20 t) 0.2 unit from us_mp (400) to cn_baotou (300): saves 20.
    run = run_scenario(
        load_scenario(CASES / "country_cap.yaml").scenario, SolverOptions(solver=solver)
    )
    table = run.plan.shadow_prices
    caps = table[table["constraint"] == "country_share"].set_index("material")
    assert caps.loc["ndpr_oxide", "per_step"] == pytest.approx(20.0)
    assert caps.loc["dy_oxide", "per_step"] == pytest.approx(20.0)
    assert caps.loc["ndpr_oxide", "marginal"] == pytest.approx(-2000.0)  # per unit of share
    assert caps.loc["ndpr_oxide", "subject"] == "CN"
    assert caps.loc["ndpr_oxide", "policy_path"] == "policy.max_country_share.CN"
    assert run.plan.shadow_note.startswith("LP duals")
    if solver == "highs":
        # the saving holds up to where au_lynas has nothing left to give up: CN at 100%
        row = caps.loc["ndpr_oxide"]
        assert row["range_low"] <= 0.6 <= row["range_high"]


CAPACITY = {
    "name": "capacity-price",
    "horizon": {"periods": 1},
    "materials": {"m": {"demand": 10, "shortage_cost": 1000}},
    "suppliers": {
        "cheap": {"country": "AU", "offers": {"m": {"price": 10, "capacity": 6}}},
        "dear": {"country": "US", "offers": {"m": {"price": 15, "capacity": 100}}},
    },
}


def test_capacity_shadow_price(solver: str) -> None:
    # 6 units from `cheap` (10) at its capacity, 4 from `dear` (15): one more unit of
    # cheap capacity replaces a dear unit and saves 15 - 10 = 5.
    run = run_scenario(Scenario.model_validate(CAPACITY), SolverOptions(solver=solver))
    table = run.plan.shadow_prices
    row = table[(table["constraint"] == "capacity") & (table["subject"] == "cheap")]
    assert len(row) == 1
    assert row["per_step"].iloc[0] == pytest.approx(5.0)
    assert row["used"].iloc[0] == pytest.approx(6.0)
    assert not (table["subject"] == "dear").any()  # not binding: no value


def test_milp_shadow_prices_say_how(solver: str) -> None:
    run = run_scenario(
        load_scenario(CASES / "min_order.yaml").scenario, SolverOptions(solver=solver)
    )
    assert run.plan.shadow_note.startswith("MILP: duals of the LP")


def _objective(data: dict) -> float:
    return run_scenario(Scenario.model_validate(data), SolverOptions(solver="highs")).plan.objective


def _with_capacity(data: dict, supplier: str, material: str, capacity: float) -> dict:
    out = copy.deepcopy(data)
    out["suppliers"][supplier]["offers"][material]["capacity"] = capacity
    return out


def test_capacity_range_by_hand_and_by_re_solving() -> None:
    """cheap saves 15 - 10 = 5 per unit while it replaces dear units: from 0 up to 10
    (all the demand); beyond 10 one more unit saves nothing."""
    run = run_scenario(Scenario.model_validate(CAPACITY), SolverOptions(solver="highs"))
    row = run.plan.shadow_prices.set_index("subject").loc["cheap"]
    assert (row["range_low"], row["range_high"]) == pytest.approx((0.0, 10.0))
    assert row["unit"] == "t/period"
    base = run.plan.objective
    for cap in (7.0, 9.5, 10.0):  # within the range: 5 per unit
        assert base - _objective(_with_capacity(CAPACITY, "cheap", "m", cap)) == pytest.approx(
            5.0 * (cap - 6.0)
        )
    beyond = _objective(_with_capacity(CAPACITY, "cheap", "m", 12.0))
    assert base - beyond == pytest.approx(5.0 * 4.0)  # 2 units past the range save nothing


TWO_STAGE = {
    "name": "two-stage-range",
    "horizon": {"periods": 2},
    "materials": {"m": {"demand": 10, "shortage_cost": 500}},
    "suppliers": {
        "cn": {"country": "CN", "offers": {"m": {"price": 10, "capacity": 20}}},
        "au": {"country": "AU", "offers": {"m": {"price": 30, "capacity": 4}}},
    },
    "disruptions": [
        {"name": "halt", "probability": 0.3, "effects": [{"country": "CN", "availability": 0}]},
        {"name": "slow", "probability": 0.2, "effects": [{"country": "CN", "availability": 0.5}]},
    ],
}


def test_two_stage_capacity_value_holds_over_its_range() -> None:
    """au's capacity enters its plan bound and every scenario's spot row: the value and the
    range reported agree with re-solving the whole model with more capacity."""
    run = run_scenario(Scenario.model_validate(TWO_STAGE), SolverOptions(solver="highs"))
    table = run.plan.shadow_prices
    rows = table[(table["constraint"] == "capacity") & (table["subject"] == "au")]
    assert not rows.empty
    row = rows.iloc[0]
    assert row["period"] in (1, 2)
    per_unit, high = float(row["per_step"]), float(row["range_high"])
    assert high > 4.0
    base = run.plan.objective
    data = copy.deepcopy(TWO_STAGE)
    caps = [4.0, 4.0]
    step = min(high, 50.0) - 4.0
    caps[int(row["period"]) - 1] = 4.0 + step / 2
    data["suppliers"]["au"]["offers"]["m"]["capacity"] = caps
    assert base - _objective(data) == pytest.approx(per_unit * step / 2, rel=1e-9)
