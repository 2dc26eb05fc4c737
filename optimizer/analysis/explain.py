"""Why a policy is infeasible: the smallest set of policies whose removal makes it feasible.

When a scenario has no plan that meets its policy (a pre-solve conflict of
`optimizer.feasibility`, or the solver proving infeasibility), the policy
families are relaxed one at a time, then two at a time, and so on:

- `min_suppliers` (with its `min_supplier_share`);
- the single-source caps: `policy.max_supplier_share` and every supplier's
  own `max_share`;
- `policy.max_country_share.<country>`, one country at a time;
- `policy.max_average_risk`;
- `min_order` of every offer.

Feasibility is decided per material (no policy row couples two materials):
a material is feasible under a relaxed policy when it has no pre-solve
conflict and its model alone (one material, the undisrupted case only: the
second stage never makes a plan infeasible) has a plan. The first sets of
the smallest size that make every infeasible material feasible are the
answer, each policy named with the file and line that set it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from optimizer.analysis.runner import Runner
from optimizer.io.load import LoadedScenario, resolved_data
from optimizer.io.where import dotted_path
from optimizer.model.decompose import restrict
from optimizer.model.parameters import Parameters, build_parameters
from optimizer.model.presolve import PathKey, PolicyConflict, policy_conflicts
from optimizer.schema.scenario import Scenario

MAX_SET = 3  # largest set of policies tried before giving up on a smallest one

MAX_LINES_PER_POLICY = 5  # e.g. min_order set on many offers

SOLVER_REASON = "the solver finds no plan that meets the policy"


@dataclass(frozen=True)
class Relaxable:
    """A policy that can be removed: its name, family, and the field paths that set it."""

    name: str  # e.g. policy.max_country_share.CN
    family: str  # min_suppliers, supplier_share, country_share, average_risk, min_order
    paths: tuple[PathKey, ...]
    subject: str = ""  # the country of a country cap

    def concerns(self, p: Parameters, mi: int) -> bool:
        """Whether the policy can matter for material `mi` at all."""
        offers = p.offers_of(mi)
        if self.family == "country_share":
            return any(p.country[p.offer_supplier[o]] == self.subject for o in offers)
        if self.family == "min_order":
            return bool((p.min_order[offers] > 0).any())
        return True


@dataclass(frozen=True)
class Explanation:
    """The smallest sets of policies to remove, and per material why it is infeasible."""

    removals: tuple[tuple[Relaxable, ...], ...]  # alternatives of the smallest size
    needs: dict[str, tuple[tuple[str, str], ...]]  # policy -> (material, reason), first set
    reasons: dict[str, str]  # material -> why it is infeasible as given


def relaxables(sc: Scenario) -> list[Relaxable]:
    """Every policy the scenario sets that could make it infeasible, in a fixed order."""
    pol = sc.policy
    out = []
    if pol.min_suppliers:
        out.append(
            Relaxable("policy.min_suppliers", "min_suppliers", (("policy", "min_suppliers"),))
        )
    single: list[PathKey] = [("policy", "max_supplier_share")] if pol.max_supplier_share else []
    single += [
        ("suppliers", s, "max_share") for s in sorted(sc.suppliers) if sc.suppliers[s].max_share
    ]
    if single:
        out.append(Relaxable(dotted_path(single[0]), "supplier_share", tuple(single)))
    for code in sorted(pol.max_country_share):
        if pol.max_country_share[code] < 1.0:
            path: PathKey = ("policy", "max_country_share", code)
            out.append(Relaxable(dotted_path(path), "country_share", (path,), code))
    if pol.max_average_risk is not None and pol.max_average_risk < 1.0:
        out.append(
            Relaxable("policy.max_average_risk", "average_risk", (("policy", "max_average_risk"),))
        )
    orders: list[PathKey] = [
        ("suppliers", s, "offers", m, "min_order")
        for s in sorted(sc.suppliers)
        for m in sorted(sc.suppliers[s].offers)
        if sc.suppliers[s].offers[m].min_order > 0
    ]
    if orders:
        out.append(Relaxable("min_order", "min_order", tuple(orders)))
    return out


def relaxed(sc: Scenario, removed: Sequence[Relaxable]) -> Scenario:
    """The scenario without the given policies."""
    data = resolved_data(sc)
    policy = data.setdefault("policy", {})
    for item in removed:
        if item.family == "min_suppliers":
            policy.pop("min_suppliers", None)
        elif item.family == "supplier_share":
            policy.pop("max_supplier_share", None)
            for sup in data["suppliers"].values():
                sup.pop("max_share", None)
        elif item.family == "country_share":
            policy.get("max_country_share", {}).pop(item.subject, None)
        elif item.family == "average_risk":
            policy.pop("max_average_risk", None)
        elif item.family == "min_order":
            for sup in data["suppliers"].values():
                for offer in sup["offers"].values():
                    offer.pop("min_order", None)
    return Scenario.model_validate(data)


def _alone(p: Parameters, mi: int) -> Parameters:
    """Material `mi` alone, in the undisrupted case only."""
    sub = restrict(p, [mi]).params
    base = replace(
        sub.outcomes[0],
        probability=1.0,
        avail=np.ones_like(sub.capacity),
        price=np.ones_like(sub.capacity),
        spot=False,
        events=(),
    )
    return replace(sub, outcomes=(base,))


def feasible_material(p: Parameters, mi: int, runner: Runner) -> bool:
    """No pre-solve conflict for the material and its model alone has a plan."""
    sub = _alone(p, mi)
    if policy_conflicts(sub):
        return False
    return runner.has_plan(sub)


def explain(
    sc: Scenario,
    conflicts: Sequence[PolicyConflict],
    runner: Runner,
) -> Explanation | None:
    """The smallest sets of policies whose removal makes every material feasible.

    None when the scenario is feasible after all, or no set of at most
    MAX_SET policies helps.
    """
    search = _Search(sc, runner)
    p = search.params(())
    reasons: dict[str, str] = {}
    for c in conflicts:
        reasons.setdefault(c.material, c.message)
    for mi, mid in enumerate(p.materials):
        if mid not in reasons and not conflicts and not search.feasible((), mi):
            reasons[mid] = search.reason((), mi)
    if not reasons:
        return None
    bad = [p.materials.index(m) for m in sorted(reasons)]
    items = [r for r in relaxables(sc) if any(r.concerns(p, mi) for mi in bad)]
    for size in range(1, min(MAX_SET, len(items)) + 1):
        found = [
            combo
            for combo in itertools.combinations(items, size)
            if all(search.feasible(combo, mi) for mi in bad)
        ]
        if found:
            return Explanation(tuple(found), _needs(search, found[0], bad), reasons)
    return None


def _needs(
    search: _Search, removal: tuple[Relaxable, ...], bad: list[int]
) -> dict[str, tuple[tuple[str, str], ...]]:
    """Per policy of a removal: the materials still infeasible with only the others removed,
    each with the reason then (the conflict this policy causes)."""
    out = {}
    for item in removal:
        others = tuple(i for i in removal if i is not item)
        out[item.name] = tuple(
            (search.params(others).materials[mi], search.reason(others, mi))
            for mi in bad
            if not search.feasible(others, mi)
        )
    return out


class _Search:
    """Feasibility of each material under relaxed policies, remembered."""

    def __init__(self, sc: Scenario, runner: Runner) -> None:
        self.sc = sc
        self.runner = runner
        self._params: dict[tuple[str, ...], Parameters] = {}
        self._answers: dict[tuple[tuple[str, ...], int], bool] = {}

    def params(self, removed: tuple[Relaxable, ...]) -> Parameters:
        """Parameters of the scenario without the `removed` policies."""
        key = tuple(sorted(r.name for r in removed))
        if key not in self._params:
            sc = relaxed(self.sc, removed) if removed else self.sc
            self._params[key] = build_parameters(sc)
        return self._params[key]

    def feasible(self, removed: tuple[Relaxable, ...], mi: int) -> bool:
        """Whether material `mi` has a plan once the `removed` policies are gone."""
        key = (tuple(sorted(r.name for r in removed)), mi)
        if key not in self._answers:
            self._answers[key] = feasible_material(self.params(removed), mi, self.runner)
        return self._answers[key]

    def reason(self, removed: tuple[Relaxable, ...], mi: int) -> str:
        """Why material `mi` is infeasible once the `removed` policies are gone."""
        conflicts = policy_conflicts(_alone(self.params(removed), mi))
        return conflicts[0].message if conflicts else SOLVER_REASON


def explanation_lines(loaded: LoadedScenario, ex: Explanation) -> list[str]:
    """`file:line: policy.path: infeasible for material: reason (what removing it does)`."""
    first = ex.removals[0]
    lines = []
    for item in first:
        others = [i.name for i in first if i is not item]
        effect = (
            "removing this policy alone makes it feasible"
            if not others
            else f"removing it together with {' and '.join(others)} makes it feasible"
        )
        needs = ex.needs.get(item.name) or tuple(sorted(ex.reasons.items()))
        text = "; ".join(f"infeasible for {m}: {why}" for m, why in needs)
        shown = item.paths[:MAX_LINES_PER_POLICY]
        for path in shown:
            lines.append(f"{_where(loaded, path)}: {dotted_path(path)}: {text} ({effect})")
        if len(item.paths) > len(shown):
            lines.append(f"  ... and {len(item.paths) - len(shown)} more {item.name} settings")
    for alt in ex.removals[1:4]:
        names = " and ".join(f"{i.name} ({_where(loaded, i.paths[0])})" for i in alt)
        lines.append(f"alternatively, removing {names} makes it feasible")
    return lines


def _where(loaded: LoadedScenario, path: PathKey) -> str:
    file, line = loaded.locate(path)
    return f"{file}:{line}" if line else file


def explain_loaded(
    loaded: LoadedScenario,
    conflicts: Sequence[PolicyConflict],
    runner: Runner,
) -> list[str]:
    """The explanation of a loaded scenario's infeasibility as message lines ([] if none)."""
    ex = explain(loaded.scenario, conflicts, runner)
    return [] if ex is None else explanation_lines(loaded, ex)
