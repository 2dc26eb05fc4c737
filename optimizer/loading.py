"""Scenario file -> `Scenario`: safe YAML, `extends`, errors that point at the line.

The YAML reader works on parser events (libyaml when present) and builds plain
Python data itself, so that it can:

- resolve scalars as YAML 1.2 does (only `true`/`false` are booleans: the
  country code `NO` stays "NO"; `012` and `1:30` stay text; `1e3` is 1000.0);
- refuse duplicate keys (naming both lines), anchors and aliases (no alias
  bombs), tags other than the standard ones (nothing is ever executed), more
  than one document and nesting deeper than `MAX_DEPTH`;
- stop at the first list longer than `MAX_LIST_ITEMS` (`MAX_PERIODS` for a
  per-period field), mapping with more than `MAX_KEYS` keys, number longer
  than `MAX_NUMBER_CHARS` characters, or file with more than `MAX_VALUES`
  values, while it parses (bounded time and memory);
- remember the line of every key and list item, so that a validation error
  on `suppliers.x.offers.m.capacity` can name the file and line that set it,
  also through a chain of `extends`.

Files larger than `MAX_FILE_BYTES` are refused before they are parsed.
"""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import difflib
import errno
import gc
import hashlib
import json
import math
import os
import re
import types
import typing
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import yaml
from pydantic import BaseModel, ValidationError

from optimizer.errors import Located, ScenarioError
from optimizer.regular_file import FileRefused, TooLarge, kind_problem, os_reason, read_regular
from optimizer.scenario import ReferenceErrors, Scenario, per_period, scenario_warnings

MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_DEPTH = 50
MAX_EXTENDS = 20
# Caps checked while parsing, so that a hostile file within the size cap is refused
# after a bounded amount of work and memory (issue 13: a 16-million-item list took
# 196 s and 4.4 GB before it was refused). Each is far above what a scenario needs:
# per-period lists have at most 1,000 items (horizon.periods), a large scenario
# 50,000 suppliers (about 900,000 values).
MAX_LIST_ITEMS = 10_000
# Per-period lists have one item per period, and horizon.periods is at most 1,000.
MAX_PERIODS = 1000
PER_PERIOD_KEYS = frozenset(
    ("demand", "inbound", "price", "capacity", "reservation_fee", "exercise_price")
)
MAX_KEYS = 100_000  # keys of one mapping (suppliers, materials, ...)
MAX_VALUES = 2_000_000  # keys, values and list items in one file
MAX_NUMBER_CHARS = 100  # characters of a number (no field takes a 5,000-digit integer)

PathKey = tuple[str | int, ...]

_Parser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STD = "tag:yaml.org,2002:"


class _Resolver(yaml.resolver.BaseResolver):
    """YAML 1.2 core-schema scalars, a little stricter: no octal, no sexagesimal."""


