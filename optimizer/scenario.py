"""The scenario file as pydantic models (DESIGN §3).

The models are the single source of truth for what a scenario file may say:
the loader validates against them and `sourcing schema` prints their JSON
Schema. All models are frozen and strict: unknown keys are errors, numbers
must be numbers (a quoted "100" is not silently read as 100), and NaN or
infinity are rejected.

Cross-references (an offer for an unknown material, an effect naming an
unknown supplier, per-period lists of the wrong length, ...) are checked after
the fields, by `Scenario`'s model validator; each problem carries the field
path it belongs to, so that the loader can point at the right line.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

ID_PATTERN = r"^[A-Za-z0-9_-]+$"
MAX_OUTCOMES_WITHOUT_SAMPLING = 4096
BASE_NAME = "base"  # the scenario w0, in which no disruption or event happens

# Largest quantity, price, cost or day count: beyond it a model's coefficients leave the
# range in which double-precision solvers with tolerances near 1e-9 answer reliably
# (HiGHS refuses matrix entries of 1e15 and more; CBC called 1e300 costs infeasible).
MAX_NUMBER = 1e12

Id = Annotated[str, StringConstraints(pattern=ID_PATTERN, min_length=1, max_length=100)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0, le=MAX_NUMBER)]
TariffRate = Annotated[float, Field(ge=0.0, le=10.0)]
PerPeriod = NonNeg | list[NonNeg]


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        allow_inf_nan=False,
        validate_default=False,
    )


class Horizon(_Strict):
    """Planning horizon: `periods` periods of `period_days` days."""

    periods: int = Field(ge=1, le=1000, description="Number of planning periods (>= 1).")
    period_days: float = Field(
        30, gt=0, le=3660, description="Length of one period [days]; default 30."
    )
    start: dt.date | None = Field(
        None,
        strict=False,
        description="Calendar date of day 0 of the plan (YYYY-MM-DD); optional, used to date "
        "orders.",
    )

    @field_validator("start", mode="before")
    @classmethod
    def _date_as_text(cls, value: Any) -> Any:
        """Only `YYYY-MM-DD` (or a date): lax mode would read the number 0 as 1970-01-01."""
        if value is None or isinstance(value, (str, dt.date)):
            return value
        raise PydanticCustomError("date_type", "must be a date written YYYY-MM-DD")


class Material(_Strict):
    """A material the buyer needs, with its demand and what running short costs."""

    demand: PerPeriod = Field(
        description="Demand per period [quantity_unit/period]: a number, or a list of "
        "`periods` numbers."
    )
    shortage_cost: NonNeg = Field(
        description="Cost of each unit of demand not met (lost) [currency/quantity_unit]."
    )
    initial_inventory: NonNeg = Field(0, description="Stock at day 0 [quantity_unit].")
    inbound: list[NonNeg] = Field(
        default_factory=list,
        description="Arrivals already ordered, per period [quantity_unit/period]; a list no "
        "longer than `periods` (missing periods are 0).",
    )
    holding_cost: NonNeg = Field(
        0, description="Cost per unit held at the end of a period [currency/quantity_unit/period]."
    )
    safety_stock: NonNeg | None = Field(
        None,
        description="Target stock at the end of each period, in the plan's own world w0 "
        "[quantity_unit]; default 0. Not together with safety_stock_days.",
    )
    safety_stock_days: NonNeg | None = Field(
        None,
        description="Target stock as days of cover: safety_stock_days * demand[t] / "
        "period_days at the end of period t [days]. Not together with safety_stock.",
    )
    safety_stock_penalty: NonNeg | None = Field(
        None,
        description="Cost per unit the plan leaves below the safety stock, per period "
        "[currency/quantity_unit/period]; default shortage_cost / 10.",
    )
    end_stock: NonNeg | None = Field(
        None,
        description="Stock the plan hands to the next horizon, at the end of the last period "
        "[quantity_unit]; default the safety stock of the last period.",
    )
    end_stock_penalty: NonNeg | None = Field(
        None,
        description="Cost per unit the plan ends below end_stock [currency/quantity_unit]; "
        "default shortage_cost.",
    )

    @property
    def penalty_below_safety_stock(self) -> float:
        """Per-unit, per-period cost of falling below the safety stock."""
        if self.safety_stock_penalty is not None:
            return self.safety_stock_penalty
        return self.shortage_cost / 10.0

    @property
    def penalty_below_end_stock(self) -> float:
        """Per-unit cost of ending the horizon below the end stock."""
        if self.end_stock_penalty is not None:
            return self.end_stock_penalty
        return float(self.shortage_cost)


class Country(_Strict):
    """Defaults for the suppliers of one country."""

    tariff: TariffRate = Field(
        0,
        description="Import tariff as a fraction of the price (0.25 = 25%; a rate may exceed "
        "1, e.g. 1.45 = 145%, with a warning; above 10 is an error) [fraction].",
    )
    risk: Fraction = Field(0, description="Risk score from 0 (safe) to 1 [score].")


class Offer(_Strict):
    """What one supplier offers of one material."""

    price: PerPeriod = Field(
        description="Price per unit, ex works [currency/quantity_unit]: a number or a list of "
        "`periods` numbers."
    )
    capacity: PerPeriod = Field(
        description="Most that can arrive per period [quantity_unit/period]: a number or a list "
        "of `periods` numbers."
    )
    min_order: NonNeg = Field(
        0,
        description="If anything arrives in a period, at least this much [quantity_unit]; "
        "default 0 (no minimum).",
    )
    reservation_fee: PerPeriod | None = Field(
        None,
        description="Option contract: fee per unit of capacity reserved per period "
        "[currency/quantity_unit]; a number or a list of `periods` numbers. Reserved "
        "capacity can be called in a disruption at exercise_price.",
    )
    exercise_price: PerPeriod | None = Field(
        None,
        description="Price of a reserved unit when it is called [currency/quantity_unit]; "
        "default the offer's price. Needs reservation_fee.",
    )


class Supplier(_Strict):
    """A supplier, its terms and its offers per material."""

    country: Id = Field(description="Country code of the supplier, e.g. CN, AU, US.")
    risk: Fraction | None = Field(
        None, description="Risk score 0..1 [score]; default: the country's risk, else 0."
    )
    tariff: TariffRate | None = Field(
        None,
        description="Tariff as a fraction of price [fraction]; default: the country's tariff, "
        "else 0.",
    )
    freight: NonNeg = Field(0, description="Freight per unit [currency/quantity_unit].")
    lead_time_days: NonNeg = Field(0, description="Production plus transport time [days].")
    license_delay_days: NonNeg = Field(
        0, description="Export licence wait [days] (45 working days is about 63 calendar days)."
    )
    qualification_days: NonNeg = Field(
        0,
        description="A supplier not yet qualified delivers nothing before qualification plus "
        "lead time plus licence delay have passed [days]; default 0. Pair it with fixed_cost.",
    )
    controlled_by: list[Id] = Field(
        default_factory=list,
        description="Other countries whose export controls reach this supplier (e.g. magnets "
        "made in Vietnam from Chinese rare earths); default none.",
    )
    recovery_days: NonNeg | None = Field(
        None,
        description="Time to recover if this supplier stops [days]; analysis only (survive).",
    )
    fixed_cost: NonNeg = Field(
        0,
        description="One-off cost if the supplier is used at all (planned from or reserved at) "
        "[currency].",
    )
    max_share: Fraction | None = Field(
        None,
        description="Largest share of a material from this supplier [fraction]; overrides "
        "policy.max_supplier_share.",
    )
    offers: dict[Id, Offer] = Field(
        min_length=1, description="Offers per material id (at least one)."
    )


class Policy(_Strict):
    """The company's risk policy. Every field is optional."""

    delay_cost_per_day: NonNeg = Field(
        0,
        description="Delay penalty per unit per day of lead time plus licence delay "
        "[currency/quantity_unit/day].",
    )
    max_supplier_share: Fraction | None = Field(
        None, description="Single-source limit: largest share of a material per supplier."
    )
    min_suppliers: int | None = Field(
        None,
        ge=0,
        le=1000,
        description="At least this many suppliers per material with planned volume.",
    )
    min_supplier_share: Fraction = Field(
        0.1,
        description="Share each of the `min_suppliers` must carry at least [fraction]; "
        "default 0.1.",
    )
    max_country_share: dict[Id, Fraction] = Field(
        default_factory=dict,
        description="Per country code: largest share of each material [fraction].",
    )
    max_country_exposure: dict[Id, Fraction] = Field(
        default_factory=dict,
        description="Per country code: largest share of each material from suppliers in that "
        "country or controlled by it (controlled_by) [fraction].",
    )
    max_average_risk: Fraction | None = Field(
        None, description="Largest volume-weighted mean supplier risk per material [score]."
    )
    share_basis: Literal["horizon", "period"] = Field(
        "horizon",
        description="Apply share and risk caps to totals over the horizon, or in every period.",
    )


