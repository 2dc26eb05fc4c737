"""Scenario file -> `Scenario`: safe YAML, `extends`, errors that point at the line.

The YAML reader works on parser events (libyaml when present) and builds plain
Python data itself, so that it can:

- resolve scalars as YAML 1.2 does (only `true`/`false` are booleans: the
  country code `NO` stays "NO"; `012` and `1:30` stay text; `1e3` is 1000.0);
- refuse duplicate keys (naming both lines), anchors and aliases (no alias
  bombs), tags other than the standard ones (nothing is ever executed), more
  than one document and nesting deeper than `MAX_DEPTH`;
- remember the line of every key and list item, so that a validation error
  on `suppliers.x.offers.m.capacity` can name the file and line that set it,
  also through a chain of `extends`.

Files larger than `MAX_FILE_BYTES` are refused before they are parsed.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from optimizer.errors import Located, ScenarioError
from optimizer.scenario import ReferenceErrors, Scenario

MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_DEPTH = 50
MAX_EXTENDS = 20

PathKey = tuple[str | int, ...]

_Parser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Resolver(yaml.resolver.BaseResolver):
    """YAML 1.2 core-schema scalars, a little stricter: no octal, no sexagesimal."""


_Resolver.yaml_implicit_resolvers = {}
for _tag, _regex, _first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("int", r"^[-+]?(?:0|[1-9][0-9]*(?:_[0-9]+)*)$", "-+0123456789"),
    (
        "float",
        r"^[-+]?(?:(?:[0-9]+(?:_[0-9]+)*)?\.[0-9]+(?:_[0-9]+)*(?:[eE][-+]?[0-9]+)?"
        r"|[0-9]+(?:_[0-9]+)*\.(?:[eE][-+]?[0-9]+)?"
        r"|[0-9]+(?:_[0-9]+)*[eE][-+]?[0-9]+"
        r"|\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
):
    _Resolver.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_regex), list(_first))

_RESOLVER = _Resolver()
_STD = "tag:yaml.org,2002:"


class ScenarioDumper(yaml.SafeDumper):
    """A dumper whose idea of plain scalars matches the loader's (so text stays text)."""


ScenarioDumper.yaml_implicit_resolvers = _Resolver.yaml_implicit_resolvers


def dump_yaml(data: Any) -> str:
    """YAML text that this module's loader reads back as the same data."""
    return yaml.dump(data, Dumper=ScenarioDumper, sort_keys=False, allow_unicode=True, width=100)


class _YamlProblem(Exception):
    def __init__(self, line: int | None, message: str, path: PathKey = ()) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.path = path


def _scalar(event: yaml.ScalarEvent) -> Any:
    """Turn a scalar event into a Python value, by its tag or by YAML 1.2 rules."""
    tag = event.tag
    if tag in (None, "!"):
        if not event.implicit[0] or tag == "!":  # quoted or `!` tagged: text
            return event.value
        tag = _RESOLVER.resolve(yaml.ScalarNode, event.value, (True, False))
    value = event.value
    if tag == _STD + "str":
        return value
    if tag == _STD + "null" and re.fullmatch(r"~|null|Null|NULL|", value):
        return None
    if tag == _STD + "bool" and value in ("true", "True", "TRUE", "false", "False", "FALSE"):
        return value.lower() == "true"
    if tag == _STD + "int" and re.fullmatch(r"[-+]?(?:0|[1-9][0-9]*(?:_[0-9]+)*)", value):
        return int(value.replace("_", ""))
    if tag == _STD + "float":
        low = value.lower().lstrip("+")
        if low in (".inf", "-.inf"):
            return -math.inf if low.startswith("-") else math.inf
        if low == ".nan":
            return math.nan
        try:
            return float(value.replace("_", ""))
        except ValueError:
            pass
    raise _YamlProblem(
        event.start_mark.line + 1,
        f"tag {tag!r} is not allowed (only plain values); input is never executed",
    )


@dataclass
class _Frame:
    obj: dict[str, Any] | list[Any]
    path: PathKey
    key: str | None = None  # pending mapping key
    key_lines: dict[str, int] = field(default_factory=dict)


