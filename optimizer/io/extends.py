"""`extends` chains: the files of a scenario, merged, and which file set which value.
"""

from __future__ import annotations

import dataclasses
import errno
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optimizer.common.errors import Located, ScenarioError
from optimizer.io.regular_file import kind_problem, os_reason
from optimizer.io.where import dotted_path, fail_at, shown
from optimizer.io.yaml_reader import MAX_EXTENDS, PathKey, _YamlProblem, parse_yaml, read_text


@dataclass(frozen=True)
class SourceFile:
    """One file of an `extends` chain: its name, its data and where each path was set."""

    name: str
    data: dict[str, Any]
    lines: Mapping[PathKey, int]
    path: Path | None = None  # resolved


def _nearest_line(lines: Mapping[PathKey, int], path: PathKey) -> int | None:
    probe = tuple(path)
    while probe not in lines:
        if not probe:
            return None
        probe = probe[:-1]
    return lines[probe]


def _claims(src: SourceFile, path: PathKey) -> bool:
    """Whether `src` set the value at `path` in the merged data (or deleted it).

    It did if it has the whole path, or if on the way it replaced a mapping by
    a list or a value (lists are replaced whole, `null` deletes).
    """
    node: Any = src.data
    for part in path:
        if not isinstance(node, dict):
            return True
        if part not in node:
            return False
        node = node[part]
        if node is None:
            return True
    return True


def locate(sources: tuple[SourceFile, ...], path: PathKey) -> tuple[str, int | None]:
    """The file and line that set `path`: the most derived file whose value it is.

    A path that no file has (a missing field) belongs to the file that made the
    mapping it is missing from: the most derived one with the longest prefix.
    """
    for end in range(len(path), 0, -1):
        for src in sources[:-1]:
            if _claims(src, path[:end]):
                return src.name, _nearest_line(src.lines, path)
        if _claims(sources[-1], path[:end]):
            break
    root = sources[-1]
    return root.name, _nearest_line(root.lines, path)


def _parse_file(path: Path, name: str) -> SourceFile:
    """Read and parse one file; YAML problems and a non-mapping top are errors."""
    text = read_text(path)
    try:
        data, lines, dupes = parse_yaml(text)
    except _YamlProblem as exc:
        raise ScenarioError([Located(name, exc.line, dotted_path(exc.path), exc.message)]) from None
    if dupes:
        raise ScenarioError([Located(name, p.line, dotted_path(p.path), p.message) for p in dupes])
    if data is None:
        fail_at(
            name,
            1,
            "file is empty; a scenario is a mapping with at least `name`, `horizon`, "
            "`materials` and `suppliers`",
        )
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a single value ({shown(data)})"
        fail_at(name, 1, f"the top level must be a mapping (key: value), found {kind}")
    return SourceFile(name, data, lines, resolved_source(path))


def _parent_of(here: SourceFile, path: Path, chain: list[tuple[Path, str]]) -> tuple[Path, str]:
    """Resolved path and display name of the file `here` extends; errors name the chain."""
    parent = here.data["extends"]
    line = here.lines.get(("extends",))
    if not isinstance(parent, str) or not parent.strip():
        message = "must be the path of a parent scenario file"
        fail_at(here.name, line, message, "extends", shown(parent))
    display = os.path.normpath(os.path.join(os.path.dirname(here.name), parent))
    try:
        resolved = (path.parent / parent).resolve()
        resolved.stat()
    except FileNotFoundError:
        pass  # reported below, with the chain
    except RuntimeError:  # Path.resolve on a symbolic link loop (Python < 3.13)
        reason = os_reason(OSError(errno.ELOOP, "loop"))
        fail_at(here.name, line, f"parent file cannot be read: {reason}", "extends", shown(parent))
    except (OSError, ValueError) as exc:  # name too long, NUL byte, permission, loop
        reason = os_reason(exc) if isinstance(exc, OSError) else str(exc)
        fail_at(here.name, line, f"parent file cannot be read: {reason}", "extends", shown(parent))
    names = [n for _, n in chain]
    resolved_chain = [p for p, _ in chain]
    if resolved in resolved_chain:
        cycle = " -> ".join([*names[resolved_chain.index(resolved) :], display])
        fail_at(here.name, line, f"extends cycle: {cycle}", "extends", shown(parent))
    if len(chain) > MAX_EXTENDS:
        fail_at(here.name, line, f"more than {MAX_EXTENDS} levels of extends", "extends")
    if not resolved.is_file():
        if resolved.is_dir():
            reason = "is a directory"
        elif resolved.exists():  # a FIFO, a device, a socket: never opened
            reason = f"cannot be read ({kind_problem(resolved.stat().st_mode)})"
        else:
            reason = "not found"
        fail_at(
            here.name,
            line,
            f"parent file {reason}: {display} (chain: {' -> '.join([*names, display])})",
            "extends",
            shown(parent),
        )
    return resolved, display


def load_chain(path: Path, name: str, chain: list[tuple[Path, str]]) -> list[SourceFile]:
    here = _parse_file(path, name)
    if here.data.get("extends") is None:
        return [here]
    parent, shown = _parent_of(here, path, chain)
    try:
        return [here, *load_chain(parent, shown, [*chain, (parent, shown)])]
    except ScenarioError as exc:  # the parent's own problems: say which file pulled it in
        via = f" (extended by {here.name}:{here.lines.get(('extends',), 1)})"
        raise ScenarioError(
            [
                p if p.file != shown else dataclasses.replace(p, message=p.message + via)
                for p in exc.problems
            ]
        ) from None


def _without_nulls(value: Any) -> Any:
    """A child's new subtree as merged: `null` removes keys there too."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


def merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """Deep merge for `extends`: the child wins, `null` deletes, lists are replaced."""
    out = dict(parent)
    for key, value in child.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = _without_nulls(value)
    return out


def resolved_source(path: Path) -> Path:
    """`path` with symbolic links resolved; as given when they loop (reading then says so)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return path.absolute()