class Effect(_Strict):
    """What a disruption or risk event does to a country's or a supplier's offers."""

    country: Id | None = Field(None, description="Country code hit (or `supplier`, not both).")
    supplier: Id | None = Field(None, description="Supplier id hit (or `country`, not both).")
    materials: list[Id] | None = Field(
        None, min_length=1, description="Materials hit; default all."
    )
    availability: Fraction = Field(
        1.0,
        description="Fraction of planned and spare capacity that is delivered [fraction].",
    )
    price_factor: float = Field(
        1.0, ge=0.0, le=100.0, description="Multiplier on the landed cost [factor]."
    )
    delay_days: NonNeg = Field(
        0,
        description="Extra days before shipments due in the hit periods arrive (e.g. a licence "
        "backlog) [days]; default 0.",
    )
    reach: Literal["own", "controlled"] | None = Field(
        None,
        description="With `country` only: `own` (default) hits the suppliers in the country; "
        "`controlled` also those whose controlled_by lists it.",
    )
    from_period: int | None = Field(
        None, ge=1, description="First period hit (1-based); default 1. Or from_date."
    )
    to_period: int | None = Field(
        None, ge=1, description="Last period hit; default the last. Or to_date."
    )
    from_date: dt.date | None = Field(
        None,
        strict=False,
        description="First day hit (YYYY-MM-DD; needs horizon.start): the period containing it.",
    )
    to_date: dt.date | None = Field(
        None,
        strict=False,
        description="Last day hit (YYYY-MM-DD; needs horizon.start): the period containing it.",
    )

    @field_validator("from_date", "to_date", mode="before")
    @classmethod
    def _date_as_text(cls, value: Any) -> Any:
        """Only `YYYY-MM-DD` (or a date): lax mode would read a number as a date."""
        if value is None or isinstance(value, (str, dt.date)):
            return value
        raise PydanticCustomError("date_type", "must be a date written YYYY-MM-DD")


