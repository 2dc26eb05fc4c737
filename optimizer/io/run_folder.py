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
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from optimizer.common.errors import ScenarioError, UserError
from optimizer.common.inert import plain_frame
from optimizer.common.safe_text import escape
from optimizer.io.load import load_scenario
from optimizer.io.regular_file import FileRefused, TooLarge, check_regular, read_regular
from optimizer.schema.scenario import Scenario
from optimizer.schema.summary import RunSummary
from optimizer.schema.tables import (
    INVENTORY_COLUMNS,
    ORDER_COLUMNS,
    PLAN_COLUMNS,
    SURVIVE_COLUMNS,
)

SUMMARY = "summary.json"

PLAN = "plan.csv"

ORDERS = "orders.csv"

INVENTORY = "inventory.csv"

RESOLVED = "scenario.resolved.yaml"

SURVIVE = "survive.csv"

REQUIRED = (SUMMARY, PLAN, ORDERS, INVENTORY, RESOLVED)

HASHED = (PLAN, ORDERS, INVENTORY)  # tables whose SHA-256 summary.json records

MAX_SUMMARY_BYTES = 256 * 1024 * 1024

MAX_ERRORS_SHOWN = 20

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
    "beyond_horizon",
    "at_risk",
)

INT_COLUMNS = ("period", "arrival_period")

# no date without horizon.start; a call date only for reservations
MAY_BE_EMPTY = ("order_date", "arrival_date", "call_date")

BOOL_COLUMNS = ("beyond_horizon", "at_risk")  # survive.csv: True or False

# numeric columns whose cells may be empty (NaN): a call day only for reservations, a
# time to recover only where the scenario gives one
OPTIONAL_NUMBERS: tuple[str, ...] = ("call_day", "ttr_days")


class RunFolderError(UserError):
    """A run folder is incomplete or damaged; the message names the file and the problem."""

Where = tuple[str | int, ...]


def _where(path: Where) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _shown(value: Any) -> str:
    text = json.dumps(value, allow_nan=True)
    return text if len(text) <= 40 else text[:37] + "..."


def summary_problems(doc: Any) -> list[str]:
    """Every way `doc` differs from `RunSummary` (missing keys, wrong types, unknown keys),
    as `key.path: problem (got value)`; strictly: a number in quotes is no number."""
    try:
        RunSummary.model_validate(doc, strict=True)
    except ValidationError as exc:
        return _problems(exc)
    return []


_NUMBER_ERRORS = {"float_type", "float_parsing", "int_type", "int_parsing", "finite_number"}
_PLAIN = {
    "missing": "missing",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "string_type": "must be text",
}


def _nullable(loc: Where) -> bool:
    """Whether the field of `RunSummary` at `loc` may be null (its type admits None)."""
    tp: Any = RunSummary
    for part in loc:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            if field is None:
                return False
            tp = field.annotation
            continue
        args = [a for a in get_args(tp) if a is not type(None)]
        origin = get_origin(tp)
        if origin is list and args:
            tp = args[0]
        elif origin is dict and len(args) == 2:
            tp = args[1]
        elif len(args) == 1:  # X | None: step into X
            tp = args[0]
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                field = tp.model_fields.get(str(part))
                if field is None:
                    return False
                tp = field.annotation
                continue
            return False
        else:
            return False
    return type(None) in get_args(tp)


def _problems(exc: ValidationError) -> list[str]:
    """One line per problem: `key.path: what was expected (got value)`."""
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        kind = err["type"]
        if kind in _NUMBER_ERRORS:
            what = "must be a number or null" if _nullable(loc) else "must be a number"
        elif kind == "literal_error":
            what = f"must be {err.get('ctx', {}).get('expected', '')}"
        else:
            what = _PLAIN.get(kind, err["msg"].lower())
        got = "" if kind == "missing" else f" (got {_shown(err.get('input'))})"
        out.append(f"{_where(loc) or 'the document'}: {what}{got}")
    return out


def read_summary(folder: Path) -> RunSummary:
    """summary.json of a run folder, read into `RunSummary` (optimizer.schema.summary):
    the form a run has its summary in, in memory."""
    path = folder / SUMMARY
    raw = _read(path, MAX_SUMMARY_BYTES)

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not a number JSON allows")

    try:
        doc = json.loads(raw.decode("utf-8"), parse_constant=no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RunFolderError(f"{path}: not valid JSON ({exc})") from None
    try:
        return RunSummary.model_validate(doc, strict=True)
    except ValidationError as exc:
        raise RunFolderError(_listed(path, _problems(exc))) from None


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
    return _checked(table, path, columns)


def parse_table(data: bytes, path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The CSV bytes of a table as `read_table` reads that table's file (`path` names it
    in messages): a run's reports are made from the very bytes its folder holds."""
    try:
        table = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_filter=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise RunFolderError(f"{path}: not a readable CSV table ({exc})") from None
    return _checked(table, path, columns)


def _checked(table: pd.DataFrame, path: Path, columns: list[str] | None) -> pd.DataFrame:
    """Columns present, numbers numbers, text as text (see `read_table`)."""
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
    _check_bools(path, table)
    for col in TEXT_COLUMNS:
        if col in table.columns and col not in MAY_BE_EMPTY:
            empty = table.index[table[col] == ""]
            if len(empty):
                raise RunFolderError(
                    escape(f"{path}: line {int(empty[0]) + 2}: {col}: empty; text is required")
                )
    table = plain_frame(table, [c for c in TEXT_COLUMNS if c in table.columns])
    for col in BOOL_COLUMNS:
        if col in table.columns:
            table[col] = table[col] == "True"
    return table


def _check_bools(path: Path, table: pd.DataFrame) -> None:
    """Columns of True or False (survive.csv) hold nothing else."""
    for col in BOOL_COLUMNS:
        if col in table.columns:
            bad = table.index[~table[col].isin(["True", "False"])]
            if len(bad):
                raise RunFolderError(
                    escape(f"{path}: line {int(bad[0]) + 2}: {col}: must be True or False")
                )


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


@dataclass(frozen=True)
class RunData:
    """What the reports show: the summary, the tables and the solved scenario."""

    summary: RunSummary
    plan: pd.DataFrame
    orders: pd.DataFrame
    inventory: pd.DataFrame
    scenario: Scenario
    folder: Path | None = None
    survive: pd.DataFrame | None = None  # survive.csv, when the run has one (`run --survive`)

    @property
    def currency(self) -> str:
        """Currency of every amount."""
        return self.summary.currency or self.scenario.currency

    @property
    def unit(self) -> str:
        """Quantity unit of every volume."""
        return self.summary.quantity_unit or self.scenario.quantity_unit


def read_run(folder: Path) -> RunData:
    """Read a run folder written by `sourcing run --out`, checking everything it relies on.

    Raises `RunFolderError` (exit 2) naming the file and the problem.
    """
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
    orders = read_table(folder / ORDERS, ORDER_COLUMNS)
    orders["order_date"] = orders["order_date"].astype(str)
    inventory = read_table(folder / INVENTORY, INVENTORY_COLUMNS)
    survive = None
    if (folder / SURVIVE).exists():
        survive = read_table(folder / SURVIVE, SURVIVE_COLUMNS)
    return RunData(doc, plan, orders, inventory, scenario, folder, survive)


def file_hash(data: bytes) -> str:
    """The hash summary.json records for a table: `sha256:` and the hex digest."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def table_problems(folder: Path, summary: RunSummary, names: tuple[str, ...]) -> list[str]:
    """How the tables `names` differ from the hashes in summary.json (empty: they match)."""
    hashes = summary.table_hashes
    if hashes is None:
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
