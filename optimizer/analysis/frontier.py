"""The cost of diversification: `sourcing frontier SCENARIO --country CN --shares ...`.

The scenario is solved again for every cap on one country's share,
`policy.max_country_share[country] = share` (1 means no cap), each point an
independent job (in parallel when the executor allows). Tightening the cap
only removes plans, so the optimal cost never falls as the share goes down
(up to the MIP gap). A point whose policy is infeasible is a point with
status "infeasible" and the reason, not an error.

Per point: status, objective, total (fixed + expected) cost, the expected
shortage penalty (money, the `shortage` item of the plan's costs), the
expected shortage per material (tonnes of different materials are never
added), the volume-weighted average risk, the country's actual share of all
planned volume and its largest share of one material (the figure the cap
bounds).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError

from optimizer.analysis.runner import Mapper, Runner
from optimizer.common.errors import InfeasiblePolicy, NoSolution, UserError
from optimizer.io.load import resolved_data
from optimizer.results.plan import Plan
from optimizer.schema.scenario import Scenario

COLUMNS = [
    "share",
    "status",
    "objective",
    "total_cost",
    "shortage_cost",
    # then `shortage: MATERIAL` per material (`shortage_column`), in the table only
    "average_risk",
    "country_share",
    "max_material_share",
    "message",
]
BEFORE_SHORTAGES = COLUMNS.index("shortage_cost") + 1  # where the per-material columns go


def shortage_column(material: str) -> str:
    """The column (CSV) and key (JSON) of a material's expected shortage in its unit."""
    return f"shortage: {material}"


@dataclass(frozen=True)
class FrontierPoint:
    """One cap on the country's share and what the best plan under it achieves."""

    share: float
    status: str  # optimal, feasible (time limit), infeasible, no_solution, error
    objective: float | None = None
    total_cost: float | None = None
    shortage_cost: float | None = None  # expected shortage penalty (money)
    # expected shortage per material, in the scenario's unit (never added up)
    shortage_by_material: dict[str, float] = field(default_factory=dict)
    average_risk: float | None = None
    country_share: float | None = None  # of all planned volume
    max_material_share: float | None = None  # largest share of one material
    message: str = ""

    @property
    def has_plan(self) -> bool:
        """True when the point has a plan (optimal or feasible)."""
        return self.status in ("optimal", "feasible")


def parse_shares(text: str) -> list[float]:
    """`1,0.8,0.6` -> [1.0, 0.8, 0.6]; each a fraction in [0, 1]."""
    shares = []
    for part in text.split(","):
        part = part.strip()
        try:
            value = float(part)
        except ValueError:
            raise UserError(f"--shares: {part!r} is not a number") from None
        if not 0.0 <= value <= 1.0:
            raise UserError(f"--shares: {part} is not a fraction between 0 and 1")
        shares.append(value)
    if not shares:
        raise UserError("--shares: give at least one share, e.g. 1,0.8,0.6")
    return shares


def with_country_cap(scenario: Scenario, country: str, share: float) -> Scenario:
    """The scenario with `policy.max_country_share[country] = share` (validated again)."""
    data = resolved_data(scenario)
    policy = data.setdefault("policy", {})
    policy["max_country_share"] = {**policy.get("max_country_share", {}), country: share}
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        messages = "; ".join(
            str(e["msg"]).removeprefix("Value error, ") for e in exc.errors(include_url=False)
        )
        raise UserError(f"--country {country}: {messages}") from None


def point_of(share: float, country: str, plan: Plan, status: str) -> FrontierPoint:
    """The figures of one solved point."""
    volume = float(plan.orders["quantity"].sum())
    risk = None
    shares = [k["share_by_country"].get(country, 0.0) for k in plan.materials.values()]
    if volume > 0:
        weighted = sum((k["average_risk"] or 0.0) * k["volume"] for k in plan.materials.values())
        risk = weighted / volume
    mine = float(plan.orders.loc[plan.orders["country"] == country, "quantity"].sum())
    return FrontierPoint(
        share=share,
        status=status,
        objective=plan.objective,
        total_cost=plan.total_cost,
        shortage_cost=float(plan.costs["shortage"]),
        shortage_by_material={
            m: float(k["expected_shortage"]) for m, k in sorted(plan.materials.items())
        },
        average_risk=risk,
        country_share=mine / volume if volume > 0 else None,
        max_material_share=max(shares, default=0.0),
    )


def solve_point(job: tuple[Runner, Scenario, str, float]) -> FrontierPoint:
    """Solve one point; never raises (infeasible and failed points come back as statuses)."""
    runner, scenario, country, share = job
    try:
        plan = runner.solve(with_country_cap(scenario, country, share))
    except InfeasiblePolicy as exc:
        return FrontierPoint(share, "infeasible", message=str(exc))
    except NoSolution as exc:
        return FrontierPoint(share, "no_solution", message=str(exc))
    except Exception as exc:  # a bug or a plan failing its check: reported, not raised
        return FrontierPoint(share, "error", message=f"{type(exc).__name__}: {exc}")
    return point_of(share, country, plan, plan.status)


def frontier(
    scenario: Scenario,
    country: str,
    shares: Sequence[float],
    runner: Runner,
    mapper: Mapper,
) -> list[FrontierPoint]:
    """Solve the scenario under each cap on `country`'s share, in the order given."""
    with_country_cap(scenario, country, 1.0)  # an unknown country is a user error, early
    jobs = [(runner, scenario, country, float(s)) for s in shares]
    return mapper.map(solve_point, jobs, label="frontier")
