"""Tests of the reference implementation itself, on tiny scenarios solved by hand."""

from __future__ import annotations

import numpy as np
import pytest

from tests import reference as ref


def scenario(**overrides):
    """One supplier `s` (country XX), one material `m`, two periods.

    Price 5 then 7, holding 3: buying ahead costs 5 + 3 = 8 > 7, so by default each
    period is bought in that period: 10 * 5 + 20 * 7 = 190.
    """
    data = {
        "name": "tiny",
        "horizon": {"periods": 2, "period_days": 30},
        "materials": {"m": {"demand": [10, 20], "shortage_cost": 1000, "holding_cost": 3}},
        "suppliers": {"s": {"country": "XX", "offers": {"m": {"price": [5, 7], "capacity": 100}}}},
    }
    for key, value in overrides.items():
        data[key] = value
    return data


def test_buy_ahead_when_holding_is_cheaper_than_the_price_rise():
    # t1 price 5 + holding 1 = 6 < t2 price 7: buy all 30 in t1, hold 20.
    data = scenario()
    data["materials"]["m"]["holding_cost"] = 1
    r = ref.solve_reference(data)
    assert r.status == "optimal"
    assert r.objective == pytest.approx(30 * 5 + 20 * 1, rel=1e-12)
    assert r.x == pytest.approx({("s", "m", 1): 30.0})
    assert r.scenarios == [("base", 1.0)]


def test_each_period_bought_in_that_period_when_holding_is_dear():
    r = ref.solve_reference(scenario())
    assert r.objective == pytest.approx(10 * 5 + 20 * 7, rel=1e-12)
    assert r.x == pytest.approx({("s", "m", 1): 10.0, ("s", "m", 2): 20.0})


def test_earliest_arrival_is_floor_of_delay_over_period_days_plus_one():
    # d = 40 + 20 = 60 days, D = 30: e = floor(2) + 1 = 3 > 2 periods: nothing arrives,
    # all 30 units short at 1000.
    data = scenario()
    data["suppliers"]["s"].update(lead_time_days=40, license_delay_days=20)
    r = ref.solve_reference(data)
    assert r.objective == pytest.approx(30 * 1000, rel=1e-12)
    assert r.x == {}
    assert r.shortage == pytest.approx({"base": 30.0})
    # d = 59: e = floor(1.97) + 1 = 2: period 1 short (10), period 2 bought (20 * 7).
    data["suppliers"]["s"]["lead_time_days"] = 39
    r = ref.solve_reference(data)
    assert r.objective == pytest.approx(10 * 1000 + 20 * 7, rel=1e-12)
    assert r.x == pytest.approx({("s", "m", 2): 20.0})


def test_shortage_cheaper_than_buying_and_landed_cost():
    # landed = 5 * (1 + 0.2) + 3 = 9 in t1, 7 * 1.2 + 3 = 11.4 in t2, delay 10 d * 0.1 = 1;
    # shortage 10.5: t1 bought at 10; t2 short (11.4 + 1 and 10 + 3 held are dearer).
    data = scenario(policy={"delay_cost_per_day": 0.1})
    data["materials"]["m"]["shortage_cost"] = 10.5
    data["suppliers"]["s"].update(tariff=0.2, freight=3, lead_time_days=10)
    r = ref.solve_reference(data)
    assert r.objective == pytest.approx(10 * 10 + 20 * 10.5, rel=1e-12)
    assert r.x == pytest.approx({("s", "m", 1): 10.0})


def test_country_defaults_for_tariff():
    # landed 5 * 1.2 = 6 and 7 * 1.2 = 8.4 (buying ahead: 6 + 3 = 9 > 8.4)
    data = scenario(countries={"XX": {"tariff": 0.2, "risk": 0.3}})
    r = ref.solve_reference(data)
    assert r.objective == pytest.approx(10 * 6 + 20 * 8.4, rel=1e-12)


def test_initial_inventory_inbound_and_safety_stock_default_penalty():
    # inv0 = 4, inbound [3] (padded to [3, 0]); safety stock 2, default penalty 100.
    # t1 needs 10 - 7 = 3 plus 2 safety; t2 needs 20 - 2 = 18 plus 2 safety;
    # 2 units held at the end of each period: holding 2 * 3 * 2 = 12.
    data = scenario()
    data["materials"]["m"].update(initial_inventory=4, inbound=[3], safety_stock=2)
    r = ref.solve_reference(data)
    assert r.x == pytest.approx({("s", "m", 1): 5.0, ("s", "m", 2): 20.0})
    assert r.objective == pytest.approx(5 * 5 + 20 * 7 + 12, rel=1e-12)


