"""The independent checker rejects plans that break §4, and accepts the solver's plans."""

from __future__ import annotations

import dataclasses

import pytest

from optimizer.app.pipeline import run_scenario
from optimizer.io.load import load_scenario
from optimizer.results.check import check_plan
from optimizer.results.plan import Plan
from optimizer.solve.status import SolverOptions
from tests.conftest import CASES


def solved(name: str) -> Plan:
    return run_scenario(load_scenario(CASES / f"{name}.yaml").scenario, SolverOptions()).plan


def tampered(plan: Plan, **changes: object) -> Plan:
    return dataclasses.replace(plan, **changes)


def test_solver_plan_passes() -> None:
    report = check_plan(solved("country_cap"))
    assert report.ok, report.violations
    assert report.recomputed_objective == pytest.approx(12600.0)


def test_wrong_objective_is_caught() -> None:
    plan = solved("country_cap")
    report = check_plan(tampered(plan, objective=plan.objective * (1 + 1e-5)))
    assert not report.ok
    assert any("objective" in v for v in report.violations)


def test_capacity_violation_is_caught() -> None:
    plan = solved("licence_runway")  # au_lynas capacity is 1 per period
    orders = plan.orders.copy()
    au = orders["supplier"] == "au_lynas"
    orders.loc[au, "quantity"] = 2.0
    report = check_plan(tampered(plan, orders=orders))
    assert any(v.startswith("capacity: au_lynas") for v in report.violations)


def test_arrival_before_earliest_period_is_caught() -> None:
    plan = solved("licence_runway")  # cn_baotou cannot deliver before period 3
    orders = plan.orders.copy()
    orders.loc[orders["supplier"] == "cn_baotou", "period"] = [1, 2]
    report = check_plan(tampered(plan, orders=orders))
    assert any(v.startswith("earliest arrival: cn_baotou") for v in report.violations)


def test_country_cap_violation_is_caught() -> None:
    plan = solved("country_cap")  # CN may carry at most 60% of each material
    orders = plan.orders.copy()
    cn = (orders["supplier"] == "cn_baotou") & (orders["material"] == "ndpr_oxide")
    orders.loc[cn, "quantity"] = 70.0
    report = check_plan(tampered(plan, orders=orders))
    assert any(v.startswith("country share: CN") for v in report.violations)


def test_broken_balance_is_caught() -> None:
    plan = solved("licence_runway")
    inventory = plan.inventory.copy()
    inventory.loc[0, "closing"] += 1.0
    report = check_plan(tampered(plan, inventory=inventory))
    assert any(v.startswith("balance") for v in report.violations)
