"""The scenario file as pydantic models (DESIGN §3).

The models are the single source of truth for what a scenario file may say:
the loader validates against them and `sourcing schema` prints their JSON
Schema. All models are frozen and strict: unknown keys are errors, numbers
must be numbers (a quoted "100" is not silently read as 100), and NaN or
infinity are rejected. Cross-references (an offer for an unknown material, an
effect naming an unknown supplier, per-period lists of the wrong length, ...)
are checked after the fields by `optimizer.schema.references`, each problem
with the field path it belongs to.

Longer than 400 lines because the models are the schema of §3, read top to bottom
in the order of the file they describe; cross-references live in `references`.
"""

from __future__ import annotations

import datetime as dt
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


TableRef = Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class Tables(_Strict):
    """Suppliers, offers and demand read from spreadsheets (DESIGN §3.1).

    Each entry is a CSV file or a sheet of an .xlsx workbook (`book.xlsx#Sheet`), relative
    to the file that names it. A row's columns are the fields of a supplier, an offer or a
    material; a per-period field takes one column (`price`), one column per period
    (`price_1` ... `price_P`), or, with a `period` (or `date`) column, one row per period.
    """

    suppliers: TableRef | None = Field(
        None,
        description="Table of suppliers, one row each: `id`, `country` and any other supplier "
        "field (risk, tariff, freight, lead_time_days, ...); a CSV file or book.xlsx#Sheet.",
    )
    offers: TableRef | None = Field(
        None,
        description="Table of offers, one row per supplier and material (or per period, with a "
        "`period` or `date` column): `supplier`, `material`, `price`, `capacity` and any other "
        "offer field; per-period fields also as `price_1` ... `price_P`.",
    )
    demand: TableRef | None = Field(
        None,
        description="Table of demand, one row per material (or per material and period, with a "
        "`period` or `date` column): `material`, `demand` (or `demand_1` ... `demand_P`) and "
        "any other material field.",
    )


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
    tables: Tables | None = Field(
        None,
        exclude=True,
        description="Suppliers, offers and demand from CSV files or Excel sheets, combined "
        "with what this file says (DESIGN §3.1); paths relative to this file.",
    )
    materials: dict[Id, Material] = Field(min_length=1, description="Materials by id.")
    countries: dict[Id, Country] = Field(
        default_factory=dict, description="Country defaults by country code."
    )
    suppliers: dict[Id, Supplier] = Field(min_length=1, description="Suppliers by id.")
    policy: Policy = Field(default_factory=Policy)  # type: ignore[arg-type]
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
    objective: Objective = Field(default_factory=Objective)  # type: ignore[arg-type]

    @model_validator(mode="after")
    def _check_references(self) -> Scenario:
        from optimizer.schema.references import reference_problems  # it reads Scenario

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
