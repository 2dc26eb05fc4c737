"""Time to survive and time to recover: `sourcing survive RUN_DIR|SCENARIO` (DESIGN §5).

Simchi-Levi's risk-exposure method, from a plan: for each supplier and each
country in turn, the node is stopped from day 0 (every offer of the supplier,
or of every supplier in the country or controlled by it, delivers nothing) and
the plan (its orders and reservations) is replayed in the plan's own world,
the scenario without its disruptions: what the node would have delivered is
lost; what is missing may be bought spot or called from reservations at the
other suppliers, or goes short (`optimizer.stress.replay_plan`, checked like
every plan).

Per node and material this reports the time to survive (TTS): the day the
material first runs short, `(t - 1) * D + D * met / demand` in the first period
t with a shortage (the stock lasts for the part of the period it covers); no
shortage within the horizon is "beyond the horizon". With the shortage and the
spend and penalties of the replay over the horizon. A supplier's
`recovery_days` is its time to recover (TTR); a country's is the longest of its
suppliers'. A node whose TTS is shorter than its TTR for some material is at
risk: the plan runs dry before the node is back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.analysis.fixed_plan import quantities_of
from optimizer.analysis.runner import Mapper, Runner
from optimizer.model.parameters import PlanKey
from optimizer.results.plan import Plan
from optimizer.schema.scenario import Scenario
from optimizer.schema.tables import SURVIVE_COLUMNS


@dataclass(frozen=True)
class Node:
    """A supplier or a country to stop, and the suppliers that stop with it."""

    name: str
    kind: str  # "plan" (nothing stopped), "supplier" or "country"
    suppliers: tuple[str, ...]
    recovery_days: float | None


@dataclass
class SurviveReport:
    """The plan's own replay and one replay per node, as a table (SURVIVE_COLUMNS)."""

    scenario: str
    source: str
    horizon_days: float
    currency: str
    unit: str
    table: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SURVIVE_COLUMNS))

    def at_risk(self) -> list[str]:
        """Nodes whose TTS is shorter than their TTR for some material."""
        rows = self.table[self.table["at_risk"]]
        return sorted(set(rows["node"]))


def nodes_of(sc: Scenario) -> list[Node]:
    """The plan itself, every supplier, then every country (suppliers in it or controlled
    by it), sorted by name."""
    out = [Node("plan", "plan", (), None)]
    for sid in sorted(sc.suppliers):
        out.append(Node(sid, "supplier", (sid,), sc.suppliers[sid].recovery_days))
    countries = sorted({s.country for s in sc.suppliers.values()})
    for code in countries:
        members = tuple(
            sorted(
                sid
                for sid, s in sc.suppliers.items()
                if s.country == code or code in s.controlled_by
            )
        )
        days = [sc.suppliers[s].recovery_days for s in members]
        known = [d for d in days if d is not None]
        out.append(Node(code, "country", members, max(known) if known else None))
    return out


def stopped(sc: Scenario, node: Node) -> Scenario:
    """The plan's own world with a node stopped from day 0: no disruptions or risks, and
    every offer of the node's suppliers at capacity 0."""
    suppliers = dict(sc.suppliers)
    for sid in node.suppliers:
        sup = suppliers[sid]
        offers = {
            mid: offer.model_copy(update={"capacity": 0.0}) for mid, offer in sup.offers.items()
        }
        suppliers[sid] = sup.model_copy(update={"offers": offers})
    return sc.model_copy(
        update={"suppliers": suppliers, "disruptions": [], "risks": [], "sampling": None}
    )


def time_to_survive(inventory: pd.DataFrame, period_days: float) -> dict[str, float | None]:
    """Per material, the day the first shortage starts in the replay (None: never within
    the horizon). In the first period t with a shortage, the stock lasts for the share of
    the period's demand that was met."""
    out: dict[str, float | None] = {}
    for material, rows in inventory.groupby("material", sort=True):
        rows = rows.sort_values("period")
        first = rows[rows["shortage"] > 1e-9]
        if first.empty:
            out[str(material)] = None
            continue
        row = first.iloc[0]
        demand = float(row["demand"])
        met = (demand - float(row["shortage"])) / demand if demand > 0 else 0.0
        out[str(material)] = (int(row["period"]) - 1) * period_days + period_days * met
    return out


@dataclass(frozen=True)
class NodeJob:
    """Replay the plan with one node stopped (one executor item)."""

    scenario: Scenario
    node: Node
    quantities: dict[PlanKey, float]
    reserved: dict[PlanKey, float]
    runner: Runner


