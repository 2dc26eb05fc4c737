"""Safe YAML with line numbers: the scenario file's dialect and reader.

The reader works on parser events (libyaml when present) and builds plain
Python data itself, so that it can:

- resolve scalars as YAML 1.2 does (only `true`/`false` are booleans: the
  country code `NO` stays "NO"; `012` and `1:30` stay text; `1e3` is 1000.0);
- refuse duplicate keys (naming both lines), anchors and aliases (no alias
  bombs), tags other than the standard ones (nothing is ever executed), more
  than one document and nesting deeper than `MAX_DEPTH`;
- stop at its caps while parsing (list items, keys, values, digits), so a
  hostile file is refused in a bounded time and memory;
- remember the line of every key and list item, so that a validation error
  on `suppliers.x.offers.m.capacity` can name the file and line that set it.

Files larger than `MAX_FILE_BYTES` are refused before they are parsed.

Longer than 400 lines because the reader is one state machine over parser events
(scalars, mappings, lists, line numbers and the caps are checked together);
splitting it would split that state.
"""

from __future__ import annotations

import codecs
import math
import re
from array import array
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn

import yaml

from optimizer.io.regular_file import FileRefused, TooLarge, read_regular
from optimizer.io.where import PathKey, fail_at

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
        fail_at(name, None, _too_large(exc.size))
    except FileRefused as exc:
        fail_at(name, None, f"cannot read: {exc}")


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
        fail_at(
            name,
            line,
            f"not valid {'UTF-8' if encoding == 'utf-8-sig' else encoding.upper()} text "
            f"(byte 0x{raw[exc.start]:02x} at column {col}); save the file as UTF-8",
        )
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        fail_at(
            name,
            line,
            "file contains a NUL byte; is it binary, or UTF-16 without a byte-order mark? "
            "Save it as UTF-8",
        )
    return text


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
        self.lines: Any
        if self.is_map:
            self.lines = lines.maps.setdefault(path, {})
        else:
            seq: array[int] = array("i")
            lines.seqs[path] = seq
            self.lines = seq

_CACHE_SIZE = 100_000  # distinct plain scalars whose value is remembered


class ModelBuilder:
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
            top.obj[top.key] = value  # type: ignore[call-overload,index]
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
            obj[key] = value  # type: ignore[call-overload,index]
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
    builder = ModelBuilder()
    loader = _Parser(text)
    try:
        data = builder.run(loader)
    except yaml.YAMLError as exc:
        raise _syntax_problem(exc, text) from None
    except UnicodeError as exc:
        raise _YamlProblem(None, f"text cannot be read: {getattr(exc, 'reason', exc)}") from None
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
