"""Reading a run folder back: the summary document and the tables the reports are made of.

The HTML report and the Excel workbook are made from what a run folder holds
(summary.json, plan.csv, orders.csv, inventory.csv, scenario.resolved.yaml),
never from the solver, so that `sourcing report RUN_DIR` regenerates exactly
what `sourcing run --out RUN_DIR` wrote. Text columns stay text: a supplier or
country called `NA` (Namibia) is not read as a missing value.

A run folder is input like a scenario file: it may be truncated, edited or
made by hand. Everything a reader relies on is checked here, in one place,
before anything is made of it: the files that must be there (regular files),
the keys of summary.json and the type of each, the columns of each table and
the type of each column, and no NaN or empty cell where a number is required.
Any problem is a `RunFolderError` (exit 2) that names the file, the line or
key, and what is wrong. `table_problems` compares the tables with the hashes
summary.json recorded when they were written (`sourcing stress` refuses an
edited plan unless told otherwise).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.errors import ScenarioError, UserError
from optimizer.inert import plain_frame
from optimizer.loading import load_scenario
from optimizer.orders import ORDER_COLUMNS, schedule_from_table
from optimizer.plan import COST_KEYS
from optimizer.regular_file import FileRefused, TooLarge, check_regular, read_regular
from optimizer.safe_text import escape
from optimizer.scenario import Scenario

SUMMARY = "summary.json"
PLAN = "plan.csv"
ORDERS = "orders.csv"
INVENTORY = "inventory.csv"
RESOLVED = "scenario.resolved.yaml"
REQUIRED = (SUMMARY, PLAN, INVENTORY, RESOLVED)
HASHED = (PLAN, ORDERS, INVENTORY)  # tables whose SHA-256 summary.json records
MAX_SUMMARY_BYTES = 256 * 1024 * 1024
MAX_ERRORS_SHOWN = 20
TEXT_COLUMNS = (
    "scenario",
    "material",
    "supplier",
    "country",
    "order_date",
    "licence_needed",
    "overdue",
)
INT_COLUMNS = ("period", "arrival_period")
MAY_BE_EMPTY = ("order_date",)  # no date without horizon.start
OPTIONAL_NUMBERS: tuple[str, ...] = ()  # numeric columns whose cells may be empty (NaN)


class RunFolderError(UserError):
    """A run folder is incomplete or damaged; the message names the file and the problem."""


# --- what summary.json must hold ----------------------------------------------------


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


Check = Callable[[Any], bool]
NUMBER: tuple[str, Check] = ("a number", _number)
NUMBER_OR_NULL: tuple[str, Check] = ("a number or null", lambda v: v is None or _number(v))
TEXT: tuple[str, Check] = ("text", lambda v: isinstance(v, str))
TEXT_OR_NULL: tuple[str, Check] = ("text or null", lambda v: v is None or isinstance(v, str))
BOOL: tuple[str, Check] = ("true or false", lambda v: isinstance(v, bool))
STATUS: tuple[str, Check] = ('"optimal" or "feasible"', lambda v: v in ("optimal", "feasible"))

# A spec is a leaf (description, check), a dict of required keys (a key ending in "?"
# is optional), {"*": spec} for a mapping of any keys, or [spec] for a list.
SHARES = {"*": NUMBER_OR_NULL}
MATERIAL = {
    "volume": NUMBER_OR_NULL,
    "demand?": NUMBER_OR_NULL,
    "share_by_supplier": SHARES,
    "share_by_country": SHARES,
    "average_risk": NUMBER_OR_NULL,
    "expected_shortage": NUMBER_OR_NULL,
    "worst_shortage": NUMBER_OR_NULL,
    "service_level": NUMBER_OR_NULL,
}
SUMMARY_SPEC: dict[str, Any] = {
    "scenario": TEXT,
    "title?": TEXT_OR_NULL,
    "status": STATUS,
    "objective": NUMBER,
    "total_cost": NUMBER,
    "currency": TEXT,
    "quantity_unit": TEXT,
    "costs": {key: NUMBER_OR_NULL for key in COST_KEYS},
    "materials": {"*": MATERIAL},
    "scenarios": [
        {"name": TEXT, "probability": NUMBER, "cost": NUMBER, "shortage?": NUMBER_OR_NULL}
    ],
    "solver": {"name": TEXT, "status": TEXT, "gap?": NUMBER_OR_NULL},
    "checked": BOOL,
    "content_hash?": TEXT_OR_NULL,
    "table_hashes?": {"*": TEXT},
    "shadow_prices?": [{"*": ("a value", lambda v: True)}],
}
CVAR = {"alpha": NUMBER, "cvar": NUMBER_OR_NULL, "var": NUMBER_OR_NULL}
Where = tuple[str | int, ...]


def _where(path: Where) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _shown(value: Any) -> str:
    text = json.dumps(value, allow_nan=True)
    return text if len(text) <= 40 else text[:37] + "..."


def summary_problems(doc: Any, spec: Any = SUMMARY_SPEC, path: Where = ()) -> list[str]:
    """Every way `doc` differs from `spec` (missing keys, wrong types), as `key.path: problem`."""
    if isinstance(spec, tuple):
        what, check = spec
        return [] if check(doc) else [f"{_where(path)}: must be {what} (got {_shown(doc)})"]
    if isinstance(spec, list):
        if not isinstance(doc, list):
            return [f"{_where(path)}: must be a list (got {_shown(doc)})"]
        item_spec = spec[0]
        return [p for i, v in enumerate(doc) for p in summary_problems(v, item_spec, (*path, i))]
    if not isinstance(doc, dict):
        return [f"{_where(path) or 'the document'}: must be a mapping (got {_shown(doc)})"]
    if "*" in spec:
        return [p for k, v in doc.items() for p in summary_problems(v, spec["*"], (*path, k))]
    out = []
    for key, sub in spec.items():
        name = key.rstrip("?")
        if name not in doc:
            if not key.endswith("?"):
                out.append(f"{_where((*path, name))}: missing")
            continue
        if key.endswith("?") and doc[name] is None and not isinstance(sub, tuple):
            continue
        out.extend(summary_problems(doc[name], sub, (*path, name)))
    if not path and isinstance(doc.get("cvar"), dict):
        out.extend(summary_problems(doc["cvar"], CVAR, ("cvar",)))
    return out


def read_summary(folder: Path) -> dict[str, Any]:
    """summary.json of a run folder, checked against `SUMMARY_SPEC`."""
    path = folder / SUMMARY
    raw = _read(path, MAX_SUMMARY_BYTES)

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not a number JSON allows")

    try:
        doc = json.loads(raw.decode("utf-8"), parse_constant=no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RunFolderError(f"{path}: not valid JSON ({exc})") from None
    problems = summary_problems(doc)
    if problems:
        raise RunFolderError(_listed(path, problems))
    return doc  # type: ignore[no-any-return]


# --- the tables ------------------------------------------------------------------------


def _read(path: Path, max_bytes: int) -> bytes:
    try:
        return read_regular(path, max_bytes)
    except TooLarge as exc:
        raise RunFolderError(f"{path}: {exc}") from None
    except FileRefused as exc:
        raise RunFolderError(f"{path}: cannot read: {exc}") from None


def _listed(path: Path, problems: list[str]) -> str:
    shown = [f"{path}: {p}" for p in problems[:MAX_ERRORS_SHOWN]]
    rest = len(problems) - MAX_ERRORS_SHOWN
    if rest > 0:
        shown.append(f"... and {rest:,} more problems in {path}")
    return escape("\n".join(shown), keep_newlines=True)


def read_table(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A CSV table of a run folder, checked: `columns` present, numbers numbers, text as text.

    Text cells lose the quote that made them inert (`optimizer.inert`); numeric
    columns (every column not in `TEXT_COLUMNS`) must hold a finite number in
    every row, `period` columns a whole one.
    """
    try:
        check_regular(path)
        table = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    except FileRefused as exc:
        raise RunFolderError(f"{path}: cannot read: {exc}") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise RunFolderError(f"{path}: not a readable CSV table ({exc})") from None
    except OSError as exc:
        raise RunFolderError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if columns is not None:
        missing = [c for c in columns if c not in table.columns]
        if missing:
            extra = [c for c in table.columns if c not in columns]
            also = f"; found instead: {', '.join(extra)}" if extra else ""
            raise RunFolderError(
                escape(f"{path}: missing column{'s' * (len(missing) > 1)} {', '.join(missing)}")
                + escape(also)
            )
    problems = []
    for col in table.columns:
        if col in TEXT_COLUMNS:
            continue
        problems.extend(_number_column(table, col))
    if problems:
        raise RunFolderError(_listed(path, problems))
    for col in TEXT_COLUMNS:
        if col in table.columns and col not in MAY_BE_EMPTY:
            empty = table.index[table[col] == ""]
            if len(empty):
                raise RunFolderError(
                    escape(f"{path}: line {int(empty[0]) + 2}: {col}: empty; text is required")
                )
    return plain_frame(table, [c for c in TEXT_COLUMNS if c in table.columns])