_BOOL_RE = r"^(?:true|True|TRUE|false|False|FALSE)$"
_NULL_RE = r"^(?:~|null|Null|NULL|)$"
_INT_RE = r"^[-+]?(?:0|[1-9][0-9]*(?:_[0-9]+)*)$"
_FLOAT_RE = (
    r"^[-+]?(?:(?:[0-9]+(?:_[0-9]+)*)?\.[0-9]+(?:_[0-9]+)*(?:[eE][-+]?[0-9]+)?"
    r"|[0-9]+(?:_[0-9]+)*\.(?:[eE][-+]?[0-9]+)?"
    r"|[0-9]+(?:_[0-9]+)*[eE][-+]?[0-9]+"
    r"|\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)

_Resolver.yaml_implicit_resolvers = {}
for _tag, _regex, _first in (
    ("bool", _BOOL_RE, "tTfF"),
    ("null", _NULL_RE, ["~", "n", "N", ""]),
    ("int", _INT_RE, "-+0123456789"),
    ("float", _FLOAT_RE, "-+0123456789."),
):
    _Resolver.add_implicit_resolver(f"{_STD}{_tag}", re.compile(_regex), list(_first))

_RESOLVER = _Resolver()
_YAML11 = yaml.resolver.Resolver()


# --- writing YAML that reads back the same ------------------------------------------


class ScenarioDumper(yaml.SafeDumper):
    """A dumper whose plain scalars read back as the same value here and in YAML 1.1.

    Text that this loader or a YAML 1.1 reader would take for something else
    (`NO`, `012`, `1e3`, `true`) is quoted; shared objects are written out
    again instead of as anchors and aliases, which the loader refuses.
    """

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        """Tag a plain scalar would get; text that any reader would retag is quoted."""
        ours = _RESOLVER.resolve(kind, value, implicit)
        if kind is yaml.ScalarNode and implicit[0] and ours == _STD + "str":
            return _YAML11.resolve(kind, value, implicit)
        return ours

    def ignore_aliases(self, data: Any) -> bool:
        """Never write anchors: the loader refuses them."""
        return True


def dump_yaml(data: Any) -> str:
    """YAML text that this module's loader reads back as the same data."""
    return yaml.dump(data, Dumper=ScenarioDumper, sort_keys=False, allow_unicode=True, width=100)


# --- reading bytes ------------------------------------------------------------------


def _fail(
    name: str, line: int | None, message: str, path: str = "", got: str | None = None
) -> NoReturn:
    """Raise a `ScenarioError` with one problem."""
    raise ScenarioError([Located(name, line, path, message, got)])


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _read_bytes(path: Path) -> bytes:
    name = str(path)
    try:
        return read_regular(path, MAX_FILE_BYTES)
    except TooLarge as exc:
        _fail(name, None, _too_large(exc.size))
    except FileRefused as exc:
        _fail(name, None, f"cannot read: {exc}")


def _too_large(size: int) -> str:
    return (
        f"file is too large ({size:,} bytes; the limit is {MAX_FILE_BYTES:,}); "
        "is it really a scenario?"
    )


def read_text(path: Path) -> str:
    """Read a scenario file as text: size cap, BOMs, UTF-8 with a line for bad bytes."""
    name = str(path)
    raw = _read_bytes(Path(path))
    encoding = next((enc for bom, enc in _BOMS if raw.startswith(bom)), "utf-8-sig")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode(encoding, errors="replace")
        line = before.count("\n") + 1
        col = len(before) - (before.rfind("\n") + 1) + 1
        _fail(
            name,
            line,
            f"not valid {'UTF-8' if encoding == 'utf-8-sig' else encoding.upper()} text "
            f"(byte 0x{raw[exc.start]:02x} at column {col}); save the file as UTF-8",
        )
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        _fail(
            name,
            line,
            "file contains a NUL byte; is it binary, or UTF-16 without a byte-order mark? "
            "Save it as UTF-8",
        )
    return text


# --- parsing YAML into data and lines -----------------------------------------------


class _YamlProblem(Exception):
    def __init__(self, line: int | None, message: str, path: PathKey = ()) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.path = path


_NEVER_EXECUTED = "a scenario holds plain values only, and input is never executed"


def _plain(value: str) -> Any:
    """The value of an untagged, unquoted scalar, by YAML 1.2 core-schema rules."""
    tag = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))
    if tag == _STD + "str":
        return value
    return _typed(tag, value)


def _typed(tag: str, value: str) -> Any:
    """`value` read as the standard type `tag`; `_MISS` if it is not one."""
    if tag == _STD + "str":
        return value
    if len(value) > MAX_NUMBER_CHARS and tag in (_STD + "int", _STD + "float"):
        raise _YamlProblem(
            None,
            f"a number of {len(value):,} characters; no field takes more than "
            f"{MAX_NUMBER_CHARS} (the largest allowed value is 1e12)",
        )
    if tag == _STD + "null" and re.fullmatch(_NULL_RE, value):
        return None
    if tag == _STD + "bool" and re.fullmatch(_BOOL_RE, value):
        return value.lower() == "true"
    if tag == _STD + "int" and re.fullmatch(_INT_RE, value):
        return int(value.replace("_", ""))
    if tag == _STD + "float" and (re.fullmatch(_FLOAT_RE, value) or re.fullmatch(_INT_RE, value)):
        low = value.lower().lstrip("+")
        if low in (".inf", "-.inf"):
            return -math.inf if low.startswith("-") else math.inf
        if low == ".nan":
            return math.nan
        return float(value.replace("_", ""))
    return _MISS


