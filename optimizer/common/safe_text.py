"""Text from input files shown safely: control, bidi and zero-width characters escaped.
"""

from __future__ import annotations

import re

# C0 controls and DEL, C1 controls; bidirectional formatting (LRM, RLM, ALM,
# embeddings, overrides, isolates); zero-width and invisible formatting
# characters (ZWSP, ZWNJ, ZWJ, word joiner, invisible operators, BOM); line and
# paragraph separators (a new line to a terminal, not to `splitlines` callers).
_FORMATTING = "\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"

UNSAFE_RE = re.compile(f"[\x00-\x1f\x7f-\x9f{_FORMATTING}]")

_UNSAFE_BUT_NEWLINE_RE = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{_FORMATTING}]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with control, bidi and zero-width characters written as escapes.

    With `keep_newlines`, "\\n" stays a line break (a message of several
    lines); every other such character, including "\\r", is escaped.
    """
    pattern = _UNSAFE_BUT_NEWLINE_RE if keep_newlines else UNSAFE_RE
    return pattern.sub(_escaped, text)


def has_unsafe(text: str, *, allow: str = "") -> str | None:
    """The first control, bidi or zero-width character of `text` not in `allow`, or None."""
    for match in UNSAFE_RE.finditer(text):
        if match.group() not in allow:
            return match.group()
    return None


def rounded(value: float, digits: int = 15) -> str:
    """A float as a person would write it: 1.0000001, not 1.0000000999999998."""
    return f"{value:.{digits}g}"
