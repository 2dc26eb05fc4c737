"""`summary.json` as pydantic models: the one form of a run's summary (DESIGN §5).

Written by `sourcing run`, read back by `report`, `stress`, `survive` and
`compare`, and published as a JSON Schema (`sourcing schema --of summary`) so
that programs that consume the output have a contract too. Every model is
frozen and forbids unknown keys: a tampered or truncated summary is an error
naming what is wrong, never a half-read report.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Money = float  # in the scenario's currency

Quantity = float  # in the scenario's quantity unit

Share = float  # a fraction, 0..1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class SpendCosts(_Model):
    """Money that leaves the company, expected over the scenarios [currency]."""

    purchase: Money = Field(description="Planned volume delivered, at its landed cost.")
    spot: Money = Field(description="Spot buys in disruptions, at landed cost plus premium.")
    reservation: Money = Field(description="Fees for capacity reserved (option contracts).")
    called: Money = Field(description="Reserved capacity called, at its exercise price.")
    fixed: Money = Field(description="Fixed costs of the suppliers used (planned or reserved).")
    holding: Money = Field(description="Cost of holding stock at the end of each period.")


class PenaltyCosts(_Model):
    """Modelled penalties, not paid, expected over the scenarios [currency]."""

    delay: Money = Field(description="Delay penalty per unit per day of lead time and licence.")
    shortage: Money = Field(description="Demand not met, at its shortage cost (lost output).")
    safety_stock: Money = Field(description="The plan below its safety stock, per period.")
    end_stock: Money = Field(description="The plan ending below its end stock.")


class Costs(_Model):
    """The cost breakdown: spend and penalties apart, and the objective's CVaR term."""

    spend: SpendCosts
    penalties: PenaltyCosts
    total_spend: Money
    total_penalties: Money
    cvar_term: Money = Field(description="cvar_weight * CVaR of C[w] (0 without cvar).")
    # the item names of version 1, kept for programs that read them
    purchase: Money
    delay: Money
    spot: Money
    holding: Money
    shortage: Money
    safety_stock: Money
    fixed: Money


class Optimises(_Model):
    """What the plan minimises: expected cost, or expected cost plus weighted CVaR."""

    risk_measure: Literal["expected", "cvar"]
    cvar_alpha: float
    cvar_weight: float

    def text(self) -> str:
        """In words: `expected cost`, or `expected cost + [w x ]CVaR alpha`."""
        if self.risk_measure != "cvar":
            return "expected cost"
        w = "" if self.cvar_weight == 1.0 else f"{self.cvar_weight:g} x "
        return f"expected cost + {w}CVaR {self.cvar_alpha:g}"


class Tail(_Model):
    """VaR and CVaR of the plan's total cost (F + C[w]) at `alpha`."""

    alpha: float
    var: Money
    cvar: Money


class EndPosition(_Model):
    """What the plan hands to the next horizon, in its own world w0."""

    closing: Quantity
    end_stock: Quantity
    below_end_stock: Quantity
    days_of_cover: float | None = Field(description="closing / last demand * period_days.")


class MaterialSummary(_Model):
    """Per material: volume, money, mix, risk, shortage, end position, reservations."""

    volume: Quantity = Field(description="Planned volume over the horizon.")
    demand: Quantity
    planned_cost: Money = Field(description="Planned volume at its landed cost.")
    average_unit_cost: Money | None = Field(description="planned_cost / volume.")
    share_by_supplier: dict[str, Share]
    share_by_country: dict[str, Share]
    exposure_by_country: dict[str, Share] = Field(
        description="Share from suppliers in a country or controlled by it."
    )
    average_risk: float | None
    expected_shortage: Quantity
    expected_shortage_cost: Money
    worst_shortage: Quantity = Field(description="Largest over scenarios with probability > 0.")
    service_level: Share
    end_position: EndPosition
    reserved: Quantity = Field(description="Capacity reserved over the horizon.")
    expected_called: Quantity
    called_by_scenario: dict[str, Quantity] = Field(description="Non-zero calls per scenario.")


class ScenarioSummary(_Model):
    """One scenario w: probability, cost (F + C[w]), shortage, spot and calls."""

    name: str
    probability: float
    cost: Money
    shortage: Quantity
    spot: Quantity
    called: Quantity


class Decomposition(_Model):
    """How the scenario decomposition (L-shaped / Benders) ended, over its parts."""

    parts: int = Field(description="Parts (groups of materials) solved by it.")
    rounds: int = Field(description="Master solves, summed over the parts.")
    cuts: int = Field(description="Optimality cuts added, summed over the parts.")
    subproblems: int = Field(description="Recourse blocks (material x distinct scenario).")
    workers: int = Field(description="Processes or cluster workers that solved the blocks.")
    lower_bound: Money = Field(description="The masters' bound, summed over the parts.")
    objective: Money = Field(description="The best plan's objective, summed over the parts.")
    gap: float = Field(description="Largest relative gap between bound and plan of a part.")
    target_gap: float = Field(description="The gap at which a part stops (1e-7, or the MIP gap).")
    proven: bool = Field(description="Every part stopped within its target gap.")
    stock_first_binaries: int = Field(description="Stock-before-shortage binaries in w0.")


