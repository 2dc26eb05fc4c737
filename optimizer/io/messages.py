"""Validation errors as the user reads them: `file:line: field.path: message (got X)`.

Pydantic's errors are turned into short messages in the scenario's terms
(units, fractions, the nearest known name), located through the `extends`
chain to the file and line that set the value.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from optimizer.common.errors import Located
from optimizer.io.extends import SourceFile, locate
from optimizer.io.where import PathKey, dotted_path, shown
from optimizer.schema.scenario import ReferenceErrors, Scenario

_GONE = object()

_TYPE_NAMES = {"float", "int", "str", "bool", "list", "dict", "date", "none"}


def _is_union_tag(part: str) -> bool:
    """Pydantic adds the union member to `loc` (`constrained-float`, `list[...]`)."""
    return "[" in part or "-" in part or part in _TYPE_NAMES


@dataclass
class _Where:
    """A pydantic `loc` resolved against the data."""

    path: PathKey
    value: Any  # the value at path (the key itself for a key error)
    tag: str | None = None  # union member pydantic tried, if any
    tagged: Any = None  # the value the union was tried on
    key_error: bool = False


def _has(node: Any, part: Any) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _clean_loc(loc: tuple[Any, ...], data: Any) -> _Where:
    """Strip pydantic's union tags and `[key]` markers from `loc` by walking the data."""
    node: Any = data
    where = _Where((), None)
    path: list[str | int] = []
    for part in loc:
        if part == "[key]":
            where.key_error = True
        elif _has(node, part):
            path.append(part)
            node = node[part]
        elif isinstance(part, str) and _is_union_tag(part):
            if where.tag is None:
                where.tag, where.tagged = part, node
        else:
            path.append(part)
            node = _GONE
    where.path = tuple(path)
    where.value = path[-1] if where.key_error and path else node
    return where


def _model_at(path: PathKey) -> type[BaseModel] | None:
    """The pydantic model that the mapping at `path` is validated against."""
    tp: Any = Scenario
    for part in path:
        model = _as_model(tp)
        if model is not None and isinstance(part, str):
            info = model.model_fields.get(part)
            if info is None:
                return None
            tp = info.annotation
            continue
        tp = _container_item(tp)
        if tp is None:
            return None
    return _as_model(tp)


def _unwrap(tp: Any) -> list[Any]:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for arg in typing.get_args(tp) for t in _unwrap(arg)]
    return [tp]


def _as_model(tp: Any) -> type[BaseModel] | None:
    for t in _unwrap(tp):
        if isinstance(t, type) and issubclass(t, BaseModel):
            return t
    return None


def _container_item(tp: Any) -> Any:
    for t in _unwrap(tp):
        origin = typing.get_origin(t)
        if origin is dict:
            return typing.get_args(t)[1]
        if origin is list:
            return typing.get_args(t)[0]
    return None

_TEXT_NUMBER_HINTS = (
    (
        re.compile(r"[-+]?0[0-9][0-9_]*"),
        "a leading zero is ambiguous (YAML 1.1 reads 012 as octal 10); write {plain}",
    ),
    (
        re.compile(r"[-+]?[0-9]+(?::[0-5]?[0-9])+(?:\.[0-9]*)?"),
        "`1:30` is not a number here (YAML 1.1 reads it as 90, base 60); write the value",
    ),
    (
        re.compile(r"[-+]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?"),
        "write {plain} without thousands separators",
    ),
    (
        re.compile(r"[-+]?(?:inf|infinity|nan)", re.IGNORECASE),
        "a finite number is required",
    ),
)


def _text_number_hint(text: str) -> str:
    """Why a piece of text is not taken as a number, and what to write instead."""
    if text.endswith("%"):
        try:
            pct = float(text[:-1])
        except ValueError:
            return ""
        return f"write fractions as {pct / 100:g}, not {text}"
    for pattern, hint in _TEXT_NUMBER_HINTS:
        if pattern.fullmatch(text):
            plain = text.replace(",", "").lstrip("+").lstrip("0") or "0"
            return hint.format(plain=plain)
    try:
        float(text.replace("_", ""))
    except ValueError:
        return ""
    return "remove the quotes"


def _number_hint(value: Any, whole: bool, union: bool) -> str:
    kind = "a whole number" if whole else "a number"
    if union:
        kind += " or a list of numbers (one per period)"
    if value is None:
        return "is empty (null); give a value or remove the key"
    if isinstance(value, bool):
        return f"must be {kind}, not true/false"
    if isinstance(value, dict):
        return f"must be {kind}, not a mapping"
    if isinstance(value, list):
        return f"must be {kind}, not a list"
    if isinstance(value, str):
        hint = _text_number_hint(value.strip())
        return f"must be {kind}, not text" + (f"; {hint}" if hint else "")
    return f"must be {kind}"


def _le_message(ctx: dict[str, Any], value: Any) -> str:
    le = ctx.get("le")
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if le == 1:
        hint = ""
        if number and 1 < value <= 100:
            hint = f"; did you mean {value / 100:g} for {shown(value)}%?"
        return f"must be a fraction between 0 and 1 (0.25 means 25%){hint}"
    if le == 10 and number and 10 < value <= 1000:
        return f"must be at most 10 (a rate: 0.25 means 25%); did you mean {value / 100:g}?"
    if isinstance(le, (int, float)) and le >= 1e6:
        return f"must be at most {le:g}: larger numbers are beyond the solvers' precision"
    return f"must be <= {shown(le)}"


