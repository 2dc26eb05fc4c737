"""The independent checker catches a violation of every family it checks.

Each test takes a solver's plan of a hand-worked case (which passes the check), breaks
exactly one rule of DESIGN §4 in its tables, and expects the checker to name that rule.
A checker that let any of these through would let a wrong plan be reported.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pandas as pd
import pytest

from optimizer.app.pipeline import run_scenario
from optimizer.io.load import load_scenario
from optimizer.results.check import check_plan
from optimizer.results.plan import Plan
from tests.conftest import CASES

_SOLVED: dict[str, Plan] = {}


def solved(name: str) -> Plan:
    if name not in _SOLVED:
        _SOLVED[name] = run_scenario(load_scenario(CASES / f"{name}.yaml").scenario).plan
    return _SOLVED[name]


def with_orders(plan: Plan, change: Callable[[pd.DataFrame], None]) -> Plan:
    orders = plan.orders.copy()
    change(orders)
    return dataclasses.replace(plan, orders=orders)


def with_inventory(plan: Plan, change: Callable[[pd.DataFrame], None]) -> Plan:
    inventory = plan.inventory.copy()
    change(inventory)
    return dataclasses.replace(plan, inventory=inventory)


def with_spot(plan: Plan, change: Callable[[pd.DataFrame], None]) -> Plan:
    spot = plan.spot.copy()
    change(spot)
    return dataclasses.replace(plan, spot=spot)


def rows(df: pd.DataFrame, **match: object) -> pd.Series:
    mask = pd.Series(True, index=df.index)
    for key, value in match.items():
        mask &= df[key] == value
    assert mask.any(), match
    return mask


def caught(plan: Plan, prefix: str) -> bool:
    report = check_plan(plan)
    return any(v.startswith(prefix) for v in report.violations)


@pytest.mark.parametrize(
    "name",
    [
        "single_source",
        "risk_cap",
        "min_order",
        "min_suppliers",
        "exposure_cap",
        "reservation_pays",
        "disruption_spot",
        "cvar_plan",
        "delay_one_period",
        "stock_before_shortage_binding",
    ],
)
def test_the_solvers_plans_pass(name: str) -> None:
    report = check_plan(solved(name))
    assert report.ok, report.violations


def test_capacity() -> None:
    plan = solved("licence_runway")  # au_lynas: capacity 1 a period
    broken = with_orders(plan, lambda o: o.__setitem__("quantity", o["quantity"] + 5.0))
    assert caught(broken, "capacity: au_lynas")


def test_earliest_arrival() -> None:
    plan = solved("licence_runway")  # cn_baotou: nothing before period 3

    def early(o: pd.DataFrame) -> None:
        o.loc[rows(o, supplier="cn_baotou", period=3), "period"] = 2

    assert caught(with_orders(plan, early), "earliest arrival: cn_baotou")


def test_balance() -> None:
    plan = solved("licence_runway")
    broken = with_inventory(plan, lambda i: i.__setitem__("closing", i["closing"] + 1.0))
    assert caught(broken, "balance")


def test_supplier_share() -> None:
    plan = solved("single_source")  # supplier_a at its cap of 60%

    def more_a(o: pd.DataFrame) -> None:
        o.loc[rows(o, supplier="supplier_a"), "quantity"] = 70.0
        o.loc[rows(o, supplier="supplier_b"), "quantity"] = 20.0

    assert caught(with_orders(plan, more_a), "supplier share: supplier_a")


def test_country_share() -> None:
    plan = solved("country_cap")  # CN at its cap of 60%

    def more_cn(o: pd.DataFrame) -> None:
        o.loc[rows(o, supplier="cn_baotou", material="ndpr_oxide"), "quantity"] = 70.0

    assert caught(with_orders(plan, more_cn), "country share: CN")


def test_country_exposure() -> None:
    plan = solved("exposure_cap")  # CN exposure (own + controlled) at its cap of 80%

    def more_vn(o: pd.DataFrame) -> None:
        o.loc[rows(o, supplier="vn_magnet"), "quantity"] = 70.0
        o.loc[rows(o, supplier="jp_shinetsu"), "quantity"] = 10.0

    assert caught(with_orders(plan, more_vn), "country exposure: CN")


def test_average_risk() -> None:
    plan = solved("risk_cap")  # average risk at its cap

    def riskier(o: pd.DataFrame) -> None:
        o.loc[rows(o, supplier="cn_baotou"), "quantity"] = 40.0
        o.loc[rows(o, supplier="au_lynas"), "quantity"] = 60.0

    assert caught(with_orders(plan, riskier), "average risk")


def test_min_order() -> None:
    plan = solved("min_order")  # big_lot delivers 10 = its minimum order

    def small(o: pd.DataFrame) -> None:
        o.loc[rows(o, supplier="big_lot"), "quantity"] = 4.0

    assert caught(with_orders(plan, small), "min order: big_lot")


def test_min_suppliers() -> None:
    plan = solved("min_suppliers")  # two suppliers, each with at least its minimum share

    def one(o: pd.DataFrame) -> None:
        o.loc[rows(o, supplier="cheap_a"), "quantity"] = 100.0
        o.loc[rows(o, supplier="mid_c"), "quantity"] = 0.0

    assert caught(with_orders(plan, one), "min suppliers")


def test_spot_capacity() -> None:
    plan = solved("disruption_spot")  # spot buys from cn_baotou in the halt

    def more_spot(s: pd.DataFrame) -> None:
        s.loc[rows(s, kind="spot"), "quantity"] = 1000.0

    assert caught(with_spot(plan, more_spot), "spot capacity")


def test_spot_in_the_undisrupted_case() -> None:
    plan = solved("disruption_spot")
    extra = pd.DataFrame(
        [
            {
                "scenario": "base",
                "material": "ndpr_oxide",
                "supplier": "cn_baotou",
                "period": 1,
                "quantity": 1.0,
                "unit_cost": 0.0,
                "kind": "spot",
            }
        ]
    )
    broken = dataclasses.replace(plan, spot=pd.concat([plan.spot, extra], ignore_index=True))
    assert caught(broken, "spot base/cn_baotou/ndpr_oxide/1: not allowed here")


def test_calls_within_what_is_reserved() -> None:
    plan = solved("reservation_pays")  # 10 reserved and called at au_lynas per period

    def more_calls(s: pd.DataFrame) -> None:
        s.loc[rows(s, kind="call"), "quantity"] = 15.0

    assert caught(with_spot(plan, more_calls), "call cn-halt/au_lynas")


def test_reservation_where_the_offer_takes_none() -> None:
    plan = solved("reservation_pays")
    reservations = plan.reservations.copy()
    reservations.loc[:, "supplier"] = "cn_baotou"
    broken = dataclasses.replace(plan, reservations=reservations)
    assert caught(broken, "reservation cn_baotou/ndpr_oxide: the offer takes no reservations")


def test_delayed_arrival() -> None:
    """delay_one_period: in the held scenario cn_baotou's period-1 shipment arrives in
    period 2; counting it in period 1 breaks that scenario's balance."""
    plan = solved("delay_one_period")
    scenario = next(s for s in plan.scenarios["scenario"] if s != "base")

    def on_time(i: pd.DataFrame) -> None:
        first = rows(i, scenario=scenario, period=1)
        i.loc[first, "closing"] = i.loc[first, "closing"] + 10.0

    assert caught(with_inventory(plan, on_time), f"balance {scenario}/ndpr_oxide/1")


