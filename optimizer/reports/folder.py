"""Output folders written all or nothing: a temporary sibling folder, fsync, rename;
an existing folder replaced only when it is one sourcing wrote (`safe_output`).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from optimizer.common.errors import UserError
from optimizer.common.processes import pid_alive
from optimizer.common.safe_text import escape
from optimizer.io.run_folder import INVENTORY, ORDERS, PLAN, SURVIVE, RunData, parse_table
from optimizer.reports.csv_files import csv_bytes, run_tables, write_table
from optimizer.reports.safe_output import MARKER, check_target, marker_text, still_ours
from optimizer.results.plan import Plan
from optimizer.schema.summary import RunSummary
from optimizer.schema.tables import (
    INVENTORY_COLUMNS,
    ORDER_COLUMNS,
    PLAN_COLUMNS,
    SCENARIO_COLUMNS,
    SPOT_COLUMNS,
    SURVIVE_COLUMNS,
)

TMP_PREFIX = ".sourcing-tmp-"


def run_files(
    plan: Plan,
    summary: RunSummary,
    resolved_yaml: str,
    *,
    excel: bool = False,
    survive: Any = None,
) -> dict[str, Callable[[Path], None]]:
    """The files of a run folder, each as a writer taking its path, in writing order.

    report.html (and plan.xlsx with `excel`) are made in memory from the very
    bytes of the tables the folder gets, read as `sourcing report RUN_DIR` reads
    them (`RunData`): rebuilding the report from the folder gives the same bytes.
    With a `survive` report (`run --survive`), survive.csv is written and the
    report gains its section.
    """
    tables = {name: csv_bytes(df) for name, df in run_tables(plan).items()}
    data = RunData(
        summary,
        parse_table(tables["plan.csv"], Path(PLAN), PLAN_COLUMNS),
        parse_table(tables["orders.csv"], Path(ORDERS), ORDER_COLUMNS).assign(
            order_date=lambda o: o["order_date"].astype(str)
        ),
        parse_table(tables["inventory.csv"], Path(INVENTORY), INVENTORY_COLUMNS),
        plan.scenario,
        None,
        None
        if survive is None
        else parse_table(
            csv_bytes(survive.table[SURVIVE_COLUMNS]), Path(SURVIVE), SURVIVE_COLUMNS
        ),
    )
    files: dict[str, Callable[[Path], None]] = {
        "plan.csv": lambda p: write_bytes(tables["plan.csv"], p),
        "orders.csv": lambda p: write_bytes(tables["orders.csv"], p),
        "inventory.csv": lambda p: write_bytes(tables["inventory.csv"], p),
        "spot.csv": lambda p: write_table(plan.spot, p, SPOT_COLUMNS),
        "scenarios.csv": lambda p: write_table(plan.scenarios, p, SCENARIO_COLUMNS),
        "summary.json": lambda p: _write_text(p, json.dumps(summary.document(), indent=2) + "\n"),
        "scenario.resolved.yaml": lambda p: _write_text(p, resolved_yaml),
    }
    if survive is not None:
        files["survive.csv"] = lambda p: write_table(survive.table, p, SURVIVE_COLUMNS)
    files["report.html"] = lambda p: _write_report(data, p)
    if excel:
        files["plan.xlsx"] = lambda p: _write_workbook(data, p)
    return files


def write_bytes(data: bytes, path: Path) -> None:
    """A table already made as CSV bytes (`csv_bytes`), written as it is."""
    path.write_bytes(data)


def _write_text(path: Path, text: str) -> None:
    path.write_text(text)


def _write_report(data: RunData, path: Path) -> None:
    from optimizer.reports.html import write_report

    write_report(data, path)


def _write_workbook(data: RunData, path: Path) -> None:
    from optimizer.reports.excel import write_workbook

    write_workbook(data, path)


def write_file(path: Path, write: Callable[[Path], object]) -> Path:
    """Write one file atomically: `write` fills a temporary sibling, which is synced and
    renamed over `path`; nothing is left behind if `write` fails."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


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