def _extra_message(path: PathKey) -> str:
    model = _model_at(path[:-1])
    allowed = sorted(model.model_fields) if model else []
    close = difflib.get_close_matches(str(path[-1]), allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown key; did you mean {close[0]!r}?"
    return "unknown key" + (f"; allowed: {', '.join(allowed)}" if allowed else "")


def _entries(n: Any) -> str:
    return f"{n} {'entry' if n == 1 else 'entries'}"


def _string_message(value: Any) -> str:
    if isinstance(value, bool):
        return "must be text; YAML reads an unquoted true/false as a boolean, so quote it"
    if isinstance(value, (int, float)):
        return f"must be text; write it in quotes: '{shown(value)}'"
    return "must be text"


def _mapping_message(value: Any) -> str:
    if value is None:
        return "is empty (null); give a mapping (key: value) or remove the key"
    if isinstance(value, list):
        return "must be a mapping (key: value), not a list"
    return "must be a mapping (key: value)"


def _list_message(value: Any) -> str:
    if isinstance(value, dict):
        return "must be a list (items starting with `- `), not a mapping"
    if value is None:
        return "is empty (null); give a list or remove the key"
    return "must be a list"

_ID_RULE = "may contain only letters, digits, '-' and '_'"

_SIMPLE: dict[str, Any] = {
    "missing": lambda ctx, v: "required field is missing",
    "finite_number": lambda ctx, v: "must be a finite number (NaN and infinity are not allowed)",
    "greater_than_equal": lambda ctx, v: f"must be >= {shown(ctx.get('ge'))}",
    "greater_than": lambda ctx, v: f"must be > {shown(ctx.get('gt'))}",
    "less_than": lambda ctx, v: f"must be < {shown(ctx.get('lt'))}",
    "less_than_equal": _le_message,
    "string_pattern_mismatch": lambda ctx, v: _ID_RULE,
    "string_type": lambda ctx, v: _string_message(v),
    "string_too_short": lambda ctx, v: "must not be empty",
    "string_too_long": lambda ctx, v: f"must be at most {ctx.get('max_length')} characters",
    "literal_error": lambda ctx, v: f"must be one of {ctx.get('expected', '')}",
    "dict_type": lambda ctx, v: _mapping_message(v),
    "model_type": lambda ctx, v: _mapping_message(v),
    "model_attributes_type": lambda ctx, v: _mapping_message(v),
    "list_type": lambda ctx, v: _list_message(v),
    "too_short": lambda ctx, v: f"must have at least {_entries(ctx.get('min_length', 1))}",
    "too_long": lambda ctx, v: f"must have at most {_entries(ctx.get('max_length'))}",
    "bool_type": lambda ctx, v: "must be true or false",
}


def _message(err: Mapping[str, Any], where: _Where) -> str:
    """A plain-English message for one pydantic error."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = where.value
    if where.key_error and kind == "string_pattern_mismatch":
        return f"ids {_ID_RULE}"
    if where.key_error and kind == "string_too_short":
        return f"ids must not be empty; they {_ID_RULE}"
    if kind == "extra_forbidden":
        return _extra_message(where.path)
    if kind in ("float_type", "float_parsing"):
        return _number_hint(value, whole=False, union=where.tag is not None)
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return _number_hint(value, whole=True, union=where.tag is not None)
    if kind in _SIMPLE:
        return str(_SIMPLE[kind](ctx, value))
    if kind.startswith("date"):
        return "must be a date written YYYY-MM-DD"
    return str(err.get("msg", kind))

_Found = tuple[PathKey, str, str | None]


def _reference_problems(err: Mapping[str, Any]) -> list[_Found] | None:
    error = (err.get("ctx") or {}).get("error")
    if not isinstance(error, ReferenceErrors):
        return None
    return [(p.path, p.message, None if p.got is None else shown(p.got)) for p in error.problems]


def _other_branch(where: _Where) -> bool:
    """An error of the union member (number or list) that the input did not take."""
    if where.tag is None or where.key_error:
        return False
    return isinstance(where.tagged, list) != where.tag.startswith("list[")


def _pydantic_problems(exc: ValidationError, data: dict[str, Any]) -> Iterator[_Found]:
    for err in exc.errors(include_url=False):
        references = _reference_problems(err)
        if references is not None:
            yield from references
            continue
        where = _clean_loc(tuple(err["loc"]), data)
        if _other_branch(where):
            continue
        message = _message(err, where)
        quiet = err["type"] in ("missing", "extra_forbidden") and not where.key_error
        yield where.path, message, None if quiet else shown(where.value)


def locate_errors(
    exc: ValidationError,
    data: dict[str, Any],
    sources: tuple[SourceFile, ...],
    relocate: Callable[[PathKey, Located], Located | None] | None = None,
) -> list[Located]:
    """Every problem at its file and line; `relocate` moves one that a table set to its
    cell (None: already reported there)."""
    seen: set[tuple[PathKey, str]] = set()
    out: list[Located] = []
    for path, message, got in _pydantic_problems(exc, data):
        if (path, message) in seen:
            continue
        seen.add((path, message))
        file, line = locate(sources, path)
        located = Located(file, line, dotted_path(path), message, got)
        problem = relocate(path, located) if relocate is not None else located
        if problem is not None:
            out.append(problem)
    order = {src.name: i for i, src in enumerate(reversed(sources))}
    out.sort(key=lambda p: (order.get(p.file, 0), p.line or 0))
    return out
