"""Whether a policy that leaves a material no admissible mix matters (DESIGN §4: exit 3
only where the same scenario without it would buy some of the material).
"""

from __future__ import annotations

from optimizer.app.checked_solve import solve_stock_first
from optimizer.common.errors import InfeasiblePolicy, NoSolution
from optimizer.model.build import build_model
from optimizer.model.decompose import material_groups, restrict
from optimizer.model.parameters import Parameters, build_parameters
from optimizer.model.presolve import PolicyConflict
from optimizer.schema.scenario import Scenario
from optimizer.solve.status import SolverOptions


def matters(params: Parameters, conflict: PolicyConflict, options: SolverOptions) -> bool:
    """A policy that leaves a material no admissible mix matters only where the same
    scenario without it would buy some of the material (DESIGN §4). With the policy the
    plan buys none of it, so without it the plan buys some exactly when that is cheaper:
    both are solved for the material's group of materials alone, and compared (a tie, where
    one optimum buys and another does not, does not matter)."""
    sc = params.scenario
    relaxed = build_parameters(sc.model_copy(update=_without(sc, conflict.policy)))
    mi = params.materials.index(conflict.material)
    group = next(g for g in material_groups(relaxed) if mi in g)
    costs = []
    for p in (params, relaxed):
        part = restrict(p, group)
        try:
            _, result, _, _ = solve_stock_first(part.params, options, build_model)
        except InfeasiblePolicy:
            return True
        except NoSolution:
            return True
        costs.append(float(result.objective or 0.0))
    capped, free = costs
    return free < capped - 1e-9 * max(1.0, abs(capped))


def _without(sc: Scenario, policy_name: str) -> dict[str, object]:
    """The fields of a scenario without the policy a conflict names (for `model_copy`)."""
    policy = sc.policy
    if policy_name == "min_suppliers":
        return {"policy": policy.model_copy(update={"min_suppliers": None})}
    if policy_name == "max_average_risk":
        return {"policy": policy.model_copy(update={"max_average_risk": None})}
    relaxed = policy.model_copy(
        update={
            "max_supplier_share": None,
            "max_country_share": {},
            "max_country_exposure": {},
            "max_average_risk": None,
        }
    )
    suppliers = {sid: s.model_copy(update={"max_share": None}) for sid, s in sc.suppliers.items()}
    return {"policy": relaxed, "suppliers": suppliers}

