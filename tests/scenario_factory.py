"""Random, valid, small scenario dicts (DESIGN §3, version 2) for differential testing.

`build_scenario(pick)` returns the plain dict of a scenario file. Every choice
goes through a *picker*, so the same generator serves two masters:

- `HypothesisPicker` (``st.data()``): hypothesis drives the choices and can
  shrink a failing scenario to a small one;
- `RandomPicker` (``random.Random(seed)``): fast bulk runs outside pytest, one
  seed per scenario, so that any scenario can be regenerated from its seed.

Pickers are written so that the "simplest" choice (0, False, the first item,
the empty subset) is the feature switched off: hypothesis shrinks towards
plain scenarios. Magnitudes stay realistic-ish (prices 1-1000, shortage cost
above landed and spot prices) so that the LPs are well conditioned.

Version 2 fields come up with modest probabilities, so most scenarios stay
small: `safety_stock_days` (never with `safety_stock`), `end_stock` and
`end_stock_penalty`; `qualification_days` and `controlled_by` on suppliers;
`reservation_fee` and `exercise_price` on offers; `max_country_exposure`;
`horizon.start`, and on effects `delay_days`, `reach` (country effects only)
and `from_date` / `to_date` (only with a start; dates may lie outside the
horizon, so a window can hit nothing).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

# Ids are drawn from small pools that mix cases, digits, - and _ (the product
# sorts ids, the reference keeps file order) and include names that an
# implementation might use internally ("w0", "Base"). "base" itself is reserved
# by the product for the undisrupted case (a validation error), so it is not drawn.
MATERIAL_IDS = ("ndpr", "Dy-oxide", "tb_metal", "m1")
SUPPLIER_IDS = ("cn_baotou", "AU-lynas", "us_mp", "my2", "ee_neo")
COUNTRY_IDS = ("CN", "AU", "US", "MY", "ee")
EVENT_IDS = ("slowdown", "ban", "Base", "w0", "Shock-2", "x")


class Picker(Protocol):
    """Where the generator's choices come from."""

    def integer(self, lo: int, hi: int) -> int: ...

    def flag(self, p: float = 0.5) -> bool: ...

    def choice(self, seq: Sequence[T]) -> T: ...

    def subset(self, seq: Sequence[T], min_size: int = 0) -> list[T]: ...


class RandomPicker:
    """Choices from a `random.Random` (a seed, or one hypothesis controls)."""

    def __init__(self, seed: int | random.Random) -> None:
        self.rng = seed if isinstance(seed, random.Random) else random.Random(seed)

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def flag(self, p: float = 0.5) -> bool:
        # `random()` shrinks towards 0.0 under hypothesis: towards the feature off
        return self.rng.random() >= 1.0 - p

    def choice(self, seq: Sequence[T]) -> T:
        return seq[self.rng.randrange(len(seq))]

    def subset(self, seq: Sequence[T], min_size: int = 0) -> list[T]:
        k = self.rng.randint(min_size, len(seq))
        chosen = set(self.rng.sample(range(len(seq)), k))
        return [v for i, v in enumerate(seq) if i in chosen]


class HypothesisPicker(RandomPicker):
    """Choices from hypothesis' `st.data()`, through a `Random` whose every call is a
    hypothesis draw: near-uniform like `RandomPicker` (plain `st.integers` draws lean
    hard towards their lower end) and still shrinkable."""

    def __init__(self, data: Any) -> None:
        from hypothesis import strategies as st

        super().__init__(data.draw(st.randoms(use_true_random=False), label="choices"))


# --------------------------------------------------------------------------- values


def fraction(pick: Picker, lo: int = 0, hi: int = 100) -> float:
    """A fraction in [lo/100, hi/100], two decimals; 0 and 1 come up often."""
    if pick.flag(0.15):
        return pick.choice([lo / 100, hi / 100])
    return pick.integer(lo, hi) / 100


def money(pick: Picker, lo: int, hi: int) -> float | int:
    """A number in [lo, hi], an int or with two decimals."""
    if pick.flag(0.3):
        return round(pick.integer(lo * 100, hi * 100) / 100, 2)
    return pick.integer(lo, hi)


