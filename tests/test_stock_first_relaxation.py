"""The rows that come with each stock-before-shortage binary (DESIGN §4, docs/DESIGN.md):
`below >= ss * q` and `endshort >= E * q`. They hold for every plan of the MILP, so the
optimum stays; the relaxation they give is worked out by hand here."""

from __future__ import annotations

import highspy
import numpy as np
import pytest

from optimizer.app.pipeline import run_scenario
from optimizer.model.build import build_model
from optimizer.model.parameters import build_parameters
from optimizer.schema.scenario import Scenario
from optimizer.solve.highs import pass_model
from optimizer.solve.status import SolverOptions


def case(end_stock: float = 0.0) -> dict:
    """One period, demand 10, shortage 20 per unit, 10 in stock, safety stock 10 at 50 per
    unit below, no holding cost; one supplier at 1000 per unit, capacity 100."""
    return {
        "name": "rows",
        "horizon": {"periods": 1, "period_days": 30},
        "materials": {
            "m": {
                "demand": 10,
                "shortage_cost": 20,
                "holding_cost": 0,
                "initial_inventory": 10,
                "safety_stock": 10,
                "safety_stock_penalty": 50,
                "end_stock": end_stock,
                "end_stock_penalty": 20,
            }
        },
        "suppliers": {"s": {"country": "XX", "offers": {"m": {"price": 1000, "capacity": 100}}}},
    }


def relaxation(data: dict) -> float:
    """The model with the binary of (m, period 1), solved with the binary relaxed."""
    model = build_model(
        build_parameters(Scenario.model_validate(data)), complement=frozenset({(0, 0)})
    )
    form = model.matrix
    assert form is not None and int(form.integer.sum()) == 1
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    pass_model(h, form)
    cols = np.flatnonzero(form.integer).astype(np.int32)
    h.changeColsIntegrality(cols.size, cols, np.zeros(cols.size, dtype=np.uint8))
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return float(h.getInfo().objective_function_value)


def test_the_lp_breaks_the_rule_and_the_milp_keeps_its_optimum() -> None:
    # Without the rule: short all 10 (20 each) and keep the 10 for the target: 200.
    # With it, short > 0 empties the shelf: use the stock (below 10: 500) or buy 10 at
    # 1000: the optimum is 500, no shortage, stock 0.
    result = run_scenario(Scenario.model_validate(case()), SolverOptions())
    assert result.plan.objective == pytest.approx(500, rel=1e-9)
    assert result.plan.costs["shortage"] == pytest.approx(0, abs=1e-9)
    assert result.plan.costs["safety_stock"] == pytest.approx(500, rel=1e-9)
    assert result.model_size["binaries"] == 1


def test_the_relaxation_prices_the_rule() -> None:
    # Cap = 10 in stock + 100 capacity = 110; x = 0 (1000 a unit is never worth it).
    # short s <= 10 q, stock s <= 110 (1 - q), below >= 10 - s.
    # Big-M rows alone: q = 11/12, s = 110/12; 20 s + 50 (10 - s) = 500 - 30 s = 225.
    # With below >= 10 q >= s: 20 s + 50 max(10 - s, s), least at s = 5: 350.
    assert relaxation(case()) == pytest.approx(350, rel=1e-9)


def test_the_end_stock_row_at_the_last_period() -> None:
    # End stock 10 at 20 a unit too: endshort >= 10 - s and endshort >= 10 q >= s.
    # Cost 20 s + (50 + 20) max(10 - s, s), least at s = 5: 100 + 350 = 450
    # (without the two rows: 20 s + 70 (10 - s) at s = 110/12: 700 - 50 s = 241.67).
    assert relaxation(case(end_stock=10)) == pytest.approx(450, rel=1e-9)