class Disruption(_Strict):
    """One of several mutually exclusive disruptions."""

    name: Id = Field(description="Name of the disruption.")
    probability: Fraction = Field(description="Probability of this disruption [fraction].")
    effects: list[Effect] = Field(min_length=1, description="What it does.")


class Risk(_Strict):
    """An independent risk event."""

    name: Id = Field(description="Name of the event.")
    probability: Fraction = Field(
        description="Chance that it happens within the horizon [fraction]."
    )
    effects: list[Effect] = Field(min_length=1, description="What it does.")


class Sampling(_Strict):
    """Draw joint outcomes of the `risks` instead of enumerating them all."""

    scenarios: int = Field(
        ge=1, le=1_000_000, description="Number of joint outcomes to draw (each 1/N likely)."
    )
    seed: int = Field(0, ge=0, description="Random seed; same seed, same scenarios.")


class Objective(_Strict):
    """How costs over scenarios are combined."""

    risk_measure: Literal["expected", "cvar"] = Field(
        "expected", description="Minimize the expected cost, or expected cost plus CVaR."
    )
    cvar_alpha: float = Field(
        0.9, ge=0.0, lt=1.0, description="CVaR tail level, in [0, 1) [fraction]."
    )
    cvar_weight: NonNeg = Field(1.0, description="Weight of the CVaR term [factor].")


