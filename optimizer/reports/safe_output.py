"""Which output folders may be written, and which may be replaced with `--force`.

Every folder that `run`, `compare`, `stress` and `frontier` write holds a
marker file, `.sourcing-run`, a small JSON document with a format name and a
version of its own. `--force` replaces an existing, non-empty folder only when
it holds a valid marker, that is, when this tool wrote it; anything else is
left alone (exit 2, with a message that says why and what to do instead).

Some folders are never written over, marker or not, empty or not: the root
folder, the home folder, the working directory and every folder above it,
and any folder that holds an input of the command (the scenario file, every
file of its `extends` chain, a run folder being read), directly or further
down.

A symbolic link given as `--out` is resolved first: the folder it points to
is the one checked and replaced (the link keeps pointing at the new results),
never the link itself; a link that loops is refused.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from optimizer.common.errors import UserError
from optimizer.common.safe_text import escape

MARKER = ".sourcing-run"

FORMAT = "sourcing-output-folder"

VERSION = 1

MAX_MARKER_BYTES = 4096


class OutputRefused(UserError):
    """An output folder that must not be written or replaced (exit 2)."""


def marker_text(kind: str) -> str:
    """The marker of a folder written by `sourcing KIND` (run, compare, stress, frontier)."""
    doc = {"format": FORMAT, "version": VERSION, "kind": kind}
    return json.dumps(doc, sort_keys=True) + "\n"


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The folder's marker if it holds a valid one (a regular file, our format), else None."""
    path = folder / MARKER
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_MARKER_BYTES:
            return None
        with open(path, "rb") as fh:
            doc = json.loads(fh.read(MAX_MARKER_BYTES).decode("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        return None
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return None
    return doc


def resolve_out(out: Path) -> Path:
    """The absolute folder `out` names, symbolic links resolved; a link loop is refused."""
    try:
        return Path(os.path.abspath(out)).resolve()
    except (RuntimeError, OSError) as exc:  # RuntimeError: a link loop (Python < 3.13)
        raise OutputRefused(
            escape(f"{out}: cannot be used as an output folder: a symbolic link loops ({exc})")
        ) from None


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _where_or_none(where: Callable[[], Path]) -> Path | None:
    """`Path.home()` or `Path.cwd()` resolved; None when there is none (no HOME, cwd removed)."""
    try:
        return where().resolve()
    except (RuntimeError, KeyError, OSError):
        return None


def _guarded(real: Path, inputs: Iterable[Path]) -> str | None:
    """Why `real` may never be written over, or None."""
    if real == Path(real.anchor):
        return "is the root folder"
    if real == _where_or_none(Path.home):
        return "is your home folder"
    cwd = _where_or_none(Path.cwd)
    if real == cwd:
        return "is the working directory"
    if cwd is not None and real in cwd.parents:
        return "holds the working directory"
    for item in inputs:
        try:
            path = Path(os.path.abspath(item)).resolve()
        except (RuntimeError, OSError):
            continue
        if _inside(path, real):
            return f"holds an input of this command ({item})"
    return None


def check_target(out: Path, force: bool, inputs: Iterable[Path] = ()) -> Path:
    """The folder to write for `--out OUT`, refusing what must not be written or replaced.

    Returns the resolved folder. Raises `OutputRefused` (exit 2) when `out` is
    not a folder, is a protected folder, or exists with files in it and either
    `force` is off or it holds no valid marker.
    """
    real = resolve_out(out)
    shown = str(out) if Path(os.path.abspath(out)) == real else f"{out} (-> {real})"
    if real.exists() and not real.is_dir():
        raise OutputRefused(escape(f"{shown}: exists and is not a folder; choose another --out"))
    why = _guarded(real, inputs)
    if why:
        raise OutputRefused(
            escape(
                f"{shown}: {why}; sourcing never writes over it, with or without --force. "
                "Give --out a new folder (it is created), e.g. --out runs/first"
            )
        )
    if not real.is_dir() or not any(real.iterdir()):
        return real
    marker = read_marker(real)
    if marker is None:
        tail = (
            "--force replaces only folders that sourcing wrote (they hold a .sourcing-run file), "
            "so these files are left alone"
            if force
            else "nothing was changed"
        )
        raise OutputRefused(
            escape(
                f"{shown}: the folder exists and holds files that sourcing did not write; {tail}. "
                "Give --out a new folder (it is created)"
            )
        )
    if not force:
        kind = marker.get("kind")
        what = f"the results of an earlier `sourcing {kind}`" if isinstance(kind, str) else ""
        raise OutputRefused(
            escape(
                f"{shown}: the folder holds {what or 'earlier results of sourcing'}; "
                "add --force to replace them, or give --out a new folder"
            )
        )
    return real


def still_ours(folder: Path) -> bool:
    """True if `folder` holds a valid marker (checked again on the folder that was moved)."""
    return read_marker(folder) is not None