_MISS = object()


def _tagged(event: yaml.ScalarEvent) -> Any:
    """The value of a scalar with an explicit tag (`!!str 5`); other tags are refused."""
    if event.tag == "!":
        return event.value
    value = _typed(event.tag, event.value)
    if value is _MISS:
        raise _YamlProblem(
            event.start_mark.line + 1,
            f"tag {event.tag!r} on {event.value!r} is not allowed: {_NEVER_EXECUTED}",
        )
    return value


class Lines(Mapping[PathKey, int]):
    """The line of every key and list item, by field path, stored compactly.

    One small dict of key lines per mapping and one array of item lines per
    list, instead of a tuple and a dict entry per value: a file at the values
    cap stays within a few hundred megabytes.
    """

    def __init__(self) -> None:
        self.maps: dict[PathKey, dict[str, int]] = {}
        self.seqs: dict[PathKey, array[int]] = {}

    def __getitem__(self, path: PathKey) -> int:
        if not path:
            return 1
        parent, last = path[:-1], path[-1]
        if isinstance(last, int):
            items = self.seqs.get(parent)
            if items is not None and 0 <= last < len(items):
                return items[last]
        else:
            keys = self.maps.get(parent)
            if keys is not None and last in keys:
                return keys[last]
        raise KeyError(path)

    def __contains__(self, path: object) -> bool:
        try:
            self[path]  # type: ignore[index]
        except (KeyError, TypeError, IndexError):
            return False
        return True

    def __iter__(self) -> Iterator[PathKey]:
        yield ()
        for parent, keys in self.maps.items():
            for key in keys:
                yield (*parent, key)
        for parent, items in self.seqs.items():
            for i in range(len(items)):
                yield (*parent, i)

    def __len__(self) -> int:
        return 1 + sum(map(len, self.maps.values())) + sum(map(len, self.seqs.values()))


class _Frame:
    """An open mapping or list while parsing."""

    __slots__ = ("is_map", "key", "limit", "lines", "obj", "path")

    def __init__(self, obj: dict[str, Any] | list[Any], path: PathKey, lines: Lines) -> None:
        self.obj = obj
        self.path = path
        self.is_map = isinstance(obj, dict)
        per_period = bool(path) and path[-1] in PER_PERIOD_KEYS
        self.limit = MAX_PERIODS if per_period else MAX_LIST_ITEMS  # items of a list
        self.key: str | None = None  # pending mapping key
        # line of each key (mapping) or item (list)
        self.lines: Any = lines.maps.setdefault(path, {}) if self.is_map else array("i")
        if not self.is_map:
            lines.seqs[path] = self.lines


_CACHE_SIZE = 100_000  # distinct plain scalars whose value is remembered