@dataclass(frozen=True)
class Problem:
    """A cross-reference problem found after the fields validated."""

    path: tuple[str | int, ...]
    message: str
    got: Any = None


class ReferenceErrors(ValueError):
    """Several cross-reference problems; raised by `Scenario`'s model validator."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, p.path))}: {p.message}" for p in problems))
        self.problems = problems


class Scenario(_Strict):
    """A sourcing scenario: materials, suppliers, policy and what can go wrong."""

    name: Id = Field(description="Name of the scenario (letters, digits, - and _).")
    title: str | None = Field(None, description="Human title.")
    description: str | None = Field(None, description="What the scenario asks.")
    extends: str | None = Field(
        None,
        exclude=True,
        description="Parent scenario file, relative to this file; this file wins on merge.",
    )
    currency: str = Field("USD", min_length=1, max_length=20, description="Currency of money.")
    quantity_unit: str = Field("t", min_length=1, max_length=20, description="Unit of quantities.")
    horizon: Horizon
    materials: dict[Id, Material] = Field(min_length=1, description="Materials by id.")
    countries: dict[Id, Country] = Field(
        default_factory=dict, description="Country defaults by country code."
    )
    suppliers: dict[Id, Supplier] = Field(min_length=1, description="Suppliers by id.")
    policy: Policy = Field(default_factory=Policy)
    disruptions: list[Disruption] = Field(
        default_factory=list, description="Mutually exclusive disruptions."
    )
    risks: list[Risk] = Field(default_factory=list, description="Independent risk events.")
    sampling: Sampling | None = Field(None, description="With `risks`: draw outcomes.")
    spot_premium: float = Field(
        0.5,
        ge=0.0,
        le=10.0,
        description="Spot price = landed price * (1 + spot_premium) [fraction: 0.5 = +50%; above "
        "1 warns, above 10 is an error]; default 0.5.",
    )
    objective: Objective = Field(default_factory=Objective)

    @model_validator(mode="after")
    def _check_references(self) -> Scenario:
        problems = list(reference_problems(self))
        if problems:
            raise ReferenceErrors(problems)
        return self

    # Convenience accessors used by the model and the checker.
    def supplier_risk(self, supplier_id: str) -> float:
        """Risk score of a supplier: its own, else its country's, else 0."""
        sup = self.suppliers[supplier_id]
        if sup.risk is not None:
            return sup.risk
        country = self.countries.get(sup.country)
        return country.risk if country else 0.0

    def supplier_tariff(self, supplier_id: str) -> float:
        """Tariff rate of a supplier: its own, else its country's, else 0."""
        sup = self.suppliers[supplier_id]
        if sup.tariff is not None:
            return sup.tariff
        country = self.countries.get(sup.country)
        return country.tariff if country else 0.0

    def supplier_max_share(self, supplier_id: str) -> float | None:
        """Single-source cap of a supplier: its own, else the policy's, else none."""
        sup = self.suppliers[supplier_id]
        if sup.max_share is not None:
            return sup.max_share
        return self.policy.max_supplier_share


def per_period(value: float | list[float], periods: int) -> list[float]:
    """Expand a per-period value (a number or a list) to a list of `periods` floats."""
    if isinstance(value, list):
        return [float(v) for v in value]
    return [float(value)] * periods


