"""A fixed plan under other scenarios: `sourcing stress` (DESIGN §5).

The plan x and its reservations r (supplier, material, period -> quantity)
come from a run folder (plan.csv, with the run's own figures from summary.json
and inventory.csv) or from a scenario file, which is solved first. They are
held fixed and replayed in every scenario w of each OTHER file
(`optimizer.model.build_replay`): planned volume arrives as
`x_eff = min(x, capacity)` from OTHER's earliest arrival period on, at OTHER's
prices, availability and delays; what is missing is bought spot or called
from the reservations (in every scenario, w0 included) or goes short. The
plan's own terms F are those of OTHER's demand and targets. The replay is
checked like every plan (`check_plan(replay=True)`).

Per scenario of OTHER this reports the cost, per material the planned volume
delivered, spot volume and shortage (volumes of different materials are never
added), and the lowest service level over materials, next to the plan's own
figures; the policy caps of OTHER that the plan breaks (which
cap, which material, by how much, and the field that sets it); and the
regret: the replayed total (F + expected) cost minus that of OTHER's own
optimal plan (OTHER re-solved), and when OTHER optimises CVaR also the regret
on OTHER's objective (total cost plus the CVaR term). The regret can be
negative when the plan breaks OTHER's caps or buys spot in w0, which OTHER's
own plan may not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.analysis.fixed_plan import (
    EXPECTED,
    MATERIAL_FIGURES,
    FixedPlan,
    figure_columns,
    load_plan,
    material_column,
    materials_in,
    scenario_figures,
)
from optimizer.analysis.runner import Mapper, Runner
from optimizer.common.errors import JobFailed, failure
from optimizer.io.load import LoadedScenario, load_scenario
from optimizer.model.parameters import PlanKey
from optimizer.results.check import Breach, policy_breaches
from optimizer.results.plan import PLAN_KEYS, Plan
from optimizer.results.risk import cvar_of


@dataclass
class UnderResult:
    """The plan replayed under one OTHER file, and OTHER's own optimum."""

    path: str
    exit_code: int = 0
    message: str = ""
    scenario: str = ""  # OTHER's name
    figures: pd.DataFrame | None = None  # `figure_columns` per scenario of OTHER + "expected"
    replayed_cost: float = float("nan")  # F + expected cost of the replay
    optimal_cost: float | None = None  # F + expected cost of OTHER's own plan
    note: str = ""  # why there is no optimum, or plan volume OTHER does not offer
    replay: Plan | None = None
    breaches: list[Breach] = field(default_factory=list)  # OTHER's caps the plan breaks
    breach_lines: list[str] = field(default_factory=list)  # the same, with file and line
    objective_kind: str = "expected"  # what OTHER optimises: expected or cvar
    replayed_objective: float | None = None  # with cvar: total + the CVaR term of the replay
    optimal_objective: float | None = None  # with cvar: OTHER's own objective

    @property
    def regret(self) -> float | None:
        """Replayed total cost minus OTHER's optimal total cost."""
        return None if self.optimal_cost is None else self.replayed_cost - self.optimal_cost

    @property
    def objective_regret(self) -> float | None:
        """With cvar: replayed objective minus OTHER's optimal objective."""
        if self.replayed_objective is None or self.optimal_objective is None:
            return None
        return self.replayed_objective - self.optimal_objective


@dataclass
class StressReport:
    """A plan and its replays under each OTHER file, in the order given."""

    plan: FixedPlan
    unders: list[UnderResult] = field(default_factory=list)


@dataclass(frozen=True)
class UnderJob:
    """Replay a plan under one OTHER file and re-solve OTHER (one executor item)."""

    path: str
    quantities: dict[PlanKey, float]
    runner: Runner
    reserved: dict[PlanKey, float] = field(default_factory=dict)