class _Builder:
    """Builds plain data from parser events, with the line of every key and list item."""

    def __init__(self) -> None:
        self.lines = Lines()
        self.problems: list[_YamlProblem] = []
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.documents = 0
        self.cache: dict[str, Any] = {}
        self.count = 0  # keys, values and list items so far (MAX_VALUES)

    def run(self, loader: Any) -> Any:
        """Consume every event of `loader`; return the document's data."""
        get_event = loader.get_event
        scalar_cls, map_cls = yaml.ScalarEvent, yaml.MappingStartEvent
        seq_cls = yaml.SequenceStartEvent
        ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
        stack = self.stack
        while True:
            event = get_event()
            cls = event.__class__
            if cls is scalar_cls:
                self.scalar(event)
            elif cls in ends:
                stack.pop()
            elif cls is map_cls or cls is seq_cls:
                self.container(event, {} if cls is map_cls else [])
            elif cls is yaml.StreamEndEvent:
                return self.root
            else:
                self.other(event)

    def other(self, event: Any) -> None:
        """Document starts, aliases and the events that need no action."""
        if isinstance(event, yaml.AliasEvent):
            self.no_anchors(event)
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise _YamlProblem(
                    event.start_mark.line + 1,
                    "a second YAML document starts here (`---`); a scenario file holds one",
                )

    @staticmethod
    def no_anchors(event: Any) -> None:
        raise _YamlProblem(
            event.start_mark.line + 1,
            "anchors and aliases (& and *) are not allowed; use `extends` to share values "
            "between files",
        )

    def scalar(self, event: yaml.ScalarEvent) -> None:
        """A key, a mapping value or a list item (the hot path: kept flat on purpose)."""
        if event.anchor is not None:
            self.no_anchors(event)
        self.count += 1
        if self.count > MAX_VALUES:
            self.too_many(event)
        top = self.stack[-1] if self.stack else None
        if top is not None and top.is_map and top.key is None:
            self.key(top, event)
            return
        text = event.value
        if event.tag is not None:
            value = self.located(_tagged, event)
        elif not event.implicit[0]:  # quoted: text
            value = text
        else:
            value = self.cache.get(text, _MISS)
            if value is _MISS:
                value = self.located(_plain, text, event)
                if len(self.cache) < _CACHE_SIZE:
                    self.cache[text] = value
        if top is None:
            self.root = value
        elif top.is_map:
            top.obj[top.key] = value  # type: ignore[index]
            top.key = None
        else:
            if len(top.obj) >= top.limit:
                self.too_long(event)
            top.lines.append(event.start_mark.line + 1)
            top.obj.append(value)  # type: ignore[union-attr]

    @staticmethod
    def located(fn: Any, arg: Any, event: Any = None) -> Any:
        """`fn(arg)`, its problems placed at the line of `event` (default: `arg`)."""
        try:
            return fn(arg)
        except _YamlProblem as exc:
            if exc.line is None:
                exc.line = (event or arg).start_mark.line + 1
            raise

    def too_many(self, event: Any) -> NoReturn:
        raise _YamlProblem(
            event.start_mark.line + 1,
            f"more than {MAX_VALUES:,} values in one file; stopped reading here (a scenario "
            "with 50,000 suppliers has about 1,100,000)",
        )

    def too_long(self, event: Any) -> NoReturn:
        top = self.stack[-1]
        if top.limit == MAX_PERIODS:
            why = f"one item per period, and a horizon has at most {MAX_PERIODS:,} periods"
        else:
            why = f"no field takes that many; per-period lists have at most {MAX_PERIODS:,}"
        raise _YamlProblem(
            event.start_mark.line + 1,
            f"a list of more than {top.limit:,} items; stopped reading here ({why})",
            top.path,
        )

    def key(self, top: _Frame, event: yaml.ScalarEvent) -> None:
        """A mapping key: kept as written (`NO`, `2024`), since keys are names."""
        key = event.value
        line = event.start_mark.line + 1
        if event.tag not in (None, "!", _STD + "str"):
            raise _YamlProblem(
                line, f"tag {event.tag!r} on a key is not allowed: {_NEVER_EXECUTED}"
            )
        if key in top.obj:
            self.problems.append(
                _YamlProblem(
                    line,
                    f"duplicate key {key!r} (first on line {top.lines[key]})",
                    (*top.path, key),
                )
            )
        elif len(top.obj) >= MAX_KEYS:
            raise _YamlProblem(
                line, f"a mapping of more than {MAX_KEYS:,} keys; stopped reading here", top.path
            )
        else:
            top.lines[key] = line
        top.key = key

    def container(self, event: Any, value: dict[str, Any] | list[Any]) -> None:
        line = event.start_mark.line + 1
        if event.anchor is not None:
            self.no_anchors(event)
        if event.tag not in (None, "!", _STD + "map", _STD + "seq"):
            raise _YamlProblem(line, f"tag {event.tag!r} is not allowed: {_NEVER_EXECUTED}")
        if len(self.stack) >= MAX_DEPTH:
            raise _YamlProblem(line, f"nesting deeper than {MAX_DEPTH} levels")
        if self.stack and self.stack[-1].is_map and self.stack[-1].key is None:
            raise _YamlProblem(line, "keys must be plain text, not a list or mapping")
        self.count += 1
        if self.count > MAX_VALUES:
            self.too_many(event)
        path = self.attach(value, event)
        self.stack.append(_Frame(value, path, self.lines))

    def attach(self, value: Any, event: Any) -> PathKey:
        """Put `value` into the open container (or make it the root); return its path."""
        if not self.stack:
            self.root = value
            return ()
        top = self.stack[-1]
        obj = top.obj
        if top.is_map:
            key = top.key
            obj[key] = value  # type: ignore[index]
            top.key = None
            return (*top.path, key)  # type: ignore[arg-type]
        if len(obj) >= top.limit:
            self.too_long(event)
        path = (*top.path, len(obj))
        top.lines.append(event.start_mark.line + 1)
        obj.append(value)  # type: ignore[union-attr]
        return path