def _check_list(
    value: object, periods: int, path: tuple[str | int, ...], exact: bool = True
) -> Iterator[Problem]:
    if not isinstance(value, list):
        return
    n = len(value)
    if exact and n != periods:
        yield Problem(path, f"needs one value per period: {periods} values, found {n}", value)
    elif not exact and n > periods:
        yield Problem(path, f"has {n} values but the horizon has only {periods} periods", value)


def reference_problems(sc: Scenario) -> Iterator[Problem]:
    """Yield every cross-reference problem of a scenario whose fields are valid."""
    countries = _known_countries(sc)
    yield from _horizon_problems(sc)
    yield from _text_problems(sc)
    yield from _material_problems(sc)
    yield from _offer_problems(sc)
    for key in ("max_country_share", "max_country_exposure"):
        for code in getattr(sc.policy, key):
            if code not in countries:
                yield Problem(
                    ("policy", key, code),
                    f"unknown country {code!r}: no supplier is there or controlled by it and "
                    f"`countries` does not list it{_suggest(code, countries)}",
                    code,
                )
    yield from _event_problems(sc)
    for key, events in (("disruptions", sc.disruptions), ("risks", sc.risks)):
        seen: dict[str, int] = {}
        for i, event in enumerate(events):
            if event.name in seen:
                yield Problem(
                    (key, i, "name"), f"duplicate name (also item {seen[event.name]})", event.name
                )
            seen.setdefault(event.name, i)
            if event.name == BASE_NAME:
                yield Problem(
                    (key, i, "name"),
                    f"{BASE_NAME!r} is the name of the case in which nothing happens; "
                    "choose another name",
                    event.name,
                )
            for j, eff in enumerate(event.effects):
                yield from _effect_problems(sc, eff, (key, i, "effects", j), countries)


def _known_countries(sc: Scenario) -> set[str]:
    """Country codes a policy or an effect may name: those of suppliers, of their
    `controlled_by` and of `countries`."""
    known = {s.country for s in sc.suppliers.values()} | set(sc.countries)
    for sup in sc.suppliers.values():
        known.update(sup.controlled_by)
    return known


MIN_PERIOD_DAYS = 1.0  # orders are dated in whole days; shorter periods overflow the model


def _horizon_problems(sc: Scenario) -> Iterator[Problem]:
    """A period of at least a day; a horizon that ends before the calendar does."""
    h = sc.horizon
    if h.period_days < MIN_PERIOD_DAYS:
        yield Problem(
            ("horizon", "period_days"),
            "must be at least 1 (a period is counted in days; orders are dated in whole days)",
            h.period_days,
        )
        return
    if h.start is not None:
        last = h.start.toordinal() + math.ceil(h.periods * h.period_days)
        if last > dt.date.max.toordinal():
            yield Problem(
                ("horizon", "start"),
                f"the horizon of {h.periods} periods of {h.period_days:g} days from this date "
                "ends after the year 9999; give an earlier start",
                h.start.isoformat(),
            )


# Characters that no one-line text of a scenario may hold: controls (an Excel cell
# refuses most of them) and the bidi and zero-width characters that make text read
# as something else (see optimizer.safe_text).
_TEXT_FIELDS = ("title", "currency", "quantity_unit", "description")


def _text_problems(sc: Scenario) -> Iterator[Problem]:
    from optimizer.safe_text import escape, has_unsafe

    for name in _TEXT_FIELDS:
        value = getattr(sc, name)
        if value is None:
            continue
        # a title or description may run over lines (a YAML block scalar ends with one)
        bad = has_unsafe(value, allow="\n\t" if name in ("title", "description") else "")
        if bad is not None:
            yield Problem(
                (name,),
                f"contains the control or invisible character {escape(bad)}; remove it",
                value if len(value) <= 60 else value[:57] + "...",
            )