def run_node(job: NodeJob) -> list[dict[str, Any]]:
    """The rows of one node: per material TTS, shortage and the replay's costs."""
    sc = stopped(job.scenario, job.node)
    plan, _lost = job.runner.replay(sc, job.quantities, job.reserved)
    days = sc.horizon.period_days
    tts = time_to_survive(plan.inventory, days)
    horizon = sc.horizon.periods * days
    short = plan.inventory.groupby("material")["shortage"].sum()
    ttr = job.node.recovery_days
    rows = []
    for material in sorted(sc.materials):
        survive = tts[material]
        days_or_end = horizon if survive is None else survive
        rows.append(
            {
                "node": job.node.name,
                "kind": job.node.kind,
                "material": material,
                "tts_days": days_or_end,
                "beyond_horizon": survive is None,
                "ttr_days": ttr,
                "at_risk": bool(ttr is not None and survive is not None and survive < ttr),
                "shortage": float(short.get(material, 0.0)),
                "spend": plan.spend,
                "penalties": plan.penalties,
                "total_cost": plan.total_cost,
            }
        )
    return rows


def load(source: Path, runner: Runner) -> tuple[Scenario, Plan | None, pd.DataFrame]:
    """The scenario and the plan table (plan.csv form) of a run folder, or of a scenario
    file solved now."""
    if source.is_dir():
        from optimizer.io.run_folder import read_run

        run = read_run(source)
        return run.scenario, None, run.plan
    result = runner.solve_file(str(source))
    result.raise_if_failed()
    plan = result.plan
    assert plan is not None
    table = pd.concat(
        [plan.orders.assign(kind="order"), plan.reservations.assign(kind="reservation")],
        ignore_index=True,
    )
    return plan.scenario, plan, table


def survive(
    source: Path,
    runner: Runner,
    mapper: Mapper,
    nodes: Sequence[Node] | None = None,
) -> SurviveReport:
    """Replay the plan of `source` with each node stopped (in parallel when allowed)."""
    scenario, _plan, table = load(source, runner)
    quantities = quantities_of(table)
    reserved = quantities_of(table, "reservation")
    return survive_plan(scenario, quantities, reserved, runner, mapper, str(source), nodes)


def survive_plan(
    scenario: Scenario,
    quantities: Mapping[PlanKey, float],
    reserved: Mapping[PlanKey, float],
    runner: Runner,
    mapper: Mapper,
    source: str = "",
    nodes: Sequence[Node] | None = None,
) -> SurviveReport:
    """The survive report of a plan given as quantities (and reservations)."""
    chosen = list(nodes) if nodes is not None else nodes_of(scenario)
    jobs = [NodeJob(scenario, n, dict(quantities), dict(reserved), runner) for n in chosen]
    results = mapper.map(run_node, jobs, label="survive")
    table = pd.DataFrame([row for rows in results for row in rows], columns=SURVIVE_COLUMNS)
    horizon = scenario.horizon.periods * scenario.horizon.period_days
    return SurviveReport(
        scenario.name, source, horizon, scenario.currency, scenario.quantity_unit, table
    )


def wide(report: SurviveReport) -> pd.DataFrame:
    """One row per node: kind, TTR, at risk, and TTS per material (days; inf beyond the
    horizon), shortage (all materials in one unit are not added: per material columns)."""
    t = report.table
    if t.empty:
        return t
    tts = t.assign(tts=t["tts_days"].where(~t["beyond_horizon"], math.inf)).pivot(
        index="node", columns="material", values="tts"
    )
    first = t.drop_duplicates("node").set_index("node")
    out = pd.DataFrame(
        {
            "kind": first["kind"],
            "ttr_days": first["ttr_days"],
            "at_risk": t.groupby("node")["at_risk"].any(),
            "total_cost": first["total_cost"],
        }
    )
    out = out.join(tts.add_prefix("tts: "))
    order = {n: i for i, n in enumerate(dict.fromkeys(t["node"]))}
    return out.loc[sorted(out.index, key=order.__getitem__)].reset_index()


def as_json(report: SurviveReport) -> dict[str, Any]:
    """The report as a JSON document (TTS beyond the horizon as null with the flag)."""
    rows = []
    for rec in report.table.to_dict(orient="records"):
        rec = dict(rec)
        if rec["beyond_horizon"]:
            rec["tts_days"] = None
        if rec["ttr_days"] is not None and isinstance(rec["ttr_days"], float):
            rec["ttr_days"] = None if math.isnan(rec["ttr_days"]) else rec["ttr_days"]
        rows.append(rec)
    return {
        "scenario": report.scenario,
        "source": report.source,
        "horizon_days": report.horizon_days,
        "currency": report.currency,
        "quantity_unit": report.unit,
        "at_risk": report.at_risk(),
        "nodes": rows,
    }