def per_period(pick: Picker, periods: int, lo: int, hi: int, zeros: float = 0.0) -> Any:
    """A number, or a list of `periods` numbers (some zeros)."""

    def one() -> float | int:
        if zeros and pick.flag(zeros):
            return 0
        return money(pick, lo, hi)

    if pick.flag(0.4):
        return [one() for _ in range(periods)]
    return one()


# --------------------------------------------------------------------------- sections


def _materials(pick: Picker, periods: int) -> dict[str, dict]:
    ids = pick.subset(MATERIAL_IDS[: pick.integer(1, 3)], min_size=1)
    out: dict[str, dict] = {}
    for mid in ids:
        mat: dict[str, Any] = {
            "demand": per_period(pick, periods, 0, 100, zeros=0.2),
            # above every landed spot price the generator can produce is not needed:
            # shortage only has to be dear enough that buying is usually worth it
            "shortage_cost": money(pick, 1500, 20000),
        }
        if pick.flag(0.3):
            mat["initial_inventory"] = money(pick, 0, 150)
        if pick.flag(0.3):
            mat["inbound"] = [money(pick, 0, 60) for _ in range(pick.integer(0, periods))]
        if pick.flag(0.4):
            mat["holding_cost"] = money(pick, 0, 60)
        if pick.flag(0.3):
            mat["safety_stock"] = money(pick, 0, 50)
            if pick.flag(0.5):
                mat["safety_stock_penalty"] = money(pick, 0, 5000)
        elif pick.flag(0.15):  # never together with safety_stock
            mat["safety_stock_days"] = pick.choice([0, 7, 15, 30, 45, 60, 90])
            if pick.flag(0.5):
                mat["safety_stock_penalty"] = money(pick, 0, 5000)
        if pick.flag(0.2):
            mat["end_stock"] = money(pick, 0, 80)
        if pick.flag(0.2):
            mat["end_stock_penalty"] = money(pick, 0, 20000)
        out[mid] = mat
    return out


def _countries(pick: Picker) -> tuple[list[str], dict[str, dict]]:
    codes = list(COUNTRY_IDS[: pick.integer(1, 3)])
    section: dict[str, dict] = {}
    for code in codes:
        if pick.flag(0.5):
            entry: dict[str, float] = {}
            if pick.flag(0.7):
                entry["tariff"] = fraction(pick, 0, 150)
            if pick.flag(0.7):
                entry["risk"] = fraction(pick)
            section[code] = entry
    return codes, section


def _offer(pick: Picker, periods: int, min_order: bool) -> dict[str, Any]:
    offer: dict[str, Any] = {
        "price": per_period(pick, periods, 1, 1000),
        "capacity": per_period(pick, periods, 0, 150, zeros=0.15),
    }
    if min_order and pick.flag(0.6):
        offer["min_order"] = money(pick, 0, 60)
    if pick.flag(0.2):  # an option contract (a fee of 0 is valid and creates r)
        offer["reservation_fee"] = per_period(pick, periods, 0, 100, zeros=0.1)
        if pick.flag(0.5):
            offer["exercise_price"] = per_period(pick, periods, 1, 1000)
    return offer