def parse_yaml(text: str) -> tuple[Any, Lines, list[_YamlProblem]]:
    """Parse one YAML document into plain data and a map from field path to line.

    Returns (data, lines, problems); problems are non-fatal findings (duplicate
    keys). Fatal ones raise `_YamlProblem`.
    """
    builder = _Builder()
    loader = _Parser(text)
    try:
        data = builder.run(loader)
    except yaml.YAMLError as exc:
        raise _syntax_problem(exc, text) from None
    except UnicodeError as exc:
        raise _YamlProblem(None, f"text cannot be read: {exc.reason}") from None
    finally:
        loader.dispose()
    return data, builder.lines, builder.problems


_SYNTAX_HINTS = (
    (
        "found character that cannot start any token",
        "a tab or a stray character? indent with spaces",
    ),
    (
        "mapping values are not allowed",
        "is the indentation right, or is there a `:` in text that should be quoted?",
    ),
)


def _char_at(text: str, line: int, column: int) -> str:
    """The character at a 0-based line and column of `text` ('' if there is none)."""
    start = 0
    for _ in range(line):
        start = text.find("\n", start) + 1
        if start == 0:
            return ""
    return text[start + column : start + column + 1]


def _syntax_problem(exc: yaml.YAMLError, text: str) -> _YamlProblem:
    """A YAML syntax error as a problem with a line (and a hint where one helps)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    position = getattr(exc, "position", None)
    if line is None and isinstance(position, int):  # a ReaderError: bad character
        line = text.count("\n", 0, position) + 1
    problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or str(exc)
    problem = str(problem).splitlines()[0]
    if mark is not None:
        problem += f" at column {mark.column + 1}"
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    if context and context_mark is not None and mark and context_mark.line != mark.line:
        problem += f" ({context} that started on line {context_mark.line + 1})"
    elif context:
        problem += f" ({context})"
    hint = next((h for key, h in _SYNTAX_HINTS if key in str(exc)), None)
    if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
        hint = "a tab: YAML indentation must be spaces"
    return _YamlProblem(line, f"invalid YAML: {problem}" + (f"; {hint}" if hint else ""))


# --- files, `extends` and merging ----------------------------------------------------


@dataclass(frozen=True)
class SourceFile:
    """One file of an `extends` chain: its name, its data and where each path was set."""

    name: str
    data: dict[str, Any]
    lines: Mapping[PathKey, int]
    path: Path | None = None  # resolved


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario plus where its values came from."""

    scenario: Scenario
    sources: tuple[SourceFile, ...]  # the file itself first, then its parents
    warnings: tuple[Located, ...] = ()  # valid but probably not meant (e.g. tariff 3.2)

    @property
    def path(self) -> str:
        """The file that was loaded (the most derived one)."""
        return self.sources[0].name

    def locate(self, path: PathKey) -> tuple[str, int | None]:
        """File and line that set a field path (trimming it to the nearest known path)."""
        return locate(self.sources, path)

    @property
    def input_files(self) -> list[Path]:
        """Every file read: the scenario and its `extends` chain, symbolic links resolved."""
        return [src.path for src in self.sources if src.path is not None]

    def resolved_data(self) -> dict[str, Any]:
        """The scenario after `extends`, as plain data with every value explicit."""
        return resolved_data(self.scenario)

    def content_hash(self) -> str:
        """SHA-256 of the scenario's content, independent of key order and formatting."""
        return content_hash(self.scenario)


