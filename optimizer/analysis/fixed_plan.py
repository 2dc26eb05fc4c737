"""The plan `sourcing stress` replays (DESIGN §5), and its own figures.

A plan comes from a run folder (plan.csv with its reservations, the run's own
figures from summary.json and inventory.csv; tables edited after the run are
refused unless allowed, and rows the plan's scenario cannot have ordered are
then dropped and listed) or from a scenario file, solved first through the
runner. `survive` reads planned quantities through `quantities_of` too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.analysis.runner import Runner
from optimizer.common.errors import UserError
from optimizer.model.parameters import PlanKey
from optimizer.schema.scenario import Scenario
from optimizer.schema.summary import RunSummary

EXPECTED = "expected"  # the probability-weighted row of a figures table

FIGURE_COLUMNS = [  # per scenario; the per-material figures follow cost (`figure_columns`)
    "scenario",
    "probability",
    "cost",
    "service_level",
]
MATERIAL_FIGURES = ("planned_delivered", "spot", "shortage")  # per material, never added


def material_column(figure: str, material: str) -> str:
    """The column of one material's figure, e.g. `shortage: dy_oxide`."""
    return f"{figure}: {material}"


def materials_in(figures: pd.DataFrame) -> list[str]:
    """The materials of a figures table, in column order."""
    prefix = f"{MATERIAL_FIGURES[0]}: "
    return [str(c)[len(prefix) :] for c in figures.columns if str(c).startswith(prefix)]


def figure_columns(materials: list[str]) -> list[str]:
    """scenario, probability, cost, the per-material figures (figure by figure, materials
    sorted), service_level."""
    per_material = [material_column(f, m) for f in MATERIAL_FIGURES for m in sorted(materials)]
    return [*FIGURE_COLUMNS[:3], *per_material, *FIGURE_COLUMNS[3:]]