def run_under(job: UnderJob) -> UnderResult:
    """Replay and re-solve one OTHER file; never raises (failures come back as exit codes)."""
    out = UnderResult(job.path)
    try:
        loaded = load_scenario(job.path)
        scenario = loaded.scenario
        plan, lost = job.runner.replay(scenario, job.quantities, job.reserved)
    except Exception as exc:  # invalid file, no answer, a bug: the exit code says which
        out.exit_code, out.message = failure(exc, job.path)
        return out
    out.scenario = scenario.name
    out.replay = plan
    out.figures = scenario_figures(plan.inventory, plan.scenarios)
    out.replayed_cost = plan.total_cost
    replayed = {
        (str(r.supplier), str(r.material), int(r.period)): float(r.quantity)
        for r in plan.orders.itertuples(index=False)
    }
    out.breaches = policy_breaches(scenario, replayed)
    out.breach_lines = [_located(loaded, b) for b in out.breaches]
    objective = scenario.objective
    out.objective_kind = objective.risk_measure
    if objective.risk_measure == "cvar" and plan.cvar is not None:
        probs = plan.scenarios["probability"].to_numpy(dtype=float)
        own_costs = plan.scenarios["cost"].to_numpy(dtype=float) - _plan_part(plan)
        tail = cvar_of(own_costs, probs, objective.cvar_alpha)["cvar"]
        out.replayed_objective = plan.total_cost + objective.cvar_weight * tail
    if lost > 0:
        unit = scenario.quantity_unit
        out.note = f"{lost:g} {unit} of the planned volume is not offered in {scenario.name}"
    own = job.runner.solve_file(job.path)
    if own.ok:
        assert own.summary is not None
        out.optimal_cost = own.summary.total_cost
        if out.replayed_objective is not None:
            out.optimal_objective = own.summary.objective
    else:
        note = f"no optimum of {scenario.name} to compare with (exit {own.exit_code}): "
        out.note = "; ".join(filter(None, [out.note, note + own.message]))
    return out


def stress(
    source: Path,
    unders: Sequence[Path],
    runner: Runner,
    mapper: Mapper,
    *,
    allow_edited: bool = False,
) -> StressReport:
    """Replay the plan of `source` under every file of `unders` (in parallel when allowed).

    Raises `JobFailed` (with the failing file's exit code) when the plan cannot
    be had or a replay fails; `UserError` when a run folder's tables are not
    the ones `run` wrote and `allow_edited` is off.
    """
    plan = load_plan(source, runner, allow_edited)
    jobs = [UnderJob(str(path), plan.quantities, runner, plan.reserved) for path in unders]
    results = mapper.map(run_under, jobs, label="stress")
    for r in results:
        if r.exit_code:
            raise JobFailed(r.message, r.exit_code)
    return StressReport(plan, results)


def _plan_part(plan: Plan) -> float:
    """F of a plan: the part of each scenario's reported cost that is the plan's own."""
    return float(sum(plan.costs[k] for k in PLAN_KEYS))


def _located(loaded: LoadedScenario, breach: Breach) -> str:
    """A broken cap as `file:line: field: message`."""
    file, line = loaded.locate(breach.path)
    where = f"{file}:{line}" if line else file
    return f"{where}: {'.'.join(breach.path)}: the plan breaks it: {breach}"


def stress_materials(report: StressReport) -> list[str]:
    """Every material of the plan's own run and of the replays, sorted."""
    found = set(materials_in(report.plan.figures))
    for u in report.unders:
        if u.figures is not None:
            found.update(materials_in(u.figures))
    return sorted(found)


def figures_table(report: StressReport) -> pd.DataFrame:
    """Every scenario's figures, the plan's own first: `run` names the plan or OTHER
    (stress.csv). Per material `planned_delivered: M`, `spot: M`, `shortage: M`
    (empty for a material a run does not have)."""
    frames = [report.plan.figures.assign(run=f"{report.plan.name} (own)")]
    for u in report.unders:
        assert u.figures is not None
        frames.append(u.figures.assign(run=u.scenario))
    table = pd.concat(frames, ignore_index=True)
    columns = ["run", *figure_columns(stress_materials(report))]
    return table.reindex(columns=columns)