def parse_yaml(text: str) -> tuple[Any, dict[PathKey, int], list[_YamlProblem]]:
    """Parse one YAML document into plain data and a map from field path to line.

    Returns (data, lines, problems); problems are non-fatal findings (duplicate
    keys). Fatal ones raise `_YamlProblem`.
    """
    loader = _Parser(text)
    lines: dict[PathKey, int] = {(): 1}
    problems: list[_YamlProblem] = []
    stack: list[_Frame] = []
    root: Any = None
    documents = 0
    try:
        while True:
            event = loader.get_event()
            if isinstance(event, yaml.StreamEndEvent):
                break
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise _YamlProblem(
                        event.start_mark.line + 1,
                        "more than one YAML document (`---`); a scenario file holds one",
                    )
                continue
            if isinstance(event, (yaml.StreamStartEvent, yaml.DocumentEndEvent)):
                continue
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise _YamlProblem(
                    event.start_mark.line + 1,
                    "anchors and aliases (& and *) are not supported; use `extends` to share "
                    "values between files",
                )
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                stack.pop()
                continue
            line = event.start_mark.line + 1
            if isinstance(event, yaml.ScalarEvent):
                value: Any = _scalar(event)
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if event.tag not in (None, "!", _STD + "map", _STD + "seq"):
                    raise _YamlProblem(line, f"tag {event.tag!r} is not allowed")
                value = {} if isinstance(event, yaml.MappingStartEvent) else []
                if len(stack) >= MAX_DEPTH:
                    raise _YamlProblem(line, f"nesting deeper than {MAX_DEPTH} levels")
            else:  # pragma: no cover - no other event kinds exist
                raise _YamlProblem(line, f"unexpected YAML event {type(event).__name__}")

            container = isinstance(value, (dict, list))
            if not stack:
                root = value
                path: PathKey = ()
            else:
                top = stack[-1]
                if isinstance(top.obj, list):
                    path = (*top.path, len(top.obj))
                    top.obj.append(value)
                    lines[path] = line
                elif top.key is None:  # a mapping key
                    if container:
                        raise _YamlProblem(line, "keys must be plain text, not a list or mapping")
                    key = event.value  # keys are names: kept as written (`NO`, `2024`)
                    if key in top.key_lines:
                        problems.append(
                            _YamlProblem(
                                line,
                                f"duplicate key {key!r} (first on line {top.key_lines[key]})",
                                (*top.path, key),
                            )
                        )
                    top.key_lines[key] = line
                    top.key = key
                    lines[(*top.path, key)] = line
                    continue
                else:
                    path = (*top.path, top.key)
                    top.obj[top.key] = value
                    top.key = None
            if container:
                stack.append(_Frame(value, path))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context = getattr(exc, "context", None)
        message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
        raise _YamlProblem(line, message) from None
    finally:
        loader.dispose()
    return root, lines, problems