def test_stock_before_shortage() -> None:
    plan = solved("stock_before_shortage_binding")

    def hold_back(i: pd.DataFrame) -> None:
        first = rows(i, scenario="base", period=1)
        i.loc[first, "shortage"] = i.loc[first, "shortage"] + 2.0
        i.loc[first, "closing"] = i.loc[first, "closing"] + 2.0  # period 1 still balances

    assert caught(with_inventory(plan, hold_back), "stock before shortage base/ndpr_oxide/1")


def test_shortage_above_demand() -> None:
    plan = solved("licence_runway")

    def phantom(i: pd.DataFrame) -> None:
        first = rows(i, period=1)
        i.loc[first, "shortage"] = i.loc[first, "demand"] + 5.0
        i.loc[first, "closing"] = i.loc[first, "closing"] + i.loc[first, "demand"] + 5.0

    assert caught(with_inventory(plan, phantom), "shortage base/ndpr_oxide/1")


def test_cvar_term() -> None:
    """cvar_plan's objective includes the CVaR term; a plan reporting the expected cost
    alone (the term dropped) is caught."""
    plan = solved("cvar_plan")
    expected_only = plan.total_cost
    assert expected_only < plan.objective  # the term is there
    assert caught(dataclasses.replace(plan, objective=expected_only), "objective")


def test_objective() -> None:
    plan = solved("country_cap")
    assert caught(dataclasses.replace(plan, objective=plan.objective * (1 + 1e-5)), "objective")
