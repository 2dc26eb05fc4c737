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
    safety_stock: NonNeg = Field(
        0, description="Target stock at the end of each period [quantity_unit]."
    )
    safety_stock_penalty: NonNeg | None = Field(
        None,
        description="Cost per unit below the safety stock, per period "
        "[currency/quantity_unit/period]; default shortage_cost / 10.",
    )

    @property
    def penalty_below_safety_stock(self) -> float:
        """Per-unit, per-period cost of falling below the safety stock."""
        if self.safety_stock_penalty is not None:
            return self.safety_stock_penalty
        return self.shortage_cost / 10.0


class Country(_Strict):
    """Defaults for the suppliers of one country."""

    tariff: TariffRate = Field(
        0,
        description="Import tariff as a fraction of the price (0.25 = 25%; a rate may exceed "
        "1, e.g. 1.45 = 145%) [fraction].",
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
    fixed_cost: NonNeg = Field(
        0, description="One-off cost if the supplier is used at all [currency]."
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
    from_period: int = Field(1, ge=1, description="First period hit (1-based).")
    to_period: int | None = Field(None, ge=1, description="Last period hit; default the last.")


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
        le=100,
        description="Spot price = landed price * (1 + spot_premium) [fraction]; default 0.5.",
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
    for code in sc.policy.max_country_share:
        if code not in countries:
            yield Problem(
                ("policy", "max_country_share", code),
                f"unknown country {code!r}: no supplier is there and `countries` does not list it"
                f"{_suggest(code, countries)}",
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
    """Country codes a policy or an effect may name: those of suppliers and of `countries`."""
    return {s.country for s in sc.suppliers.values()} | set(sc.countries)


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


def _offer_problems(sc: Scenario) -> Iterator[Problem]:
    periods = sc.horizon.periods
    for sid, sup in sc.suppliers.items():
        for mid, offer in sup.offers.items():
            base = ("suppliers", sid, "offers", mid)
            if mid not in sc.materials:
                yield Problem(
                    base, f"offer for unknown material {mid!r}{_suggest(mid, sc.materials)}", mid
                )
            if isinstance(offer.price, list):
                yield from _check_list(offer.price, periods, (*base, "price"))
            if isinstance(offer.capacity, list):
                yield from _check_list(offer.capacity, periods, (*base, "capacity"))


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
    yield from _period_problems(eff, path, sc.horizon.periods)


def _period_problems(eff: Effect, path: tuple[str | int, ...], periods: int) -> Iterator[Problem]:
    if eff.to_period is not None and eff.to_period > periods:
        yield Problem(
            (*path, "to_period"), f"must be <= horizon.periods ({periods})", eff.to_period
        )
    last = min(eff.to_period if eff.to_period is not None else periods, periods)
    if eff.from_period > periods:
        yield Problem(
            (*path, "from_period"), f"must be <= horizon.periods ({periods})", eff.from_period
        )
    elif eff.from_period > last:
        yield Problem((*path, "from_period"), f"must be <= to_period ({last})", eff.from_period)


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
