"""Writing results: summary.json, CSV tables, the resolved scenario, readable tables.

Output folders are written all or nothing: everything goes into a temporary
folder beside the target, which is then renamed into place; an existing
folder is replaced only with `force`. Numbers in CSV files have a fixed format
so that the same plan gives the same bytes.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import math
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from optimizer.errors import UserError
from optimizer.inert import csv_frame
from optimizer.interrupt import pid_alive
from optimizer.orders import ORDER_COLUMNS, order_schedule
from optimizer.pipeline import RunResult
from optimizer.plan import PENALTY_KEYS, SPEND_KEYS, Plan
from optimizer.safe_output import MARKER, check_target, marker_text, still_ours
from optimizer.safe_text import escape

V1_COST_KEYS = ("purchase", "delay", "spot", "holding", "shortage", "safety_stock", "fixed")

FLOAT_FORMAT = "%.6f"
PLAN_COLUMNS = [
    "material",
    "supplier",
    "country",
    "period",
    "order_day",
    "quantity",
    "landed_unit_cost",
    "delay_days",
    "cost",
    "kind",
]
SPOT_COLUMNS = ["scenario", "material", "supplier", "period", "quantity", "unit_cost", "kind"]
SCENARIO_COLUMNS = ["scenario", "probability", "cost", "shortage", "spot", "called"]
INVENTORY_COLUMNS = [
    "scenario",
    "material",
    "period",
    "opening",
    "arrivals",
    "spot",
    "demand",
    "shortage",
    "closing",
    "inbound",
    "below_safety_stock",
    "probability",
    "called",
    "held_back",
    "safety_stock",
]
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
TMP_PREFIX = ".sourcing-tmp-"


def _num(value: float | None) -> float | None:
    """A number for JSON: None for NaN and for an unbounded value (a shadow price's range
    with no end; JSON has no infinity), 0 within 1e-9 of zero, 12 significant digits (so
    that float noise like 3.599999999999999 reads 3.6)."""
    if value is None or not math.isfinite(float(value)):
        return None
    v = float(value)
    if abs(v) < 1e-9:
        return 0.0
    return float(f"{v:.12g}")


def cost_document(plan: Plan) -> dict[str, Any]:
    """`costs` of summary.json: money spent apart from modelled penalties (DESIGN §5),
    expected over the scenarios (F included), the CVaR term, and the item names of
    version 1 at the top level (purchase, delay, spot, holding, shortage, safety_stock,
    fixed) for programs that read them."""
    costs = plan.costs
    spend = {k: _num(costs[k]) for k in SPEND_KEYS}
    penalties = {k: _num(costs[k]) for k in PENALTY_KEYS}
    term = (plan.cvar or {}).get("term", 0.0)
    return {
        "spend": spend,
        "penalties": penalties,
        "total_spend": _num(plan.spend),
        "total_penalties": _num(plan.penalties),
        "cvar_term": _num(term),
        **{k: _num(costs[k]) for k in V1_COST_KEYS},
    }


def summary(
    run: RunResult,
    *,
    file: str | None = None,
    content_hash: str | None = None,
    versions: dict[str, str] | None = None,
    timings: dict[str, float] | None = None,
) -> dict[str, Any]:
    """The `summary.json` document of a run (DESIGN §5)."""
    plan = run.plan
    sc = plan.scenario
    materials = {}
    probs = dict(zip(plan.scenarios["scenario"], plan.scenarios["probability"], strict=True))
    for mid, k in plan.materials.items():
        called = {w: q for w, q in k["called"].items() if q > 0}
        materials[mid] = {
            "volume": _num(k["volume"]),
            "demand": _num(k["demand"]),
            "planned_cost": _num(k["planned_cost"]),
            "average_unit_cost": _num(k["average_unit_cost"]),
            "share_by_supplier": {s: _num(v) for s, v in k["share_by_supplier"].items()},
            "share_by_country": {c: _num(v) for c, v in k["share_by_country"].items()},
            "exposure_by_country": {c: _num(v) for c, v in k["exposure_by_country"].items()},
            "average_risk": _num(k["average_risk"]),
            "expected_shortage": _num(k["expected_shortage"]),
            "expected_shortage_cost": _num(k["expected_shortage_cost"]),
            "worst_shortage": _num(k["worst_shortage"]),
            "service_level": _num(k["service_level"]),
            "end_position": {e: _num(v) for e, v in k["end_position"].items()},
            "reserved": _num(k["reserved"]),
            "expected_called": _num(sum(probs[w] * q for w, q in called.items())),
            "called_by_scenario": {w: _num(q) for w, q in called.items()},
        }
    solver = run.solve
    all_timings = {**run.timings, **(timings or {})}
    return {
        "scenario": sc.name,
        "title": sc.title,
        "file": file,
        "content_hash": content_hash,
        "status": plan.status,
        "objective": _num(plan.objective),
        "total_cost": _num(plan.total_cost),
        "spend": _num(plan.spend),
        "penalties": _num(plan.penalties),
        "currency": sc.currency,
        "quantity_unit": sc.quantity_unit,
        "costs": cost_document(plan),
        "optimises": {
            "risk_measure": sc.objective.risk_measure,
            "cvar_alpha": sc.objective.cvar_alpha,
            "cvar_weight": sc.objective.cvar_weight,
        },
        "cvar": None
        if plan.cvar is None
        else {k: _num(v) for k, v in plan.cvar.items() if k != "term"},
        "materials": materials,
        "suppliers_used": plan.suppliers_used,
        "scenarios": [
            {
                "name": str(r.scenario),
                "probability": _num(r.probability),
                "cost": _num(r.cost),
                "shortage": _num(r.shortage),
                "spot": _num(r.spot),
                "called": _num(r.called),
            }
            for r in plan.scenarios.itertuples(index=False)
        ],
        "model": run.model_size,
        "solver": {
            "name": solver.solver,
            "status": solver.status.value,
            "message": solver.message,
            "gap": _num(solver.gap),
            "seconds": round(solver.seconds, 4),
            "timings": {k: round(v, 4) for k, v in all_timings.items()},
        },
        "checked": bool(run.check.ok),
        "shadow_prices": _shadow_records(plan.shadow_prices),
        "shadow_prices_note": plan.shadow_note,
        "versions": versions or {},
    }


def _shadow_records(table: pd.DataFrame | None) -> list[dict[str, Any]]:
    """Shadow prices as plain records (period null on the horizon basis)."""
    if table is None or table.empty:
        return []
    out = []
    for rec in table.to_dict(orient="records"):
        period = rec.get("period")
        rec["period"] = None if period is None or pd.isna(period) else int(period)
        for key in ("limit", "used", "marginal", "per_step", "step", "range_low", "range_high"):
            if key in rec:
                rec[key] = _num(rec[key])
        out.append(rec)
    return out


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
        text = [("" if pd.isna(v) else fmt % (v + 0.0)) for v in col.tolist()]
        out[name] = [("0" + t[2:] if t.startswith("-0") and float(t) == 0 else t) for t in text]
    return out


def _csv(df: pd.DataFrame, path: Path, columns: list[str] | None = None) -> None:
    if columns is not None:
        df = df[columns]
    write_csv(df, path)


def plan_table(plan: Plan) -> pd.DataFrame:
    """plan.csv: the planned arrivals (kind `order`), then reservations (kind `reservation`)."""
    frames = [plan.orders.assign(kind="order")]
    if plan.reservations is not None and not plan.reservations.empty:
        frames.append(plan.reservations.assign(kind="reservation"))
    return pd.concat(frames, ignore_index=True)[PLAN_COLUMNS]


def csv_bytes(df: pd.DataFrame) -> bytes:
    """A table as CSV bytes: text cells inert (`optimizer.inert`), then every number in its
    column's fixed format (`formatted`)."""
    text = formatted(csv_frame(df)).to_csv(index=False, lineterminator="\n")
    return text.encode("utf-8")


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """A table as a CSV file (the bytes of `csv_bytes`)."""
    path.write_bytes(csv_bytes(df))


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
    from optimizer.run_folder import file_hash

    return {name: file_hash(csv_bytes(df)) for name, df in run_tables(plan).items()}