def _number_column(table: pd.DataFrame, col: str) -> list[str]:
    """Convert a column to numbers in place; the rows where that fails."""
    raw = table[col]
    values = pd.to_numeric(raw, errors="coerce").astype(float)
    bad = pd.Series(~np.isfinite(values.to_numpy()), index=table.index)
    if col in OPTIONAL_NUMBERS:
        bad &= raw != ""
    whole = col in INT_COLUMNS
    if whole:
        bad |= values.notna() & (values % 1 != 0)
    out = [
        f"line {int(i) + 2}: {col}: must be a {'whole ' if whole else ''}number (got {raw[i]!r})"
        for i in table.index[bad]
    ]
    if not out:
        table[col] = values.astype(int) if whole else values.astype(float)
    return out


# --- the folder --------------------------------------------------------------------------


@dataclass(frozen=True)
class RunData:
    """What the reports show: the summary document, the tables and the solved scenario."""

    summary: dict[str, Any]
    plan: pd.DataFrame
    orders: pd.DataFrame
    inventory: pd.DataFrame
    scenario: Scenario
    folder: Path | None = None

    @property
    def currency(self) -> str:
        """Currency of every amount."""
        return str(self.summary.get("currency") or self.scenario.currency)

    @property
    def unit(self) -> str:
        """Quantity unit of every volume."""
        return str(self.summary.get("quantity_unit") or self.scenario.quantity_unit)