def _suppliers(
    pick: Picker,
    periods: int,
    period_days: float,
    materials: list[str],
    codes: list[str],
    milp: dict[str, bool],
) -> dict[str, dict]:
    ids = list(SUPPLIER_IDS[: pick.integer(1, 4)])
    horizon_days = periods * period_days
    out: dict[str, dict] = {}
    for i, sid in enumerate(ids):
        # the first suppliers cover the countries, so that every country is used
        country = codes[i] if i < len(codes) else pick.choice(codes)
        sup: dict[str, Any] = {"country": country}
        if pick.flag(0.4):
            sup["risk"] = fraction(pick)
        if pick.flag(0.3):
            sup["tariff"] = fraction(pick, 0, 150)
        if pick.flag(0.4):
            sup["freight"] = money(pick, 0, 150)
        if pick.flag(0.6):
            # up to beyond the horizon: e[s] > periods happens
            sup["lead_time_days"] = pick.integer(0, int(horizon_days * 0.8) + 10)
        if pick.flag(0.4):
            sup["license_delay_days"] = pick.choice([0, 10, 30, 45, 63, 90, 120])
        if pick.flag(0.15):
            sup["qualification_days"] = pick.choice([0, 15, 30, 60, 90, 180])
        others = [c for c in codes if c != country]
        if others and pick.flag(0.2):
            sup["controlled_by"] = pick.subset(others, min_size=1)
        if milp["fixed_cost"] and pick.flag(0.6):
            sup["fixed_cost"] = money(pick, 0, 20000)
        if pick.flag(0.2):
            sup["max_share"] = fraction(pick, 34, 100)
        offered = pick.subset(materials, min_size=1)
        sup["offers"] = {m: _offer(pick, periods, milp["min_order"]) for m in offered}
        out[sid] = sup
    return out


