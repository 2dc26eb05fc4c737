"""CSV tables of a run: a fixed number format per column (byte-stable), text inert.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.common.inert import csv_frame
from optimizer.reports.orders import order_schedule
from optimizer.results.plan import Plan
from optimizer.schema.tables import INVENTORY_COLUMNS, ORDER_COLUMNS, PLAN_COLUMNS

FLOAT_FORMAT = "%.6f"

# Numbers in CSV files: a fixed format per column (byte-stable), by what the column holds.
MONEY_COLUMNS = {
    "cost",
    "landed_unit_cost",
    "unit_cost",
    "unit_landed_cost",
    "line_total",
    "spend",
    "penalties",
    "total_cost",
}

DAY_COLUMNS = {"order_day", "delay_days", "arrival_day", "call_day", "tts_days", "ttr_days"}

PROBABILITY_COLUMNS = {"probability"}


def _column_format(name: str, values: pd.Series) -> str | None:
    """printf format of a float column: money to the cent, probabilities to 12 decimals,
    day counts as whole numbers when they all are (else to 2 decimals), quantities to 6."""
    if name in MONEY_COLUMNS:
        return "%.2f"
    if name in PROBABILITY_COLUMNS:
        return "%.12f"
    if name in DAY_COLUMNS:
        finite = values.dropna()
        whole = bool(((finite - finite.round()).abs() < 1e-9).all())
        return "%.0f" if whole else "%.2f"
    return FLOAT_FORMAT


def formatted(df: pd.DataFrame) -> pd.DataFrame:
    """A table with its float columns as text in their column's format (see
    `_column_format`); -0 is written as 0."""
    out = df.copy()
    for name in out.columns:
        col = out[name]
        if not pd.api.types.is_float_dtype(col):
            continue
        fmt = _column_format(str(name), col)
        values = col.to_numpy(dtype=float) + 0.0
        text = [fmt % v if v == v else "" for v in values.tolist()]  # NaN != NaN: empty
        for i in np.flatnonzero(values < 0).tolist():  # "-0.00" for tiny negatives: "0.00"
            if text[i].startswith("-0") and float(text[i]) == 0:
                text[i] = text[i][1:]
        out[name] = text
    return out


def write_table(df: pd.DataFrame, path: Path, columns: list[str] | None = None) -> None:
    if columns is not None:
        df = df[columns]
    write_csv(df, path)


def plan_table(plan: Plan) -> pd.DataFrame:
    """plan.csv: the planned arrivals (kind `order`), then reservations (kind `reservation`)."""
    frames = [plan.orders.assign(kind="order")]
    if plan.reservations is not None and not plan.reservations.empty:
        frames.append(plan.reservations.assign(kind="reservation"))
    return pd.concat(frames, ignore_index=True)[PLAN_COLUMNS]


def csv_bytes(df: pd.DataFrame, uniform: str | None = None) -> bytes:
    """A table as CSV bytes: text cells inert (`optimizer.common.inert`), then every
    number in its column's fixed format (`formatted`), or all in the printf format
    `uniform` (frontier.csv)."""
    frame = csv_frame(df)
    if uniform is None:
        text = formatted(frame).to_csv(index=False, lineterminator="\n")
    else:
        text = frame.to_csv(index=False, float_format=uniform, lineterminator="\n")
    return text.encode("utf-8")


def write_csv(df: pd.DataFrame, path: Path, uniform: str | None = None) -> None:
    """A table as a CSV file (the bytes of `csv_bytes`): the one CSV writer."""
    path.write_bytes(csv_bytes(df, uniform))


def run_tables(plan: Plan) -> dict[str, pd.DataFrame]:
    """plan.csv, orders.csv and inventory.csv of a run folder, as tables."""
    return {
        "plan.csv": plan_table(plan),
        "orders.csv": order_schedule(plan)[ORDER_COLUMNS],
        "inventory.csv": plan.inventory[INVENTORY_COLUMNS],
    }


def table_hashes(plan: Plan) -> dict[str, str]:
    """SHA-256 of the bytes of plan.csv, orders.csv and inventory.csv, for summary.json.

    `sourcing stress` compares a run folder's tables with them: an edited or
    truncated plan is refused (or, with --allow-edited, replayed with a warning).
    """
    from optimizer.io.run_folder import file_hash

    return {name: file_hash(csv_bytes(df)) for name, df in run_tables(plan).items()}