class ModelSize(_Model):
    """The model solved (summed over its parts when decomposed)."""

    kind: str
    variables: int
    rows: int
    nonzeros: int
    binaries: int
    scenarios: int
    parts: int
    merged_scenarios: int | None = Field(
        default=None,
        description="Scenarios solved after merging identical ones within each part "
        "(only when decomposed).",
    )
    benders: Decomposition | None = Field(
        default=None, description="Only when a part was solved by the scenario decomposition."
    )


class SolverSummary(_Model):
    """Which solver, its status, and where the time went."""

    name: str
    status: str
    message: str
    gap: float | None
    seconds: float
    timings: dict[str, float]


class ShadowPrice(_Model):
    """A binding cap or capacity: what relaxing it by one step saves, and its range."""

    constraint: str
    material: str
    subject: str
    period: int | None
    limit: float
    used: float
    marginal: float
    per_step: Money
    step: float
    policy_path: str
    range_low: float | None
    range_high: float | None
    unit: str


class Interval(_Model):
    """An estimate with its standard error and 95% confidence interval."""

    value: float
    stderr: float
    ci95_low: float
    ci95_high: float


class CvarInterval(Interval):
    """CVaR of the cost at `alpha`, estimated out of sample."""

    alpha: float


class SamplingGap(_Model):
    """Optimality gap of the sampled problem (Mak, Morton and Wood): a lower bound from
    independent replications, an upper bound from the evaluation."""

    replications: int
    replication_seeds: list[int]
    replication_scenarios: int
    replication_objectives: list[float]
    lower_bound: Interval
    upper_bound: Interval
    gap: float
    gap_relative: float
    gap_upper95: float


class Evaluation(_Model):
    """`run --evaluate N`: the plan priced on fresh outcomes of the file's risks
    ("sampled"), or on the file's outcomes when they are the whole distribution
    ("exact", intervals of width 0)."""

    method: Literal["exact", "sampled"]
    outcomes: int
    distinct_outcomes: int
    seed: int | None
    expected_cost: Interval
    cvar: CvarInterval
    objective: Interval
    in_sample_objective: float
    saa: SamplingGap | None


class RunSummary(_Model):
    """The summary of a run (`summary.json`)."""

    scenario: str
    title: str | None
    file: str | None
    content_hash: str | None
    status: Literal["optimal", "feasible"]
    objective: Money
    total_cost: Money = Field(description="F plus expected cost: spend plus penalties.")
    spend: Money
    penalties: Money
    currency: str
    quantity_unit: str
    costs: Costs
    optimises: Optimises
    cvar: Tail | None
    materials: dict[str, MaterialSummary]
    suppliers_used: list[str]
    scenarios: list[ScenarioSummary]
    model: ModelSize
    solver: SolverSummary
    checked: bool
    shadow_prices: list[ShadowPrice]
    shadow_prices_note: str
    versions: dict[str, str]
    table_hashes: dict[str, str] | None = Field(
        default=None,
        description="SHA-256 of plan.csv, orders.csv and inventory.csv as written "
        "(`sha256:...`), so that `stress` can tell an edited table.",
    )
    evaluation: Evaluation | None = Field(
        default=None,
        description="The plan out of sample (`run --evaluate N`), with 95% intervals.",
    )
    extra: dict[str, Any] | None = Field(
        default=None,
        description="Further results of optional steps (e.g. an out-of-sample evaluation).",
    )

    def document(self) -> dict[str, Any]:
        """summary.json as a JSON document: the fields in order, `table_hashes`,
        `evaluation` and `extra` only when the run has them (a summary read back gives
        the keys it was read from)."""
        absent: dict[str, Any] = {
            name: True for name in OPTIONAL_RESULTS if getattr(self, name) is None
        }
        in_model = {name: True for name in OPTIONAL_SIZES if getattr(self.model, name) is None}
        if in_model:
            absent["model"] = in_model
        return self.model_dump(mode="json", exclude=absent)


OPTIONAL_RESULTS = ("table_hashes", "evaluation", "extra")  # keys written only when a run has them
OPTIONAL_SIZES = ("merged_scenarios", "benders")  # in `model`, only when decomposed


def fields_of(model: BaseModel) -> list[tuple[str, Any]]:
    """(name, value) of each field of a model, in the order of its class (e.g. the cost
    items of `SpendCosts` and `PenaltyCosts`)."""
    return [(name, getattr(model, name)) for name in type(model).model_fields]


def summary_json_schema() -> dict[str, Any]:
    """JSON Schema of summary.json, draft-07 (what `sourcing schema --of summary` prints)."""
    schema = RunSummary.model_json_schema(ref_template="#/definitions/{model}")
    schema["definitions"] = schema.pop("$defs", {})
    return {"$schema": "http://json-schema.org/draft-07/schema#", **schema}