def _material_problems(sc: Scenario) -> Iterator[Problem]:
    periods = sc.horizon.periods
    for mid, mat in sc.materials.items():
        yield from _check_list(mat.demand, periods, ("materials", mid, "demand"))
        yield from _check_list(mat.inbound, periods, ("materials", mid, "inbound"), exact=False)
        if mat.safety_stock is not None and mat.safety_stock_days is not None:
            yield Problem(
                ("materials", mid, "safety_stock_days"),
                "give the safety stock either in units (safety_stock) or in days of cover "
                "(safety_stock_days), not both",
                mat.safety_stock_days,
            )


def _offer_problems(sc: Scenario) -> Iterator[Problem]:
    periods = sc.horizon.periods
    for sid, sup in sc.suppliers.items():
        for mid, offer in sup.offers.items():
            base = ("suppliers", sid, "offers", mid)
            if mid not in sc.materials:
                yield Problem(
                    base, f"offer for unknown material {mid!r}{_suggest(mid, sc.materials)}", mid
                )
            for key in ("price", "capacity", "reservation_fee", "exercise_price"):
                yield from _check_list(getattr(offer, key), periods, (*base, key))
            if offer.exercise_price is not None and offer.reservation_fee is None:
                yield Problem(
                    (*base, "exercise_price"),
                    "an exercise price is the price of reserved capacity; give a "
                    "reservation_fee too (or remove exercise_price)",
                    offer.exercise_price,
                )
        seen: set[str] = set()
        for k, code in enumerate(sup.controlled_by):
            if code in seen:
                yield Problem(("suppliers", sid, "controlled_by", k), "listed twice", code)
            seen.add(code)


def _event_problems(sc: Scenario) -> Iterator[Problem]:
    """`disruptions` or `risks`, `sampling`, and the sum of disruption probabilities."""
    if sc.disruptions and sc.risks:
        yield Problem(("risks",), "use either `disruptions` or `risks`, not both")
    if sc.sampling is not None and not sc.risks:
        yield Problem(("sampling",), "`sampling` draws outcomes of `risks`; there are no risks")
    if (
        sc.risks
        and sc.sampling is None
        and len(sc.risks) > math.log2(MAX_OUTCOMES_WITHOUT_SAMPLING)
    ):
        yield Problem(
            ("risks",),
            f"{len(sc.risks)} risks have 2^{len(sc.risks)} joint outcomes, more than "
            f"{MAX_OUTCOMES_WITHOUT_SAMPLING}; add `sampling: {{scenarios: N}}`",
            len(sc.risks),
        )
    total = math.fsum(d.probability for d in sc.disruptions)
    if total > 1 + 1e-12:
        shown = f"{total:.15g}"  # 1.0000001, neither 1 (:g) nor 1.0000000999999998 (repr)
        yield Problem(
            ("disruptions",),
            f"probabilities sum to {shown}, above 1 (the rest of 1 is the undisrupted case)",
        )


def _effect_problems(
    sc: Scenario, eff: Effect, path: tuple[str | int, ...], countries: set[str]
) -> Iterator[Problem]:
    if eff.country is not None and eff.supplier is not None:
        yield Problem(path, "names both `country` and `supplier`; name exactly one of them")
    elif eff.country is None and eff.supplier is None:
        yield Problem(path, "names neither `country` nor `supplier`; name exactly one of them")
    if eff.country is not None and eff.country not in countries:
        yield Problem(
            (*path, "country"),
            f"unknown country {eff.country!r}: no supplier is there and `countries` does not "
            f"list it{_suggest(eff.country, countries)}",
            eff.country,
        )
    if eff.supplier is not None and eff.supplier not in sc.suppliers:
        yield Problem(
            (*path, "supplier"),
            f"unknown supplier {eff.supplier!r}{_suggest(eff.supplier, sc.suppliers)}",
            eff.supplier,
        )
    for k, mid in enumerate(eff.materials or []):
        if mid not in sc.materials:
            yield Problem(
                (*path, "materials", k),
                f"unknown material {mid!r}{_suggest(mid, sc.materials)}",
                mid,
            )
    if eff.reach is not None and eff.supplier is not None:
        yield Problem(
            (*path, "reach"),
            "`reach` widens a country's effect to the suppliers it controls; a supplier "
            "effect hits that supplier only (remove `reach`)",
            eff.reach,
        )
    yield from _period_problems(eff, path, sc.horizon.periods)
    yield from _date_problems(eff, path, sc.horizon.start)