def run_files(
    run: RunResult,
    doc: dict[str, Any],
    resolved_yaml: str,
    *,
    excel: bool = False,
    survive: Any = None,
) -> dict[str, Callable[[Path], None]]:
    """The files of a run folder, each as a writer taking its path, in writing order.

    report.html (and plan.xlsx with `excel`) come last: they are made from the
    files written before them, as `sourcing report RUN_DIR` makes them. With a
    `survive` report (`run --survive`), survive.csv comes before them and the report
    gains its section.
    """
    plan = run.plan
    tables = run_tables(plan)
    files: dict[str, Callable[[Path], None]] = {
        "plan.csv": lambda p: _csv(tables["plan.csv"], p),
        "orders.csv": lambda p: _csv(tables["orders.csv"], p),
        "inventory.csv": lambda p: _csv(tables["inventory.csv"], p),
        "spot.csv": lambda p: _csv(plan.spot, p, SPOT_COLUMNS),
        "scenarios.csv": lambda p: _csv(plan.scenarios, p, SCENARIO_COLUMNS),
        "summary.json": lambda p: p.write_text(json.dumps(doc, indent=2) + "\n"),
        "scenario.resolved.yaml": lambda p: p.write_text(resolved_yaml),
    }
    if survive is not None:
        from optimizer.survive import COLUMNS as SURVIVE_COLUMNS

        files["survive.csv"] = lambda p: _csv(survive.table, p, SURVIVE_COLUMNS)
    files["report.html"] = _write_report
    if excel:
        files["plan.xlsx"] = _write_workbook
    return files