def resolved_data(scenario: Scenario) -> dict[str, Any]:
    """A scenario as plain data (JSON types), every value explicit: defaults that come
    from elsewhere in the file (a supplier's risk and tariff from its country, the
    penalties from the shortage cost, the end stock from the safety stock) are written
    out as the model uses them."""
    data = scenario.model_dump(mode="json", exclude_none=True)
    for sid, sup in data["suppliers"].items():
        sup["risk"] = scenario.supplier_risk(sid)
        sup["tariff"] = scenario.supplier_tariff(sid)
    periods, days = scenario.horizon.periods, scenario.horizon.period_days
    for mid, mat in data["materials"].items():
        m = scenario.materials[mid]
        mat["safety_stock_penalty"] = m.penalty_below_safety_stock
        mat["end_stock_penalty"] = m.penalty_below_end_stock
        if m.safety_stock_days is None:
            mat["safety_stock"] = float(m.safety_stock or 0.0)
        if m.end_stock is None:
            if m.safety_stock_days is not None:
                last = per_period(m.demand, periods)[-1]
                mat["end_stock"] = m.safety_stock_days * last / days
            else:
                mat["end_stock"] = float(m.safety_stock or 0.0)
    return data


def content_hash(scenario: Scenario) -> str:
    """SHA-256 of a scenario's content, independent of key order and formatting."""
    text = json.dumps(resolved_data(scenario), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


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
        raise ScenarioError([Located(name, exc.line, _dotted(exc.path), exc.message)]) from None
    if dupes:
        raise ScenarioError([Located(name, p.line, _dotted(p.path), p.message) for p in dupes])
    if data is None:
        _fail(
            name,
            1,
            "file is empty; a scenario is a mapping with at least `name`, `horizon`, "
            "`materials` and `suppliers`",
        )
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a single value ({_show(data)})"
        _fail(name, 1, f"the top level must be a mapping (key: value), found {kind}")
    return SourceFile(name, data, lines, _resolved(path))


def _parent_of(here: SourceFile, path: Path, chain: list[tuple[Path, str]]) -> tuple[Path, str]:
    """Resolved path and display name of the file `here` extends; errors name the chain."""
    parent = here.data["extends"]
    line = here.lines.get(("extends",))
    if not isinstance(parent, str) or not parent.strip():
        message = "must be the path of a parent scenario file"
        _fail(here.name, line, message, "extends", _show(parent))
    shown = os.path.normpath(os.path.join(os.path.dirname(here.name), parent))
    try:
        resolved = (path.parent / parent).resolve()
        resolved.stat()
    except FileNotFoundError:
        pass  # reported below, with the chain
    except RuntimeError:  # Path.resolve on a symbolic link loop (Python < 3.13)
        reason = os_reason(OSError(errno.ELOOP, "loop"))
        _fail(here.name, line, f"parent file cannot be read: {reason}", "extends", _show(parent))
    except (OSError, ValueError) as exc:  # name too long, NUL byte, permission, loop
        reason = os_reason(exc) if isinstance(exc, OSError) else str(exc)
        _fail(here.name, line, f"parent file cannot be read: {reason}", "extends", _show(parent))
    names = [n for _, n in chain]
    resolved_chain = [p for p, _ in chain]
    if resolved in resolved_chain:
        cycle = " -> ".join([*names[resolved_chain.index(resolved) :], shown])
        _fail(here.name, line, f"extends cycle: {cycle}", "extends", _show(parent))
    if len(chain) > MAX_EXTENDS:
        _fail(here.name, line, f"more than {MAX_EXTENDS} levels of extends", "extends")
    if not resolved.is_file():
        if resolved.is_dir():
            reason = "is a directory"
        elif resolved.exists():  # a FIFO, a device, a socket: never opened
            reason = f"cannot be read ({kind_problem(resolved.stat().st_mode)})"
        else:
            reason = "not found"
        _fail(
            here.name,
            line,
            f"parent file {reason}: {shown} (chain: {' -> '.join([*names, shown])})",
            "extends",
            _show(parent),
        )
    return resolved, shown


def _load_chain(path: Path, name: str, chain: list[tuple[Path, str]]) -> list[SourceFile]:
    here = _parse_file(path, name)
    if here.data.get("extends") is None:
        return [here]
    parent, shown = _parent_of(here, path, chain)
    try:
        return [here, *_load_chain(parent, shown, [*chain, (parent, shown)])]
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


def _resolved(path: Path) -> Path:
    """`path` with symbolic links resolved; as given when they loop (reading then says so)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return path.absolute()


def input_files(path: str | Path) -> list[Path]:
    """The files a scenario reads (itself and its `extends` chain); [path] if it cannot load."""
    try:
        return load_scenario(path).input_files
    except ScenarioError:
        return [Path(path)]


def load_scenario(path: str | Path) -> LoadedScenario:
    """Load, merge (`extends`) and validate a scenario file.

    Raises `ScenarioError` with every problem found, each naming file, line
    and field path.
    """
    path = Path(path)
    with _gc_paused():
        sources = tuple(_load_chain(path, str(path), [(_resolved(path), str(path))]))
        data = sources[-1].data
        for src in reversed(sources[:-1]):
            data = merge(data, src.data)
        # A variant describes itself: title and description are not inherited (DESIGN §3).
        data = {k: v for k, v in data.items() if k not in NOT_INHERITED}
        data.update({k: v for k, v in sources[0].data.items() if k in NOT_INHERITED[1:]})
        try:
            scenario = Scenario.model_validate(data)
        except ValidationError as exc:
            raise ScenarioError(_locate_errors(exc, data, sources)) from None
    warnings = []
    for problem in scenario_warnings(scenario):
        file, line = locate(sources, problem.path)
        warnings.append(Located(file, line, _dotted(problem.path), problem.message))
    return LoadedScenario(scenario, sources, tuple(warnings))


NOT_INHERITED = ("extends", "title", "description")  # keys a file does not pass to its variants


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a file is turned into objects.

    Why: building millions of small, acyclic objects triggers a full collection
    again and again; pausing it halves the time to load 50,000 suppliers.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# --- turning pydantic errors into file:line: path: message (got X) -------------------


def _dotted(path: PathKey) -> str:
    """`suppliers.cn.offers.m.price`, with list indices as `[2]`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _show(value: Any) -> str:
    """A value as the user would write it, shortened."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, float) and not math.isfinite(value):
        return {math.inf: ".inf", -math.inf: "-.inf"}.get(value, ".nan")
    if isinstance(value, dict):
        text = "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
        return text if len(text) <= 60 else f"a mapping of {len(value)} keys"
    if isinstance(value, list):
        text = "[" + ", ".join(_show(v) for v in value) + "]"
        return text if len(text) <= 60 else f"a list of {len(value)}"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


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
            hint = f"; did you mean {value / 100:g} for {_show(value)}%?"
        return f"must be a fraction between 0 and 1 (0.25 means 25%){hint}"
    if le == 10 and number and 10 < value <= 1000:
        return f"must be at most 10 (a rate: 0.25 means 25%); did you mean {value / 100:g}?"
    if isinstance(le, (int, float)) and le >= 1e6:
        return f"must be at most {le:g}: larger numbers are beyond the solvers' precision"
    return f"must be <= {_show(le)}"


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
        return f"must be text; write it in quotes: '{_show(value)}'"
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
    "greater_than_equal": lambda ctx, v: f"must be >= {_show(ctx.get('ge'))}",
    "greater_than": lambda ctx, v: f"must be > {_show(ctx.get('gt'))}",
    "less_than": lambda ctx, v: f"must be < {_show(ctx.get('lt'))}",
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


def _message(err: dict[str, Any], where: _Where) -> str:
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


def _reference_problems(err: dict[str, Any]) -> list[_Found] | None:
    error = (err.get("ctx") or {}).get("error")
    if not isinstance(error, ReferenceErrors):
        return None
    return [(p.path, p.message, None if p.got is None else _show(p.got)) for p in error.problems]


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
        yield where.path, message, None if quiet else _show(where.value)


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