@dataclass(frozen=True)
class FixedPlan:
    """The plan to replay: what it orders, and its own figures in its own run."""

    name: str  # the plan's scenario name
    source: str  # run folder or scenario file
    quantities: dict[PlanKey, float]
    figures: pd.DataFrame  # `figure_columns`, one row per own scenario plus "expected"
    currency: str = "USD"
    unit: str = "t"
    reserved: dict[PlanKey, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # an edited run folder, and the rows dropped from it

    @property
    def total_cost(self) -> float:
        """Fixed plus expected cost of the plan in its own run."""
        return float(self.figures.set_index("scenario").loc[EXPECTED, "cost"])


def quantities_of(orders: pd.DataFrame, kind: str = "order") -> dict[PlanKey, float]:
    """Planned quantities (or with kind "reservation", reserved capacity) from a plan table
    (plan.csv, `Plan.orders` or `Plan.reservations`)."""
    out: dict[PlanKey, float] = {}
    if "kind" in orders.columns:
        orders = orders[orders["kind"].astype(str) == kind]
    elif kind != "order":
        return out
    for r in orders.itertuples(index=False):
        key = (str(r.supplier), str(r.material), int(r.period))
        out[key] = out.get(key, 0.0) + float(r.quantity)
    return out


def scenario_figures(inventory: pd.DataFrame, costs: pd.DataFrame) -> pd.DataFrame:
    """Per scenario: cost, per material the planned volume delivered, spot and shortage,
    and the service level (`figure_columns`).

    `inventory` has scenario, material, arrivals (planned `a*x` plus inbound),
    inbound, spot, demand and shortage per period (inventory.csv); `costs` has
    scenario, probability and cost (fixed + C[w]). Volumes of different
    materials are never added: each is a column `FIGURE: MATERIAL`. The service
    level is the lowest over materials of 1 - shortage / demand. A last row
    "expected" weighs every figure by probability (its service level per material
    from the expected shortage).
    """
    inv = inventory.assign(
        planned_delivered=inventory["arrivals"].astype(float) - inventory["inbound"].astype(float)
    )
    keys = [*MATERIAL_FIGURES, "demand"]
    per_material = inv.groupby(["scenario", "material"], sort=False)[keys].sum()
    per_material = per_material.astype(float)
    level = 1.0 - per_material["shortage"] / per_material["demand"].where(
        per_material["demand"] > 0
    )
    per_material["service_level"] = level.fillna(1.0)
    materials = sorted({str(m) for m in per_material.index.get_level_values("material")})
    wide = per_material[list(MATERIAL_FIGURES)].unstack("material")
    wide.columns = [material_column(str(f), str(m)) for f, m in wide.columns]
    wide = wide.fillna(0.0)
    wide["service_level"] = per_material["service_level"].groupby(level="scenario").min()
    wide.index = wide.index.astype(str)
    rows = costs[["scenario", "probability", "cost"]].astype({"scenario": str}).copy()
    rows = rows.merge(wide, left_on="scenario", right_index=True, how="left")
    columns = figure_columns(materials)
    probs = rows["probability"].astype(float).to_numpy()
    expected: dict[str, Any] = {"scenario": EXPECTED, "probability": float(probs.sum())}
    for key in columns[2:-1]:
        expected[key] = float(probs @ rows[key].astype(float).to_numpy())
    weights = dict(zip(rows["scenario"], probs, strict=True))
    by_material = per_material.reset_index()
    by_material["p"] = by_material["scenario"].astype(str).map(weights).fillna(0.0)
    grouped = (
        by_material.assign(
            short_p=by_material["shortage"] * by_material["p"],
            demand_p=by_material["demand"] * by_material["p"],
        )
        .groupby("material")[["short_p", "demand_p"]]
        .sum()
    )
    levels = 1.0 - grouped["short_p"] / grouped["demand_p"].where(grouped["demand_p"] > 0)
    expected["service_level"] = float(levels.fillna(1.0).min()) if len(levels) else 1.0
    out = pd.concat([rows, pd.DataFrame([expected])], ignore_index=True)
    return out[columns].reset_index(drop=True)


def load_plan(source: Path, runner: Runner, allow_edited: bool = False) -> FixedPlan:
    """The plan of a run folder (as written by `run --out`), or of a scenario file solved now.

    A run folder's plan.csv and inventory.csv must be the tables `run` wrote
    (their hashes in summary.json), unless `allow_edited`: then rows that
    cannot be replayed are dropped and listed in `FixedPlan.warnings`.
    """
    if source.is_dir():
        from optimizer.io.run_folder import read_run

        run = read_run(source)
        listed = run.summary.scenarios
        costs = pd.DataFrame(
            {
                "scenario": [s.name for s in listed],
                "probability": [s.probability for s in listed],
                "cost": [s.cost for s in listed],
            }
        )
        if costs.empty:
            raise UserError(f"{source}: summary.json lists no scenarios; not a run folder")
        edits = _edits(source, run.summary, allow_edited)
        figures = scenario_figures(run.inventory, costs)
        rows, dropped = replayable_rows(run.plan, run.scenario, source / "plan.csv")
        if dropped and not allow_edited:
            more = f"\n... and {len(dropped) - 20} more" if len(dropped) > 20 else ""
            raise UserError(
                "\n".join(dropped[:20])
                + f"{more}\nthese rows cannot be replayed; pass --allow-edited to drop them"
            )
        notes = (*edits, *_dropped_note(source / "plan.csv", dropped))
        return FixedPlan(
            run.scenario.name,
            str(source),
            quantities_of(rows),
            figures,
            run.currency,
            run.unit,
            quantities_of(rows, "reservation"),
            notes,
        )
    result = runner.solve_file(str(source))
    result.raise_if_failed()
    plan = result.plan
    assert plan is not None
    figures = scenario_figures(plan.inventory, plan.scenarios)
    sc = plan.scenario
    quantities = quantities_of(plan.orders)
    reserved = quantities_of(plan.reservations) if not plan.reservations.empty else {}
    return FixedPlan(
        sc.name, str(source), quantities, figures, sc.currency, sc.quantity_unit, reserved
    )


def _edits(source: Path, summary: RunSummary, allow_edited: bool) -> tuple[str, ...]:
    """Refuse tables that are not those `run` wrote; with `allow_edited`, say so instead."""
    from optimizer.io.run_folder import INVENTORY, PLAN, table_problems

    problems = table_problems(source, summary, (PLAN, INVENTORY))
    if problems and not allow_edited:
        raise UserError(
            "\n".join(problems)
            + f"\nrerun `sourcing run ... --out {source}` for a plan to trust, or pass "
            "--allow-edited to replay the tables as they are"
        )
    return tuple(f"{p}; replayed as it is (--allow-edited)" for p in problems)


def replayable_rows(
    plan: pd.DataFrame, scenario: Scenario, name: Path | str
) -> tuple[pd.DataFrame, list[str]]:
    """The rows of a plan table that the plan's own scenario can have ordered; why not the rest.

    A row is dropped when its quantity is negative, its supplier or material is
    not in the scenario (or the supplier does not offer the material), or its
    period is outside the horizon. Returns (kept rows, one line per dropped row).
    """
    periods = scenario.horizon.periods
    keep, why = [], []
    for i, r in enumerate(plan.itertuples(index=False)):
        sid, mid, t, q = str(r.supplier), str(r.material), int(r.period), float(r.quantity)
        supplier = scenario.suppliers.get(sid)
        if q < 0:
            reason = f"negative quantity {q:g}"
        elif supplier is None:
            reason = f"unknown supplier {sid!r}"
        elif mid not in scenario.materials:
            reason = f"unknown material {mid!r}"
        elif mid not in supplier.offers:
            reason = f"{sid!r} does not offer {mid!r}"
        elif not 1 <= t <= periods:
            reason = f"period {t} outside the horizon (1-{periods})"
        else:
            keep.append(i)
            continue
        why.append(f"{name}: line {i + 2}: {reason}")
    return plan.iloc[keep], why


def _dropped_note(name: Path, dropped: list[str]) -> tuple[str, ...]:
    if not dropped:
        return ()
    shown = "\n  ".join(dropped[:20])
    more = f"\n  ... and {len(dropped) - 20} more" if len(dropped) > 20 else ""
    rows = "row" if len(dropped) == 1 else "rows"
    return (f"{name}: dropped {len(dropped)} {rows} that cannot be replayed:\n  {shown}{more}",)