def read_run(folder: Path) -> RunData:
    """Read a run folder written by `sourcing run --out`, checking everything it relies on.

    orders.csv is recomputed from plan.csv when missing (folders written
    before it existed). Raises `RunFolderError` (exit 2) naming the file and
    the problem.
    """
    from optimizer.report import INVENTORY_COLUMNS, PLAN_COLUMNS

    if not folder.is_dir():
        what = "no such folder" if not folder.exists() else "not a folder"
        raise RunFolderError(escape(f"{folder}: not a run folder ({what})"))
    missing = [n for n in REQUIRED if not (folder / n).exists()]
    if missing:
        raise RunFolderError(
            escape(f"{folder}: not a complete run folder; missing {', '.join(missing)}")
        )
    doc = read_summary(folder)
    try:
        scenario = load_scenario(folder / RESOLVED).scenario
    except ScenarioError as exc:
        raise RunFolderError(f"{folder / RESOLVED}: not a valid scenario:\n{exc}") from None
    plan = read_table(folder / PLAN, PLAN_COLUMNS)
    if (folder / ORDERS).exists():
        orders = read_table(folder / ORDERS, ORDER_COLUMNS)
    else:
        orders = schedule_from_table(plan, scenario)
    orders["order_date"] = orders["order_date"].astype(str)
    inventory = read_table(folder / INVENTORY, INVENTORY_COLUMNS)
    return RunData(doc, plan, orders, inventory, scenario, folder)


def file_hash(data: bytes) -> str:
    """The hash summary.json records for a table: `sha256:` and the hex digest."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def table_problems(folder: Path, doc: Mapping[str, Any], names: tuple[str, ...]) -> list[str]:
    """How the tables `names` differ from the hashes in summary.json (empty: they match)."""
    hashes = doc.get("table_hashes")
    if not isinstance(hashes, dict):
        return [
            f"{folder / SUMMARY} records no table hashes (written by an earlier version of "
            "sourcing), so the tables cannot be checked"
        ]
    out = []
    for name in names:
        recorded = hashes.get(name)
        if recorded is None:
            out.append(f"{folder / SUMMARY} records no hash of {name}")
        elif file_hash(_read(folder / name, 1 << 40)) != recorded:
            out.append(
                f"{folder / name} is not the table `sourcing run` wrote (its hash differs from "
                "the one in summary.json: edited or truncated)"
            )
    return out
