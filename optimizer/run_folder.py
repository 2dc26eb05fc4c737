"""Reading a run folder back: the summary document and the tables the reports are made of.

The HTML report and the Excel workbook are made from what a run folder holds
(summary.json, plan.csv, orders.csv, inventory.csv, scenario.resolved.yaml),
never from the solver, so that `sourcing report RUN_DIR` regenerates exactly
what `sourcing run --out RUN_DIR` wrote. Text columns stay text: a supplier or
country called `NA` (Namibia) is not read as a missing value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.errors import UserError
from optimizer.loading import load_scenario
from optimizer.orders import schedule_from_table
from optimizer.scenario import Scenario

SUMMARY = "summary.json"
PLAN = "plan.csv"
ORDERS = "orders.csv"
INVENTORY = "inventory.csv"
RESOLVED = "scenario.resolved.yaml"
SURVIVE = "survive.csv"
TEXT_COLUMNS = (
    "scenario",
    "material",
    "supplier",
    "country",
    "order_date",
    "arrival_date",
    "call_date",
    "licence_needed",
    "order_now",
    "kind",
    "node",
)


OPTIONAL_NUMBERS = ("call_day", "ttr_days")  # numeric columns whose cells may be empty


@dataclass(frozen=True)
class RunData:
    """What the reports show: the summary document, the tables and the solved scenario."""

    summary: dict[str, Any]
    plan: pd.DataFrame
    orders: pd.DataFrame
    inventory: pd.DataFrame
    scenario: Scenario
    survive: pd.DataFrame | None = None  # survive.csv, when the run has one (`run --survive`)

    @property
    def currency(self) -> str:
        """Currency of every amount."""
        return str(self.summary.get("currency") or self.scenario.currency)

    @property
    def unit(self) -> str:
        """Quantity unit of every volume."""
        return str(self.summary.get("quantity_unit") or self.scenario.quantity_unit)


def read_table(path: Path) -> pd.DataFrame:
    """A CSV table of a run folder, text columns as text."""
    with path.open(newline="") as fh:
        header = fh.readline().strip().split(",")
    dtypes = {c: str for c in TEXT_COLUMNS if c in header}
    table = pd.read_csv(path, dtype=dtypes, keep_default_na=False)
    for column in OPTIONAL_NUMBERS:
        if column in table.columns:
            table[column] = pd.to_numeric(table[column].replace("", None), errors="coerce")
    return table


def read_run(folder: Path) -> RunData:
    """Read a run folder written by `sourcing run --out`.

    orders.csv is recomputed from plan.csv when missing (folders written
    before it existed).
    """
    if not folder.is_dir():
        raise UserError(f"{folder}: not a run folder (no such folder)")
    missing = [n for n in (SUMMARY, PLAN, INVENTORY, RESOLVED) if not (folder / n).is_file()]
    if missing:
        raise UserError(f"{folder}: not a complete run folder; missing {', '.join(missing)}")
    try:
        doc = json.loads((folder / SUMMARY).read_text())
    except json.JSONDecodeError as exc:
        raise UserError(f"{folder / SUMMARY}: not valid JSON ({exc})") from None
    scenario = load_scenario(folder / RESOLVED).scenario
    plan = read_table(folder / PLAN)
    if (folder / ORDERS).is_file():
        orders = read_table(folder / ORDERS)
    else:
        orders = schedule_from_table(plan, scenario)
    orders["order_date"] = orders["order_date"].astype(str)
    return RunData(
        summary=doc,
        plan=plan,
        orders=orders,
        inventory=read_table(folder / INVENTORY),
        scenario=scenario,
        survive=read_table(folder / SURVIVE) if (folder / SURVIVE).is_file() else None,
    )