def _period_problems(eff: Effect, path: tuple[str | int, ...], periods: int) -> Iterator[Problem]:
    if eff.to_period is not None and eff.to_period > periods:
        yield Problem(
            (*path, "to_period"), f"must be <= horizon.periods ({periods})", eff.to_period
        )
    if eff.from_period is None:
        return
    last = min(eff.to_period if eff.to_period is not None else periods, periods)
    if eff.from_period > periods:
        yield Problem(
            (*path, "from_period"), f"must be <= horizon.periods ({periods})", eff.from_period
        )
    elif eff.to_period is not None and eff.from_period > last:
        yield Problem((*path, "from_period"), f"must be <= to_period ({last})", eff.from_period)


def _date_problems(
    eff: Effect, path: tuple[str | int, ...], start: dt.date | None
) -> Iterator[Problem]:
    """`from_date`/`to_date`: not with the period form, only with a start, in order."""
    for date_key, period_key in (("from_date", "from_period"), ("to_date", "to_period")):
        date = getattr(eff, date_key)
        if date is None:
            continue
        if getattr(eff, period_key) is not None:
            yield Problem(
                (*path, date_key), f"give either {period_key} or {date_key}, not both", str(date)
            )
        if start is None:
            yield Problem(
                (*path, date_key),
                "a date needs the calendar date of day 0: set horizon.start (YYYY-MM-DD)",
                str(date),
            )
    if eff.from_date is not None and eff.to_date is not None and eff.from_date > eff.to_date:
        yield Problem(
            (*path, "from_date"),
            f"must be on or before to_date ({eff.to_date})",
            str(eff.from_date),
        )


def date_period(date: dt.date, start: dt.date, period_days: float) -> int:
    """The period that contains a date: `floor((date - start).days / D) + 1` (may lie
    outside 1..P; DESIGN §4)."""
    return math.floor((date - start).days / period_days) + 1


def effect_window(eff: Effect, horizon: Horizon) -> tuple[int, int] | None:
    """First and last period (1-based, inclusive) an effect hits, clipped to the horizon;
    None when the window lies wholly outside it (DESIGN §4)."""
    periods = horizon.periods
    first, last = eff.from_period or 1, eff.to_period or periods
    if eff.from_date is not None and horizon.start is not None:
        first = date_period(eff.from_date, horizon.start, horizon.period_days)
    if eff.to_date is not None and horizon.start is not None:
        last = date_period(eff.to_date, horizon.start, horizon.period_days)
    first, last = max(first, 1), min(last, periods)
    return (first, last) if first <= last else None


def hits(sc: Scenario, eff: Effect, supplier: str, material: str) -> bool:
    """Whether an effect hits one offer: its supplier (or country, with `reach: controlled`
    also the suppliers controlled by it) and its material."""
    sup = sc.suppliers[supplier]
    if eff.supplier is not None and eff.supplier != supplier:
        return False
    controlled = eff.reach == "controlled" and eff.country in sup.controlled_by
    if eff.country is not None and sup.country != eff.country and not controlled:
        return False
    return eff.materials is None or material in eff.materials