def test_spot_recourse_and_partial_availability():
    # One period, demand 10, price 10, capacity 20; disruption p = 0.5 halves supply.
    # Plan 10: w0 pays 100; in w1 5 arrive (paid 50), spot <= 0.5 * (20 - 10) = 5 at 15.
    data = {
        "name": "spot",
        "horizon": {"periods": 1},
        "materials": {"m": {"demand": 10, "shortage_cost": 1000}},
        "suppliers": {"s": {"country": "XX", "offers": {"m": {"price": 10, "capacity": 20}}}},
        "disruptions": [
            {
                "name": "half",
                "probability": 0.5,
                "effects": [{"supplier": "s", "availability": 0.5}],
            }
        ],
    }
    r = ref.solve_reference(data)
    assert r.scenarios == [("base", 0.5), ("half", 0.5)]
    assert r.x == pytest.approx({("s", "m", 1): 10.0})
    assert r.objective == pytest.approx(0.5 * 100 + 0.5 * (50 + 75), rel=1e-12)
    assert r.spot == pytest.approx({"base": 0.0, "half": 5.0})
    # capacity 10: no spare capacity in w1, 5 units go short at 1000.
    data["suppliers"]["s"]["offers"]["m"]["capacity"] = 10
    r = ref.solve_reference(data)
    assert r.objective == pytest.approx(0.5 * 100 + 0.5 * (50 + 5000), rel=1e-12)
    assert r.shortage == pytest.approx({"base": 0.0, "half": 5.0})
    assert r.expected_shortage == pytest.approx(2.5)


def test_w0_kept_with_probability_zero():
    data = scenario(
        disruptions=[{"name": "all", "probability": 1.0, "effects": [{"country": "XX"}]}]
    )
    r = ref.solve_reference(data)
    assert r.scenarios == [("base", 0.0), ("all", 1.0)]
    assert r.objective == pytest.approx(10 * 5 + 20 * 7, rel=1e-12)


def test_independent_risks_enumerate_all_outcomes():
    effect = [{"supplier": "s", "price_factor": 2.0}]
    data = scenario(
        risks=[
            {"name": "a", "probability": 0.5, "effects": effect},
            {"name": "b", "probability": 0.2, "effects": effect},
        ]
    )
    data["materials"]["m"]["holding_cost"] = 100  # no buying ahead
    r = ref.solve_reference(data)
    assert dict(r.scenarios) == pytest.approx({"base": 0.4, "b": 0.1, "a": 0.4, "a+b": 0.1})
    assert r.scenarios[0][0] == "base"
    # price factor multiplies: 1, 2, 2, 4; planned volume always bought.
    assert r.objective == pytest.approx(190 * (0.4 + 0.1 * 2 + 0.4 * 2 + 0.1 * 4), rel=1e-12)


def test_sampling_uses_default_rng_draws():
    effect = [{"supplier": "s", "price_factor": 2.0}]
    risks = [
        {"name": "a", "probability": 0.5, "effects": effect},
        {"name": "b", "probability": 0.3, "effects": effect},
    ]
    data = scenario(risks=risks, sampling={"scenarios": 7, "seed": 11})
    data["materials"]["m"]["holding_cost"] = 100  # no buying ahead
    r = ref.solve_reference(data)
    draws = np.random.default_rng(11).random((7, 2)) < np.array([0.5, 0.3])
    factor = np.mean([2.0 ** row.sum() for row in draws])
    assert sum(p for _, p in r.scenarios) == pytest.approx(1.0)
    assert r.objective == pytest.approx(190 * factor, rel=1e-12)
    counts = {}
    for row in draws:
        name = "+".join(n for n, h in zip("ab", row, strict=True) if h) or "base"
        counts[name] = counts.get(name, 0) + 1 / 7
    assert dict(r.scenarios) == pytest.approx(counts)


def test_min_suppliers_above_offering_suppliers_is_infeasible():
    data = scenario(policy={"min_suppliers": 2})
    r = ref.solve_reference(data)
    assert r.status == "infeasible"
    assert r.objective is None


def test_min_suppliers_ignores_materials_without_demand():
    data = scenario(policy={"min_suppliers": 2})
    data["materials"]["m"]["demand"] = 0
    r = ref.solve_reference(data)
    assert r.status == "optimal"
    assert r.objective == pytest.approx(0.0, abs=1e-12)


def test_cvar_of_a_single_scenario_is_its_cost():
    # One scenario: CVaR = C[w0], objective = (1 + weight) * C.
    data = scenario(objective={"risk_measure": "cvar", "cvar_weight": 0.5})
    r = ref.solve_reference(data)
    assert r.objective == pytest.approx(1.5 * 190, rel=1e-12)