def read_text(path: Path) -> str:
    """Read a scenario file as text: size cap, BOMs, UTF-8 with a line for bad bytes."""
    name = str(path)
    try:
        if path.is_dir():
            raise ScenarioError([Located(name, None, "", "cannot read: it is a directory")])
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScenarioError(
                [
                    Located(
                        name,
                        None,
                        "",
                        f"file is too large ({size:,} bytes; the limit is {MAX_FILE_BYTES:,})",
                    )
                ]
            )
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError([Located(name, None, "", "cannot read: no such file")]) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ScenarioError([Located(name, None, "", f"cannot read: {reason}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError([Located(name, None, "", "file is too large")])
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ScenarioError(
            [
                Located(
                    name,
                    line,
                    "",
                    f"not valid UTF-8 text (byte 0x{raw[exc.start]:02x} at column {col}); "
                    "save the file as UTF-8",
                )
            ]
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise ScenarioError([Located(name, line, "", "file contains a NUL byte; is it binary?")])
    return text


@dataclass(frozen=True)
class SourceFile:
    """One file of an `extends` chain: its name, its data and where each path was set."""

    name: str
    data: dict[str, Any]
    lines: dict[PathKey, int]


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario plus where its values came from."""

    scenario: Scenario
    sources: tuple[SourceFile, ...]  # the file itself first, then its parents

    @property
    def path(self) -> str:
        """The file that was loaded (the most derived one)."""
        return self.sources[0].name

    def locate(self, path: PathKey) -> tuple[str, int | None]:
        """File and line that set a field path (trimming it to the nearest known path)."""
        return locate(self.sources, path)

    def resolved_data(self) -> dict[str, Any]:
        """The scenario after `extends`, as plain data with every value explicit."""
        return resolved_data(self.scenario)

    def content_hash(self) -> str:
        """SHA-256 of the scenario's content, independent of key order and formatting."""
        return content_hash(self.scenario)


def resolved_data(scenario: Scenario) -> dict[str, Any]:
    """A scenario as plain data (JSON types), every value explicit."""
    return scenario.model_dump(mode="json", exclude_none=True)


def content_hash(scenario: Scenario) -> str:
    """SHA-256 of a scenario's content, independent of key order and formatting."""
    text = json.dumps(resolved_data(scenario), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def locate(sources: tuple[SourceFile, ...], path: PathKey) -> tuple[str, int | None]:
    """The file and line that set `path`: the most derived file that has it."""
    probe = tuple(path)
    while True:
        for src in sources:
            line = src.lines.get(probe)
            if line is not None:
                return src.name, line
        if not probe:
            return sources[0].name, None
        probe = probe[:-1]


def _load_chain(path: Path, chain: list[Path]) -> list[SourceFile]:
    name = str(path)
    text = read_text(path)
    try:
        data, lines, dupes = parse_yaml(text)
    except _YamlProblem as exc:
        raise ScenarioError([Located(name, exc.line, _dotted(exc.path), exc.message)]) from None
    if dupes:
        raise ScenarioError([Located(name, p.line, _dotted(p.path), p.message) for p in dupes])
    if data is None:
        raise ScenarioError(
            [
                Located(
                    name,
                    1,
                    "",
                    "file is empty; a scenario is a mapping with at least `name`, `horizon`, "
                    "`materials` and `suppliers`",
                )
            ]
        )
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a single value ({data!r})"
        raise ScenarioError(
            [Located(name, 1, "", f"the top level must be a mapping (key: value), found {kind}")]
        )
    here = SourceFile(name, data, lines)
    parent = data.get("extends")
    if parent is None:
        return [here]
    if not isinstance(parent, str) or not parent.strip():
        raise ScenarioError(
            [
                Located(
                    name,
                    lines.get(("extends",)),
                    "extends",
                    "must be the path of a parent scenario file",
                    _show(parent),
                )
            ]
        )
    parent_path = (path.parent / parent).resolve()
    names = [str(p) for p in chain]
    if parent_path in chain:
        cycle = " -> ".join([*names[names.index(str(parent_path)) :], str(parent_path)])
        raise ScenarioError(
            [Located(name, lines.get(("extends",)), "extends", f"extends cycle: {cycle}")]
        )
    if len(chain) >= MAX_EXTENDS:
        raise ScenarioError(
            [
                Located(
                    name,
                    lines.get(("extends",)),
                    "extends",
                    f"more than {MAX_EXTENDS} levels of extends",
                )
            ]
        )
    if not parent_path.is_file():
        chain_text = " -> ".join([*names, str(parent_path)])
        raise ScenarioError(
            [
                Located(
                    name,
                    lines.get(("extends",)),
                    "extends",
                    f"parent file not found: {parent} (chain: {chain_text})",
                )
            ]
        )
    return [here, *_load_chain(parent_path, [*chain, parent_path])]


def merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """Deep merge for `extends`: the child wins, `null` deletes, lists are replaced."""
    out = dict(parent)
    for key, value in child.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def load_scenario(path: str | Path) -> LoadedScenario:
    """Load, merge (`extends`) and validate a scenario file.

    Raises `ScenarioError` with every problem found, each naming file, line
    and field path.
    """
    path = Path(path)
    sources = tuple(_load_chain(path, [path.resolve()]))
    data = sources[-1].data
    for src in reversed(sources[:-1]):
        data = merge(data, src.data)
    data = {k: v for k, v in data.items() if k != "extends"}
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_locate_errors(exc, data, sources)) from None
    return LoadedScenario(scenario, sources)


# --- turning pydantic errors into file:line: path: message (got X) -------------------


def _dotted(path: PathKey) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


_MISSING = object()
_TYPE_NAMES = {"float", "int", "str", "bool", "list", "dict", "date", "none"}


def _is_union_tag(part: str) -> bool:
    """Pydantic adds the union member to `loc` (`constrained-float`, `list[...]`)."""
    return "[" in part or "-" in part or part in _TYPE_NAMES


def _clean_loc(
    loc: tuple[Any, ...], data: Any
) -> tuple[PathKey, Any, tuple[str | None, Any], bool]:
    """Strip pydantic's union tags from `loc` by walking the data.

    Returns (path, value at path, (union tag or None, value at the union), is_key_error).
    """
    node: Any = data
    path: list[str | int] = []
    tag = None
    tagged: Any = None
    key_error = False
    for part in loc:
        if part == "[key]":
            key_error = True
            continue
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif isinstance(part, str) and _is_union_tag(part):
            if tag is None:
                tag, tagged = part, node
        else:
            path.append(part)
            node = _MISSING
    if key_error and path:
        node = path[-1]
    return tuple(path), node, (tag, tagged), key_error


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


def _number_hint(value: Any) -> str:
    if isinstance(value, bool):
        return "must be a number, not true/false"
    if value is None:
        return "is empty (null); give a value or remove the key"
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%"):
            try:
                pct = float(text[:-1])
            except ValueError:
                return "must be a number"
            return f"must be a number; write fractions as {pct / 100:g}, not {text}"
        try:
            float(text.replace("_", ""))
        except ValueError:
            return "must be a number"
        return "must be a number, not text; remove the quotes"
    if isinstance(value, (dict, list)):
        return "must be a number"
    return "must be a number"


def _message(err: dict[str, Any], path: PathKey, value: Any, key_error: bool) -> str:  # noqa: C901
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if key_error and kind == "string_pattern_mismatch":
        return "ids may contain only letters, digits, '-' and '_'"
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        model = _model_at(path[:-1])
        allowed = sorted(model.model_fields) if model else []
        close = difflib.get_close_matches(str(path[-1]), allowed, n=1)
        if close:
            return f"unknown key; did you mean {close[0]!r}?"
        return "unknown key" + (f"; allowed: {', '.join(allowed)}" if allowed else "")
    if kind in ("float_type", "int_type", "float_parsing", "int_parsing"):
        hint = _number_hint(value)
        if kind.startswith("int") and hint == "must be a number":
            return "must be a whole number"
        return hint.replace("a number", "a whole number") if kind.startswith("int") else hint
    if kind in ("int_from_float",):
        return "must be a whole number"
    if kind == "finite_number":
        return "must be a finite number (NaN and infinity are not allowed)"
    if kind == "less_than_equal":
        le = ctx.get("le")
        if le == 1 and isinstance(value, (int, float)) and 1 < value <= 100:
            return (
                f"must be a fraction between 0 and 1; did you mean {value / 100:g} "
                f"for {_show(value)}%?"
            )
        if le == 10 and isinstance(value, (int, float)) and 10 < value <= 1000:
            return f"must be at most 10 (a rate: 0.25 = 25%); did you mean {value / 100:g}?"
        return f"must be <= {_show(le)}"
    if kind == "greater_than_equal":
        return f"must be >= {_show(ctx.get('ge'))}"
    if kind == "greater_than":
        return f"must be > {_show(ctx.get('gt'))}"
    if kind == "less_than":
        return f"must be < {_show(ctx.get('lt'))}"
    if kind == "string_pattern_mismatch":
        return "may contain only letters, digits, '-' and '_'"
    if kind == "string_type":
        if isinstance(value, bool):
            return "must be text; quote it"
        return "must be text"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '')}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        if value is None:
            return "is empty (null); give a mapping or remove the key"
        return "must be a mapping (key: value)"
    if kind == "list_type":
        return "must be a list"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length', 1)} entries"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} entries"
    if kind == "bool_type":
        return "must be true or false"
    if kind.startswith("date"):
        return "must be a date written YYYY-MM-DD"
    return str(err.get("msg", kind))


def _pydantic_problems(
    exc: ValidationError, data: dict[str, Any]
) -> Iterator[tuple[PathKey, str, str | None]]:
    for err in exc.errors(include_url=False):
        error = (err.get("ctx") or {}).get("error")
        if isinstance(error, ReferenceErrors):
            for p in error.problems:
                yield p.path, p.message, None if p.got is None else _show(p.got)
            continue
        path, value, (tag, tagged), key_error = _clean_loc(tuple(err["loc"]), data)
        if tag is not None and not key_error:
            # A union of number and list: keep only the branch the input took.
            if isinstance(tagged, list) != tag.startswith("list["):
                continue
        message = _message(err, path, value, key_error)
        got = None if err["type"] in ("missing", "extra_forbidden") else _show(value)
        if key_error:
            got = _show(value)
        yield path, message, got


def _locate_errors(
    exc: ValidationError, data: dict[str, Any], sources: tuple[SourceFile, ...]
) -> list[Located]:
    seen: set[tuple[PathKey, str]] = set()
    out: list[Located] = []
    for path, message, got in _pydantic_problems(exc, data):
        if (path, message) in seen:
            continue
        seen.add((path, message))
        file, line = locate(sources, path)
        out.append(Located(file, line, _dotted(path), message, got))
    order = {src.name: i for i, src in enumerate(reversed(sources))}
    out.sort(key=lambda p: (order.get(p.file, 0), p.line or 0))
    return out
