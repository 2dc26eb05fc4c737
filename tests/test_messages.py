"""Messages that echo input show control, bidi and zero-width characters escaped (issue 13).

Right-to-left overrides, zero-width characters and ANSI escapes from a file
were echoed raw into messages: a terminal then shows something else than the
file holds (a fake prompt, a name that reads backwards, two names that look
alike). `optimizer.safe_text.escape` is the one helper every such message
goes through. Sums of probabilities are printed rounded.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.common.errors import Located
from optimizer.common.safe_text import UNSAFE_RE, escape
from tests.conftest import CASES, run_cli

CASE = (CASES / "country_cap.yaml").read_text()


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31mred", "\\x1b[31mred"),
        ("txt.\u202eexe", "txt.\\u202eexe"),
        ("a\u200bb", "a\\u200bb"),
        ("a\u2066b\u2069", "a\\u2066b\\u2069"),
        ("bell\x07", "bell\\x07"),
        ("cr\rlf", "cr\\x0dlf"),
        ("\x9bc1", "\\x9bc1"),
        ("line\u2028sep", "line\\u2028sep"),
        ("bom\ufeff", "bom\\ufeff"),
        ("café 稀土 تربة", "café 稀土 تربة"),  # other scripts are left alone
    ],
)
def test_escape(raw: str, shown: str) -> None:
    assert escape(raw) == shown
    assert not UNSAFE_RE.search(escape(raw))


def test_escape_keeps_line_breaks_only_when_asked() -> None:
    assert escape("a\nb", keep_newlines=True) == "a\nb"
    assert escape("a\nb") == "a\\x0ab"
    assert escape("a\r\nb", keep_newlines=True) == "a\\x0d\nb"


def test_located_problems_are_escaped() -> None:
    p = Located("s\u202ecenario.yaml", 3, "suppliers.\x1b[2Jx", "unknown \u200bkey", "'\x07'")
    text = str(p)
    assert not UNSAFE_RE.search(text)
    assert text == "s\\u202ecenario.yaml:3: suppliers.\\x1b[2Jx: unknown \\u200bkey (got '\\x07')"


def run(tmp_path: Path, text: str, name: str = "case.yaml") -> tuple[int, str]:
    path = tmp_path / name
    path.write_text(text)
    res = run_cli(["validate", str(path)])
    return res.exit_code, res.stderr + res.stdout


@pytest.mark.parametrize(
    "text",
    [
        CASE.replace("  au_lynas:", '  "au_\\e[31mlynas\\u202e":'),  # a key
        CASE.replace("    country: AU", '    country: "A\\u200bU"'),  # a value
        CASE.replace("title: Country cap splits volume", 'title: "x\\u202egnp.exe"'),
        CASE.replace("  periods: 1", "  periods: 1\n  perio\u202eds: 2"),  # an unknown key
    ],
)
def test_bad_input_is_echoed_escaped(tmp_path: Path, text: str) -> None:
    code, out = run(tmp_path, text)
    assert code == 2
    assert not UNSAFE_RE.search(out.replace("\n", "")), repr(out)
    assert "\\u" in out or "\\x" in out


def test_a_file_name_is_echoed_escaped(tmp_path: Path) -> None:
    code, out = run(tmp_path, CASE, name="evil\x1b[2J\u202e.yaml")
    assert code == 0
    ok = [line for line in out.splitlines() if line.startswith("OK ")]
    assert len(ok) == 1 and "evil\\x1b[2J\\u202e.yaml" in ok[0]
    assert not UNSAFE_RE.search(out.replace("\n", ""))  # the warnings name it escaped too
    code, out = run(tmp_path, "name: [\n", name="bad\u200b.yaml")
    assert code == 2 and "bad\\u200b.yaml:" in out


def test_probability_sums_are_printed_rounded(tmp_path: Path) -> None:
    """Not "sum to 1, above 1 (got 1.0000000999999998)"."""
    text = CASE + (
        "disruptions:\n"
        "  - {name: a, probability: 0.5000001, effects: [{country: CN, availability: 0.5}]}\n"
        "  - {name: b, probability: 0.5, effects: [{country: CN, availability: 0.5}]}\n"
    )
    code, out = run(tmp_path, text)
    assert code == 2
    assert "disruptions: probabilities sum to 1.0000001, above 1" in out
    assert "0999999" not in out
