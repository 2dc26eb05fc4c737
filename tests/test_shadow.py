"""Shadow prices: hand-computed marginal values of a cap and of a capacity, on both solvers."""

from __future__ import annotations

import pytest

from optimizer.loading import load_scenario
from optimizer.pipeline import run_scenario
from optimizer.scenario import Scenario
from optimizer.solving import SolverOptions
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
    assert run.plan.shadow_note == "LP duals"


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