def regret_table(report: StressReport) -> pd.DataFrame:
    """Per OTHER file: the replayed and optimal fixed + expected cost and the regret, the
    expected spot and shortage cost (money) and, per material, the expected spot and
    shortage volume (`spot: M`, `shortage: M`; regret.csv)."""
    materials = stress_materials(report)
    rows = []
    for u in report.unders:
        assert u.figures is not None
        exp = u.figures.set_index("scenario").loc[EXPECTED]
        costs = u.replay.costs if u.replay is not None else {}
        row: dict[str, Any] = {
            "under": u.scenario,
            "file": u.path,
            "plan_cost": report.plan.total_cost,
            "replayed_cost": u.replayed_cost,
            "optimal_cost": u.optimal_cost,
            "regret": u.regret,
            "objective_regret": u.objective_regret,
            "caps_broken": len(u.breaches),
            "spot_cost": float(costs.get("spot", float("nan"))),
            "shortage_cost": float(costs.get("shortage", float("nan"))),
        }
        for figure in ("spot", "shortage"):
            for m in materials:
                col = material_column(figure, m)
                row[col] = float(exp[col]) if col in exp.index else None
        row["service_level"] = float(exp["service_level"])
        row["note"] = u.note
        rows.append(row)
    return pd.DataFrame(rows)


def scenario_records(figures: pd.DataFrame) -> list[dict[str, Any]]:
    """A figures table as JSON records: scenario, probability, cost, service_level and
    `materials`: {material: {planned_delivered, spot, shortage}}."""
    materials = materials_in(figures)
    out = []
    for rec in figures.to_dict(orient="records"):
        doc: dict[str, Any] = {
            k: _none_if_nan(rec[k]) for k in ("scenario", "probability", "cost", "service_level")
        }
        doc["materials"] = {
            m: {f: _none_if_nan(rec[material_column(f, m)]) for f in MATERIAL_FIGURES}
            for m in materials
        }
        out.append(doc)
    return out


def _none_if_nan(v: Any) -> Any:
    return None if isinstance(v, float) and np.isnan(v) else v


def as_json(report: StressReport) -> dict[str, Any]:
    """The report as a JSON document: the plan's own figures, then each replay.

    Each `scenarios` entry is a `scenario_records` record (volumes per material in
    `quantity_unit`, money in `currency`); `costs` of a replay has the expected
    shortage and spot cost (money) among its items."""
    return {
        "currency": report.plan.currency,
        "quantity_unit": report.plan.unit,
        "plan": {
            "scenario": report.plan.name,
            "source": report.plan.source,
            "total_cost": report.plan.total_cost,
            "scenarios": scenario_records(report.plan.figures),
            "warnings": list(report.plan.warnings),
        },
        "under": [
            {
                "scenario": u.scenario,
                "file": u.path,
                "replayed_cost": u.replayed_cost,
                "optimal_cost": u.optimal_cost,
                "regret": u.regret,
                "objective": u.objective_kind,
                "replayed_objective": u.replayed_objective,
                "optimal_objective": u.optimal_objective,
                "objective_regret": u.objective_regret,
                "costs": dict(u.replay.costs) if u.replay is not None else {},
                "cvar": u.replay.cvar if u.replay is not None else None,
                "caps_broken": [
                    {
                        "policy": b.policy,
                        "material": b.material,
                        "subject": b.subject,
                        "period": b.period,
                        "limit": b.limit,
                        "actual": b.actual,
                        "field": ".".join(b.path),
                        "where": line,
                    }
                    for b, line in zip(u.breaches, u.breach_lines, strict=True)
                ],
                "note": u.note,
                "scenarios": scenario_records(u.figures) if u.figures is not None else [],
            }
            for u in report.unders
        ],
    }
