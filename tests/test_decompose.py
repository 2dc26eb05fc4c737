"""Decomposition by material and merging of identical scenarios are exact: the same
objective as the monolithic model, and a plan that passes the check on the full set."""

from __future__ import annotations

import pytest

from benchmarks.generate import generate
from optimizer.app.pipeline import run_scenario
from optimizer.model.decompose import material_groups, split
from optimizer.model.parameters import build_parameters
from optimizer.schema.scenario import Scenario
from optimizer.solve.status import SolverOptions

CASES = [
    {"materials": 4, "suppliers": 10, "periods": 6, "events": 5, "seed": 11},
    {"materials": 4, "suppliers": 10, "periods": 6, "events": 12, "samples": 60, "seed": 12},
    {"materials": 3, "suppliers": 8, "periods": 5, "events": 3, "seed": 13, "milp": True},
    {"materials": 3, "suppliers": 8, "periods": 5, "events": 3, "seed": 14, "cvar": True},
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"seed{c['seed']}")
def test_decomposed_equals_monolithic(case: dict, solver: str) -> None:
    sc = Scenario.model_validate(generate(**case))
    options = SolverOptions(solver=solver)
    whole = run_scenario(sc, options, decompose="off")
    parts = run_scenario(sc, options, decompose="on")
    assert parts.check.ok and whole.check.ok
    assert parts.plan.objective == pytest.approx(whole.plan.objective, rel=1e-6)
    assert parts.model_size["scenarios"] == whole.model_size["scenarios"]


def _scenario(fixed_cost: float, cvar: bool = False) -> Scenario:
    data = {
        "name": "groups",
        "horizon": {"periods": 2},
        "materials": {m: {"demand": 1, "shortage_cost": 100} for m in ("a", "b", "c")},
        "suppliers": {
            "s1": {
                "country": "CN",
                "fixed_cost": fixed_cost,
                "offers": {"a": {"price": 1, "capacity": 5}, "b": {"price": 1, "capacity": 5}},
            },
            "s2": {"country": "AU", "offers": {"c": {"price": 2, "capacity": 5}}},
        },
        "risks": [
            {
                "name": "cut",
                "probability": 0.5,
                "effects": [{"country": "AU", "availability": 0.5}],
            },
            {
                "name": "slow",
                "probability": 0.5,
                "effects": [{"supplier": "s2", "availability": 0.8}],
            },
        ],
    }
    if cvar:
        data["objective"] = {"risk_measure": "cvar"}
    return Scenario.model_validate(data)


def test_fixed_cost_couples_the_materials_of_its_supplier() -> None:
    # materials sorted a, b, c: s1's fixed cost ties a and b; c stands alone
    assert material_groups(build_parameters(_scenario(10.0))) == [[0, 1], [2]]
    assert material_groups(build_parameters(_scenario(0.0))) == [[0], [1], [2]]
    assert material_groups(build_parameters(_scenario(0.0, cvar=True))) == [[0, 1, 2]]


def test_scenarios_identical_on_a_part_are_merged() -> None:
    # Two events, each 0.5: four outcomes of 0.25. Both hit only material c. For a and
    # for b, "cut", "slow" and "cut+slow" look the same (all factors 1, spot open), so
    # they merge into one scenario of 0.75 next to the base case (0.25, no spot);
    # for c all four differ (availability 0.5, 0.8, 0.4 and 1).
    parts = split(build_parameters(_scenario(0.0)))
    by_material = {part.params.materials: part for part in parts}
    for m in (("a",), ("b",)):
        assert sorted(o.probability for o in by_material[m].params.outcomes) == [0.25, 0.75]
    assert [o.probability for o in by_material[("c",)].params.outcomes] == [0.25] * 4