def _write_report(path: Path) -> None:
    from optimizer.html_report import write_report

    write_report(path.parent, path)


def _write_workbook(path: Path) -> None:
    from optimizer.excel import write_workbook
    from optimizer.run_folder import read_run

    write_workbook(read_run(path.parent), path)


def ensure_writable(out: Path, force: bool, inputs: Iterable[Path] = ()) -> Path:
    """Refuse early (before solving) what `write_folder` would refuse; the folder to write.

    See `optimizer.safe_output`: a non-empty folder is replaced only with
    `force` and only if sourcing wrote it; some folders never are.
    """
    return check_target(out, force, inputs)


def _remove(path: Path) -> None:
    """Remove a temporary folder, or a symbolic link where one was left (never its target)."""
    if path.is_symlink():
        with contextlib.suppress(OSError):
            path.unlink()
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


def sweep_stale(parent: Path, max_age_seconds: float = 3600.0) -> None:
    """Remove temporary folders left by runs that were killed while writing."""
    now = time.time()
    with contextlib.suppress(OSError):
        for entry in parent.iterdir():
            if not entry.name.startswith(TMP_PREFIX):
                continue
            if entry.is_symlink():  # left by versions that moved a symlinked --out aside
                _remove(entry)
                continue
            if not entry.is_dir():
                continue
            pid = _pid_of(entry.name)
            alive = pid is not None and pid_alive(pid)
            if not alive or now - entry.stat().st_mtime > max_age_seconds:
                shutil.rmtree(entry, ignore_errors=True)