def _policy(
    pick: Picker, codes: list[str], suppliers: dict[str, dict], milp: dict[str, bool]
) -> dict[str, Any]:
    # Caps are mostly drawn loose enough that some supplier mix can respect them
    # (a cap below 1/n with n suppliers makes the product refuse the file before
    # solving, a documented difference from the reference that compares nothing).
    n_suppliers = len(suppliers)
    policy: dict[str, Any] = {}
    if pick.flag(0.4):
        policy["delay_cost_per_day"] = money(pick, 0, 20)
    if pick.flag(0.35):
        policy["max_supplier_share"] = fraction(pick, _loosest(pick, n_suppliers), 100)
    if milp["min_suppliers"]:
        policy["min_suppliers"] = pick.integer(0, 3)
        if pick.flag(0.6):
            policy["min_supplier_share"] = fraction(pick, 0, 50)
    if pick.flag(0.35 if len(codes) > 1 else 0.1):
        chosen = pick.subset(codes, min_size=1)
        low = _loosest(pick, len(codes))
        policy["max_country_share"] = {c: fraction(pick, low, 100) for c in chosen}
    if pick.flag(0.25):
        # exposure to c: suppliers in c or controlled by c; mostly at least their
        # share of the suppliers (all of them exposed: 1, no cap)
        exposure = {}
        for c in pick.subset(codes, min_size=1):
            exposed = sum(
                1
                for sup in suppliers.values()
                if c in (sup["country"], *sup.get("controlled_by", ()))
            )
            low = 20 if pick.flag(0.15) else -(-100 * exposed // n_suppliers)
            exposure[c] = fraction(pick, low, 100)
        policy["max_country_exposure"] = exposure
    if pick.flag(0.3):
        policy["max_average_risk"] = fraction(pick, 30, 100)
    if pick.flag(0.4):
        policy["share_basis"] = pick.choice(["horizon", "period"])
    return policy


def _loosest(pick: Picker, n: int) -> int:
    """Lower end (in %) of a share cap over n parties: mostly 100/n, sometimes anything."""
    if pick.flag(0.15):
        return 20
    return min(100, -(-100 // max(n, 1)))


def _effect(
    pick: Picker, horizon: dict[str, Any], materials: list[str], suppliers: dict[str, dict]
) -> dict[str, Any]:
    periods = horizon["periods"]
    eff: dict[str, Any] = {}
    if pick.flag(0.5):
        eff["supplier"] = pick.choice(sorted(suppliers))
    else:
        eff["country"] = pick.choice(sorted({s["country"] for s in suppliers.values()}))
        if pick.flag(0.3):  # only on a country effect
            eff["reach"] = pick.choice(["own", "controlled"])
    if pick.flag(0.4):
        eff["materials"] = pick.subset(materials, min_size=1)
    if pick.flag(0.85):
        eff["availability"] = fraction(pick)
    if pick.flag(0.4):
        eff["price_factor"] = pick.choice([0.5, 0.9, 1.0, 1.25, 1.5, 2.0, 3.0])
    if pick.flag(0.25):
        eff["delay_days"] = pick.choice([5, 10, 15, 30, 45, 63, 90])
    if "start" in horizon and pick.flag(0.4):
        eff.update(_dates(pick, horizon))
        return eff
    if pick.flag(0.35):
        eff["from_period"] = pick.integer(1, periods)
    if pick.flag(0.35):
        eff["to_period"] = pick.integer(eff.get("from_period", 1), periods)
    return eff


def _dates(pick: Picker, horizon: dict[str, Any]) -> dict[str, dt.date]:
    """from_date and/or to_date (from <= to), from a period before the start to one
    after the end: a window may be clipped, or lie wholly outside the horizon."""
    start: dt.date = horizon["start"]
    days = horizon["periods"] * horizon["period_days"]
    lo, hi = -int(horizon["period_days"]) * 2, int(days + horizon["period_days"] * 2)
    out: dict[str, dt.date] = {}
    first = pick.integer(lo, hi)
    if pick.flag(0.7):
        out["from_date"] = start + dt.timedelta(days=first)
    else:
        first = lo
    if not out or pick.flag(0.6):
        out["to_date"] = start + dt.timedelta(days=pick.integer(first, hi))
    return out


def _events(
    pick: Picker, horizon: dict[str, Any], materials: list[str], suppliers: dict[str, dict]
) -> dict[str, Any]:
    kind = pick.choice(["none", "disruptions", "risks"])
    if kind == "none":
        return {}
    names = pick.subset(EVENT_IDS, min_size=1)[:3]
    events = []
    if kind == "disruptions":
        left = 100
        for name in names:
            p = pick.integer(0, left) if pick.flag(0.85) else left  # sums to <= 1, sometimes 1
            left -= p
            events.append({"name": name, "probability": p / 100, "effects": []})
    else:
        for name in names:
            events.append({"name": name, "probability": fraction(pick), "effects": []})
    for event in events:
        event["effects"] = [
            _effect(pick, horizon, materials, suppliers) for _ in range(pick.integer(1, 2))
        ]
    out: dict[str, Any] = {kind: events}
    if kind == "risks" and pick.flag(0.4):
        sampling: dict[str, int] = {"scenarios": pick.integer(3, 10)}
        if pick.flag(0.7):
            sampling["seed"] = pick.integer(0, 1000)
        out["sampling"] = sampling
    return out


def build_scenario(pick: Picker) -> dict[str, Any]:
    """One random, valid scenario dict (1-3 materials, 1-4 suppliers, 1-5 periods)."""
    periods = pick.integer(1, 5)
    period_days: float = pick.integer(7, 45)
    if pick.flag(0.1):
        period_days += 0.5
    milp = {
        "min_order": pick.flag(0.2),
        "fixed_cost": pick.flag(0.2),
        "min_suppliers": pick.flag(0.2),
    }
    data: dict[str, Any] = {
        "name": "diff",
        "horizon": {"periods": periods, "period_days": period_days},
    }
    if pick.flag(0.25):
        data["horizon"]["start"] = dt.date(2026, 1, 1) + dt.timedelta(days=pick.integer(0, 365))
    data["materials"] = _materials(pick, periods)
    materials = list(data["materials"])
    codes, countries = _countries(pick)
    if countries:
        data["countries"] = countries
    data["suppliers"] = _suppliers(pick, periods, period_days, materials, codes, milp)
    used = sorted({s["country"] for s in data["suppliers"].values()})
    policy = _policy(pick, used, data["suppliers"], milp)
    if policy:
        data["policy"] = policy
    data.update(_events(pick, data["horizon"], materials, data["suppliers"]))
    if pick.flag(0.3):
        data["spot_premium"] = pick.choice([0.0, 0.1, 0.5, 1.0, 2.0])
    if pick.flag(0.35):
        objective: dict[str, Any] = {"risk_measure": "cvar"}
        if pick.flag(0.7):
            objective["cvar_alpha"] = pick.integer(0, 95) / 100
        if pick.flag(0.6):
            objective["cvar_weight"] = pick.choice([0.0, 0.5, 1.0, 2.0])
        data["objective"] = objective
    elif pick.flag(0.1):
        data["objective"] = {"risk_measure": "expected"}
    return data
