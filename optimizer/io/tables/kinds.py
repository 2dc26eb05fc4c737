"""What a table holds (DESIGN §3.1): the kinds of table, their key columns, and the kind
of column each field of the schema's models takes.

One row per entity; the columns are the fields of the schema's models, so that a field
added there is a column here too:

- suppliers: `id` (or `supplier`), `country` and any other field of a supplier;
- offers: `supplier`, `material`, `price`, `capacity` and any other field of an offer;
- demand: `material`, `demand` and any other field of a material.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from optimizer.io.where import PathKey
from optimizer.schema.scenario import Material, Offer, Supplier

TABLES = ("suppliers", "offers", "demand")

NUMBER, TEXT, IDS, PERIODS, UP_TO = "number", "text", "ids", "periods", "up to"
"""Kinds of column: one number; text (an id); a list of ids in one cell; a number per
period (one value or exactly one per period); a list of at most one number per period
(`inbound`: empty periods are 0)."""


def _unwrap(tp: Any) -> list[Any]:
    """The members of a union, with `Annotated` and `None` removed."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin is typing.Union or origin is types.UnionType:
        return [t for arg in typing.get_args(tp) for t in _unwrap(arg)]
    return [] if tp is type(None) else [tp]


def _is_number(tp: Any) -> bool:
    return tp in (int, float)


def _is_text(tp: Any) -> bool:
    if typing.get_origin(tp) is Literal:
        return all(isinstance(v, str) for v in typing.get_args(tp))
    return tp is str


def column_kind(annotation: Any) -> str | None:
    """The kind of column that holds a field of this type (None: not a column)."""
    members = _unwrap(annotation)
    lists = [m for m in members if typing.get_origin(m) is list]
    plain = [m for m in members if typing.get_origin(m) is not list]
    if len(lists) == 1:
        items = _unwrap(typing.get_args(lists[0])[0])
        if len(items) == 1 and _is_number(items[0]):
            if not plain:
                return UP_TO
            return PERIODS if len(plain) == 1 and _is_number(plain[0]) else None
        if len(items) == 1 and _is_text(items[0]) and not plain:
            return IDS
        return None
    if len(plain) == 1 and not lists:
        if _is_number(plain[0]):
            return NUMBER
        if _is_text(plain[0]):
            return TEXT
    return None


@dataclass(frozen=True)
class TableSpec:
    """One kind of table: the model its rows fill, its key columns, where a row goes."""

    name: str
    model: type[BaseModel]
    keys: tuple[str, ...]
    timed: bool  # may be long: a `period` or `date` column
    aliases: tuple[tuple[str, str], ...] = ()  # other name -> key column
    not_columns: frozenset[str] = frozenset()

    @functools.cached_property
    def fields(self) -> dict[str, str]:
        """Field name -> column kind, in the model's order."""
        out = {}
        for name, info in self.model.model_fields.items():
            kind = column_kind(info.annotation)
            if name not in self.not_columns and kind is not None:
                out[name] = kind
        return out

    @functools.cached_property
    def required(self) -> tuple[str, ...]:
        """Fields without a default: a row must give them unless the YAML does."""
        fields = self.fields
        return tuple(
            n for n, i in self.model.model_fields.items() if i.is_required() and n in fields
        )

    def entity(self, keys: Sequence[str]) -> PathKey:
        """Where a row's values go in the scenario data."""
        if self.name == "suppliers":
            return ("suppliers", keys[0])
        if self.name == "offers":
            return ("suppliers", keys[0], "offers", keys[1])
        return ("materials", keys[0])


SPECS = {
    "suppliers": TableSpec(
        "suppliers", Supplier, ("id",), False, (("supplier", "id"),), frozenset({"offers"})
    ),
    "offers": TableSpec("offers", Offer, ("supplier", "material"), True),
    "demand": TableSpec("demand", Material, ("material",), True),
}
