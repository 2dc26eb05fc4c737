"""How a place in a scenario file is named in messages: field paths (`a.b[2].c`),
values as the user wrote them, and an error at a file and line.
"""

from __future__ import annotations

import math
from typing import Any, NoReturn

from optimizer.common.errors import Located, ScenarioError

PathKey = tuple[str | int, ...]  # a field path, as keys and list indices


def fail_at(
    name: str, line: int | None, message: str, path: str = "", got: str | None = None
) -> NoReturn:
    """Raise a `ScenarioError` with one problem."""
    raise ScenarioError([Located(name, line, path, message, got)])


def dotted_path(path: PathKey) -> str:
    """`suppliers.cn.offers.m.price`, with list indices as `[2]`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def shown(value: Any) -> str:
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
        text = "{" + ", ".join(f"{k}: {shown(v)}" for k, v in value.items()) + "}"
        return text if len(text) <= 60 else f"a mapping of {len(value)} keys"
    if isinstance(value, list):
        text = "[" + ", ".join(shown(v) for v in value) + "]"
        return text if len(text) <= 60 else f"a list of {len(value)}"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."
