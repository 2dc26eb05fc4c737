"""Helpers for the loader tests (and a check of the helpers themselves).

They write scenario text, find lines and run `sourcing validate`.

Expected lines are known by construction: a test marks the line it breaks
with a `# <-` comment (or names a unique fragment of it) and `line_of` finds it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.common.errors import Located, ScenarioError
from optimizer.io.load import LoadedScenario, load_scenario
from tests.conftest import run_cli

MINIMAL = """\
name: t
horizon: {periods: 2}
materials:
  m: {demand: 10, shortage_cost: 1000}
suppliers:
  s:
    country: CN
    offers:
      m: {price: 5, capacity: 20}
"""



def write(tmp_path: Path, text: str | bytes, name: str = "s.yaml") -> Path:
    """Write a scenario file (text as UTF-8, bytes as they are) and return its path."""
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, fragment: str = "# <-") -> int:
    """1-based number of the one line of `text` that contains `fragment`."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if fragment in line]
    assert len(hits) == 1, f"{fragment!r} is on lines {hits}"
    return hits[0]


def load(path: Path) -> LoadedScenario:
    return load_scenario(path)


def problems(path: Path) -> list[Located]:
    """Every problem the loader reports for `path` (it must report some)."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.problems, "a ScenarioError without problems"
    return info.value.problems


def validate(*paths: Path) -> tuple[int, str, str]:
    """Run `sourcing validate` in-process: (exit code, stdout, stderr)."""
    res = run_cli(["validate", *map(str, paths)])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    return res.exit_code, res.stdout, res.stderr


def assert_rejected(
    path: Path, line: int | None, field: str, *fragments: str, file: Path | None = None
) -> str:
    """`sourcing validate path` exits 2 and reports `FILE:LINE: field: ...` with fragments.

    `file` is the file the problem is in (default `path`); returns the matching line.
    """
    code, out, err = validate(path)
    assert code == 2, (code, out, err)
    assert "Traceback" not in err
    where = f"{file or path}:{line}" if line is not None else f"{file or path}"
    head = f"{where}: {field}: " if field else f"{where}: "
    hits = [m for m in err.splitlines() if m.startswith(head)]
    assert hits, f"no line starting with {head!r} in:\n{err}"
    for frag in fragments:
        assert any(frag in m for m in hits), f"{frag!r} not in {hits}"
    return hits[0]


def test_minimal_scenario_is_valid(tmp_path: Path) -> None:
    """The base text every other loader test breaks on purpose."""
    code, out, err = validate(write(tmp_path, MINIMAL))
    assert (code, err) == (0, "")
    assert out.startswith("OK ")


def test_line_of_finds_the_marked_line() -> None:
    assert line_of("a: 1\nb: 2  # <-\nc: 3\n") == 2
    assert line_of(MINIMAL, "capacity") == 9