def _pid_of(name: str) -> int | None:
    parts = name[len(TMP_PREFIX) :].split("-")
    return int(parts[0]) if parts and parts[0].isdigit() else None


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False if unsupported.

    Replacing a folder otherwise takes two renames, and a kill -9 between them
    would leave neither the old folder nor the new one in place.
    """
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    renameat2.argtypes += [ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def write_folder(
    out: Path,
    files: dict[str, Callable[[Path], None]],
    force: bool,
    *,
    kind: str = "run",
    inputs: Iterable[Path] = (),
) -> None:
    """Write files into `out` all or nothing: temporary sibling folder, fsync, rename.

    The folder gets the marker of `kind` (`optimizer.safe_output`); an existing
    folder is replaced only as `check_target` allows, checked before anything is
    moved and again on the folder that was moved aside. A disk that is full or
    read-only, or a folder that cannot be made, is the user's to fix (exit 2),
    not a bug; nothing is left behind either way.
    """
    try:
        _write_folder(out, files, force, kind, list(inputs))
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise UserError(
            escape(
                f"{out}: cannot write the run folder: {exc.strerror or exc}{where}; "
                "nothing was written"
            )
        ) from None


def _write_folder(
    out: Path, files: dict[str, Callable[[Path], None]], force: bool, kind: str, inputs: list[Path]
) -> None:
    real = check_target(out, force, inputs)
    parent = real.parent
    parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(parent)
    # os.mkdir, not mkdtemp: the folder becomes `out` and keeps the umask's mode, not 0700
    tmp = parent / f"{TMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"
    os.mkdir(tmp)
    try:
        writers = {MARKER: lambda p: p.write_text(marker_text(kind)), **files}
        for name, write in writers.items():
            path = tmp / name
            write(path)
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
        _move_into_place(tmp, real, out, force, inputs)
        with contextlib.suppress(OSError):
            fd = os.open(parent, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
    except BaseException:
        _remove(tmp)
        raise


def _move_into_place(tmp: Path, real: Path, out: Path, force: bool, inputs: list[Path]) -> None:
    """Rename the finished folder `tmp` to `real`, replacing a folder of ours only."""
    for _attempt in range(3):
        check_target(out, force, inputs)  # again, right before anything is moved
        if real.is_dir() and any(real.iterdir()):  # ours, and force (check_target said so)
            if _exchange(tmp, real):
                if not still_ours(tmp):  # replaced by someone else's folder meanwhile
                    _exchange(tmp, real)  # put it back
                    check_target(out, force, inputs)  # raises: not ours
                    continue
                _remove(tmp)  # tmp now holds the previous folder
                return
            old = parent_temp(real, "old")
            os.replace(real, old)
            os.replace(tmp, real)
            _remove(old)
            return
        try:  # fails if another run filled `real` since the check above
            os.rename(tmp, real)
            return
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
    raise UserError(escape(f"{out}: other runs keep writing this folder; nothing was written"))


def parent_temp(path: Path, tag: str) -> Path:
    """A fresh temporary name beside `path` (swept by `sweep_stale` if left behind)."""
    return path.parent / f"{TMP_PREFIX}{os.getpid()}-{tag}-{uuid.uuid4().hex[:12]}"


# --- readable tables -----------------------------------------------------------------


def _money(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:,.0f}"


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def print_summary(doc: dict[str, Any], console: Console, *, written: bool = False) -> None:
    """Print a run's summary as readable tables (`written`: the run folder exists, so the
    tables may point at its files for what they leave out)."""
    cur = doc["currency"]
    title = doc.get("title") or doc["scenario"]
    head = Table.grid(padding=(0, 2))
    head.add_row("Scenario", f"{title} ({doc['scenario']})")
    head.add_row("Status", f"{doc['status']} (checked: {'yes' if doc['checked'] else 'no'})")
    head.add_row("Objective", f"{_money(doc['objective'])} {cur}")
    head.add_row("Expected spend", f"{_money(doc.get('spend'))} {cur} (money paid)")
    head.add_row(
        "Expected penalties", f"{_money(doc.get('penalties'))} {cur} (modelled, not paid)"
    )
    if doc.get("cvar") and len(doc["scenarios"]) > 1:
        cv = doc["cvar"]
        head.add_row(
            f"Tail cost (CVaR {cv['alpha']:g})",
            f"{_money(cv['cvar'])} {cur} (VaR {_money(cv['var'])})",
        )
    console.print(head)
    _print_costs(doc, console)
    _print_materials(doc, console)
    if len(doc["scenarios"]) > 1:
        _print_scenarios(doc, console, written=written)
    if doc.get("shadow_prices"):
        _print_shadow_prices(doc, console, written=written)
    s = doc["solver"]
    gap = "" if s["gap"] in (None, 0.0) else f", gap {s['gap']:.2%}"
    m = doc["model"]
    console.print(
        f"Solver: {s['name']} {s['status']}{gap} in {s['seconds']:.2f} s; model {m['kind']}: "
        f"{m['variables']:,} variables, {m['rows']:,} rows, {m['nonzeros']:,} non-zeros"
        + (f", {m['binaries']:,} binaries" if m["binaries"] else "")
    )


PENALTY_NOTES = {
    "delay": "days of lead time and licence wait",
    "shortage": "demand not met",
    "safety_stock": "plan below its safety stock",
    "end_stock": "plan ends below its end stock",
}


def _print_costs(doc: dict[str, Any], console: Console) -> None:
    """Money spent, then modelled penalties, each with its items and share of the total."""
    cur = doc["currency"]
    costs = doc["costs"]
    table = Table(title=f"Expected cost ({cur})", title_justify="left")
    table.add_column("item", overflow="fold")
    table.add_column("cost", justify="right", overflow="fold")
    table.add_column("share", justify="right", overflow="fold")
    table.add_column("what it is", overflow="fold")
    total = doc["total_cost"] or 0.0
    groups = (
        ("spend", "money spent", costs.get("spend") or {}, {}),
        ("penalties", "penalties (not paid)", costs.get("penalties") or {}, PENALTY_NOTES),
    )
    for key, label, items, notes in groups:
        for item, value in items.items():
            share = _pct(value / total if total else None)
            table.add_row(f"  {item.replace('_', ' ')}", _money(value), share, notes.get(item, ""))
        subtotal = doc.get(key)
        share = _pct(subtotal / total if total and subtotal is not None else None)
        table.add_row(label, _money(subtotal), share, "", style="bold")
    table.add_row("total", _money(total), "100.0%" if total else "-", "", style="bold")
    console.print(table)


def _print_materials(doc: dict[str, Any], console: Console) -> None:
    """Per material: volume, risk, shortage, service, end position and the sourcing mix."""
    unit = doc["quantity_unit"]
    mats = Table(title="Materials", title_justify="left")
    for col in (
        "material",
        f"volume ({unit})",
        "avg risk",
        f"exp. shortage ({unit})",
        f"worst ({unit})",
        "service",
        f"end stock ({unit})",
        "by country",
        "by supplier",
    ):
        left = col in ("material", "by country", "by supplier")
        mats.add_column(col, justify="left" if left else "right", overflow="fold")
    for mid, k in doc["materials"].items():
        end = k.get("end_position") or {}
        closing, target = end.get("closing"), end.get("end_stock")
        end_text = "-" if closing is None else f"{closing:,.1f}"
        if target:
            end_text += f" / {target:,.1f}"
        mats.add_row(
            mid,
            f"{k['volume']:,.1f}",
            "-" if k["average_risk"] is None else f"{k['average_risk']:.2f}",
            f"{k['expected_shortage']:,.1f}",
            f"{k['worst_shortage']:,.1f}",
            _pct(k["service_level"]),
            end_text,
            ", ".join(f"{c} {_pct(v)}" for c, v in _top(k["share_by_country"])),
            ", ".join(f"{s} {_pct(v)}" for s, v in _top(k["share_by_supplier"])),
        )
    mats.caption = "end stock: closing stock of the plan / its end-stock target"
    console.print(mats)


def _top(shares: dict[str, float], n: int = 4) -> list[tuple[str, float]]:
    return sorted(shares.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def _print_scenarios(
    doc: dict[str, Any], console: Console, limit: int = 12, *, written: bool = False
) -> None:
    t = Table(title="Scenarios", title_justify="left")
    for col in ("scenario", "probability", f"cost ({doc['currency']})", "shortage", "spot"):
        t.add_column(col, justify="left" if col == "scenario" else "right", overflow="fold")
    rows = sorted(doc["scenarios"], key=lambda r: -(r["probability"] or 0))
    for r in rows[:limit]:
        t.add_row(
            r["name"],
            f"{r['probability']:.3f}",
            _money(r["cost"]),
            f"{r['shortage']:,.1f}",
            f"{r['spot']:,.1f}",
        )
    if len(rows) > limit:
        where = " in scenarios.csv" if written else " (all of them with --out or --json)"
        t.caption = f"{len(rows) - limit} more scenarios{where}"
    console.print(t)


def shadow_sentence(rec: dict[str, Any], unit: str) -> str:
    """What relaxing a binding cap or capacity by one step means, in words, and for how
    far the value holds ("for the next 0.05 t/period")."""
    period = rec.get("period")
    where = (
        "" if not period else f" in {period}" if isinstance(period, str) else f" in period {period}"
    )
    kind = rec["constraint"]
    high, limit = rec.get("range_high"), rec.get("limit")
    room = None if high is None or limit is None else high - limit
    if kind in ("country_share", "supplier_share", "country_exposure"):
        label = {
            "country_share": "from",
            "supplier_share": "from supplier",
            "country_exposure": "exposed to",
        }[kind]
        text = (
            f"one more point of {rec['material']} {label} {rec['subject']} "
            f"(cap {_pct(rec['limit'])}){where}"
        )
        return text + (f", up to {_pct(high)}" if room is not None and room < 1 else "")
    if kind == "average_risk":
        text = f"0.01 more average risk allowed on {rec['material']} (cap {rec['limit']:g}){where}"
        return text + (f", up to {high:.3g}" if room is not None and room < 1 else "")
    text = f"one more {unit} of {rec['material']} capacity at {rec['subject']}{where}"
    if room is not None and math.isfinite(room):
        text += f", for the next {room:,.3g} {unit}/period"
    return text


def _group_periods(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Merge rows that differ only by period and have the same value ("periods 5-12")."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for rec in records:
        key = (rec["constraint"], rec["material"], rec["subject"], round(rec["per_step"], 2))
        if key not in groups:
            groups[key] = {**rec, "periods": []}
        if rec.get("period"):
            groups[key]["periods"].append(rec["period"])
    out = []
    for rec in groups.values():
        periods = sorted(rec.pop("periods"))
        if len(periods) > 1:
            run = periods == list(range(periods[0], periods[-1] + 1))
            span = f"{periods[0]}-{periods[-1]}" if run else ", ".join(map(str, periods))
            rec["period"] = f"periods {span}"
        out.append(rec)
    return out


def _print_shadow_prices(
    doc: dict[str, Any], console: Console, limit: int = 8, *, written: bool = False
) -> None:
    t = Table(
        title=f"Shadow prices ({doc.get('shadow_prices_note') or 'LP duals'})", title_justify="left"
    )
    t.add_column("relaxing a binding limit by one step", overflow="fold")
    t.add_column(f"saves ({doc['currency']})", justify="right", overflow="fold")
    records = _group_periods(doc["shadow_prices"])
    for rec in records[:limit]:
        t.add_row(shadow_sentence(rec, doc["quantity_unit"]), _money(rec["per_step"]))
    if len(records) > limit:
        where = " in summary.json" if written else " (all of them with --out or --json)"
        t.caption = f"{len(records) - limit} more{where}"
    console.print(t)


def print_batch(results: list[Any], console: Console) -> None:
    """One line per file of a batch: status, cost, shortage, time."""
    t = Table(title="Batch", title_justify="left")
    for col in (
        "file",
        "scenario",
        "status",
        "objective",
        "total cost",
        "exp. shortage",
        "seconds",
    ):
        left = col in ("file", "scenario", "status")
        t.add_column(col, justify="left" if left else "right", overflow="fold")
    for r in results:
        if not r.ok:
            t.add_row(
                r.path, "-", f"failed (exit {r.exit_code})", "-", "-", "-", f"{r.seconds:.1f}"
            )
            continue
        d = r.doc
        shortage = sum(k["expected_shortage"] or 0.0 for k in d["materials"].values())
        t.add_row(
            r.path,
            d["scenario"],
            d["status"],
            _money(d["objective"]),
            _money(d["total_cost"]),
            f"{shortage:,.1f}",
            f"{r.seconds:.1f}",
        )
    console.print(t)