def scenario_warnings(sc: Scenario) -> Iterator[Problem]:
    """Values that are valid but probably not what was meant; each at its field path."""
    for code, country in sc.countries.items():
        if country.tariff > 1:
            yield Problem(("countries", code, "tariff"), _percent_note(country.tariff))
    if sc.spot_premium > 1:
        yield Problem(("spot_premium",), _percent_note(sc.spot_premium, "a premium"))
    for sid, sup in sc.suppliers.items():
        if sup.tariff is not None and sup.tariff > 1:
            yield Problem(("suppliers", sid, "tariff"), _percent_note(sup.tariff))
        if sc.countries and sup.country not in sc.countries and (
            sup.risk is None or sup.tariff is None
        ):
            missing = " and ".join(
                k for k, v in (("risk", sup.risk), ("tariff", sup.tariff)) if v is None
            )
            yield Problem(
                ("suppliers", sid, "country"),
                f"country {sup.country!r} has no entry in `countries`: this supplier's "
                f"{missing} default{'s' if ' and ' not in missing else ''} to 0",
            )
    yield from _window_warnings(sc)


def _percent_note(value: float, what: str = "a tariff") -> str:
    return (
        f"{what} of {value:g} is read as {100 * value:g}% (fractions are fractions); if you "
        f"meant {value:g}%, write {value / 100:g}"
    )


def _window_warnings(sc: Scenario) -> Iterator[Problem]:
    horizon = sc.horizon
    start = horizon.start
    if start is None:
        return
    try:
        last_day = start + dt.timedelta(days=math.ceil(horizon.periods * horizon.period_days) - 1)
        span = f"{start} to {last_day}"
    except OverflowError:
        span = f"{horizon.periods} periods from {start}"
    for key, events in (("disruptions", sc.disruptions), ("risks", sc.risks)):
        for i, event in enumerate(events):
            for j, eff in enumerate(event.effects):
                path = (key, i, "effects", j)
                window = effect_window(eff, horizon)
                for date_key in ("from_date", "to_date"):
                    date = getattr(eff, date_key)
                    if date is None:
                        continue
                    if 1 <= date_period(date, start, horizon.period_days) <= horizon.periods:
                        continue
                    what = (
                        "the effect hits nothing"
                        if window is None
                        else f"the effect is clipped to periods {window[0]}-{window[1]}"
                    )
                    yield Problem(
                        (*path, date_key), f"{date} lies outside the horizon ({span}): {what}"
                    )


def _suggest(name: str, names: Iterable[str]) -> str:
    """A hint for an unknown id: the closest known ids, else a few known ones."""
    items = sorted(names)
    if not items:
        return ""
    close = difflib.get_close_matches(name, items, n=3, cutoff=0.6)
    if not close:  # case slips (`cn` for `CN`) are not caught by the ratio
        close = [item for item in items if item.lower() == name.lower()]
    if close:
        return "; did you mean " + " or ".join(repr(c) for c in close) + "?"
    shown = ", ".join(items[:5]) + (", ..." if len(items) > 5 else "")
    return f"; known: {shown}"


def json_schema() -> dict[str, Any]:
    """JSON Schema of a scenario file, draft-07 (what yaml-language-server reads)."""
    schema = Scenario.model_json_schema(ref_template="#/definitions/{model}")
    schema["definitions"] = schema.pop("$defs", {})
    _id_keys(schema)
    return {"$schema": "http://json-schema.org/draft-07/schema#", **schema}


def _id_keys(node: Any) -> None:
    """Mappings keyed by ids: check every key against the pattern and every value.

    Why: pydantic writes `patternProperties`, under which a key that breaks the
    pattern (`cn baotou`) passes unchecked in an editor, value and all.
    """
    if isinstance(node, list):
        for item in node:
            _id_keys(item)
        return
    if not isinstance(node, dict):
        return
    patterns = node.get("patternProperties")
    if isinstance(patterns, dict) and len(patterns) == 1:
        ((pattern, value),) = patterns.items()
        del node["patternProperties"]
        node["propertyNames"] = {**node.get("propertyNames", {}), "pattern": pattern}
        node["additionalProperties"] = value
    for item in node.values():
        _id_keys(item)
