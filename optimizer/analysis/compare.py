"""Several plans side by side: `sourcing compare A.yaml B.yaml ...` (DESIGN §5).

Each file is solved as a batch job (in parallel when the executor allows) and
its summary document is turned into one column of two tables:

- `kpis`: the plan's objective (what it optimises, expected cost or with
  CVaR, is in `objective_text`), the total cost (spend + penalties), money spent and modelled
  penalties apart, the tail cost (CVaR of the total cost at the scenario's
  alpha), every cost item, per material the planned unit cost (landed), the
  share and the exposure (own plus controlled) of one country and the
  largest single-supplier share, the volume-weighted average risk, per
  material the expected and worst shortage, service level and end stock
  (tonnes of different materials are never added), and the number of
  suppliers used;
- `volumes`: planned volume by supplier and material, one column per plan,
  and for every plan after the first its difference against the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.analysis.runner import Mapper, Runner
from optimizer.results.plan import COST_KEYS, SPEND_KEYS, cost_items


@dataclass
class Comparison:
    """Plans side by side: one label per plan, both tables, and each plan's orders."""

    labels: list[str]
    docs: list[dict[str, Any]]  # summary.json of each plan
    orders: dict[str, pd.DataFrame]  # label -> planned arrivals (Plan.orders)
    kpis: pd.DataFrame  # kpi, unit, one column per label
    volumes: pd.DataFrame  # supplier, material, country, per label, per "label - first"
    country: str

    @property
    def currency(self) -> str:
        """Currency of the first plan (every amount is in it)."""
        return str(self.docs[0]["currency"])

    @property
    def unit(self) -> str:
        """Quantity unit of the first plan."""
        return str(self.docs[0]["quantity_unit"])


def labels_of(docs: Sequence[dict[str, Any]], paths: Sequence[str]) -> list[str]:
    """Column labels: scenario names, file names where names repeat, then numbered."""
    names = [str(d["scenario"]) for d in docs]
    if len(set(names)) < len(names):
        names = [Path(p).stem for p in paths]
    if len(set(names)) < len(names):
        names = [f"{n}#{i + 1}" for i, n in enumerate(names)]
    return names


def compare(
    paths: Sequence[Path | str],
    runner: Runner,
    mapper: Mapper,
    country: str = "CN",
) -> Comparison:
    """Solve every file and put the plans side by side.

    Raises `JobFailed` with the exit code of the first file that has no plan
    (invalid, infeasible policy, no solution in time).
    """
    results = mapper.map(runner.solve_file, [str(p) for p in paths], label="scenarios")
    for r in results:
        r.raise_if_failed()
    docs = [r.doc for r in results if r.doc is not None]
    labels = labels_of(docs, [r.path for r in results])
    orders = {}
    for label, r in zip(labels, results, strict=True):
        assert r.plan is not None
        orders[label] = r.plan.orders
    return Comparison(
        labels=labels,
        docs=docs,
        orders=orders,
        kpis=kpi_table(docs, labels, country),
        volumes=volume_table(orders),
        country=country,
    )


def _worst_shortage(doc: dict[str, Any]) -> float:
    live = [s["shortage"] or 0.0 for s in doc["scenarios"] if (s["probability"] or 0.0) > 0]
    return max(live, default=0.0)


def _average_risk(doc: dict[str, Any]) -> float | None:
    """Volume-weighted mean supplier risk over every material's planned volume."""
    mats = doc["materials"].values()
    volume = sum((k["volume"] or 0.0) for k in mats)
    if volume <= 0:
        return None
    return sum((k["average_risk"] or 0.0) * (k["volume"] or 0.0) for k in mats) / volume


def objective_text(doc: dict[str, Any]) -> str:
    """What the plan optimised: expected cost, or expected cost plus weighted CVaR."""
    how = doc.get("optimises") or {}
    if how.get("risk_measure") != "cvar":
        return "expected cost"
    weight = how.get("cvar_weight")
    w = "" if weight in (None, 1, 1.0) else f"{weight:g} x "
    return f"expected cost + {w}CVaR {how.get('cvar_alpha', 0.9):g}"


def kpi_column(doc: dict[str, Any], country: str, materials: Sequence[str]) -> list[Any]:
    """One plan's KPIs, in the order of `kpi_rows`."""
    mats = doc["materials"]
    volume = sum((k["volume"] or 0.0) for k in mats.values())
    total = float(doc["total_cost"] or 0.0)
    cvar = doc.get("cvar") or {}
    several = len(doc.get("scenarios") or []) > 1
    values: list[Any] = [
        doc.get("objective"),
        total,
        doc.get("spend"),
        doc.get("penalties"),
        cvar.get("cvar") if several else None,
        *cost_items(doc["costs"]).values(),
        volume,
    ]
    for m in materials:
        k = mats.get(m)
        values.append(None if k is None else k.get("average_unit_cost"))
    for m in materials:
        k = mats.get(m)
        values.append(None if k is None else (k["share_by_country"].get(country) or 0.0))
    for m in materials:
        k = mats.get(m)
        values.append(None if k is None else (k["exposure_by_country"].get(country) or 0.0))
    for m in materials:
        k = mats.get(m)
        shares = [] if k is None else [v or 0.0 for v in k["share_by_supplier"].values()]
        values.append(max(shares) if shares else None)
    values.append(_average_risk(doc))
    for key in ("expected_shortage", "worst_shortage", "service_level"):
        for m in materials:
            k = mats.get(m)
            values.append(None if k is None else k[key])
    for m in materials:
        k = mats.get(m)
        values.append(None if k is None else (k.get("end_position") or {}).get("closing"))
    values.append(len(doc["suppliers_used"]))
    return values


def kpi_rows(
    country: str, materials: Sequence[str], currency: str, unit: str
) -> list[tuple[str, str]]:
    """(kpi, unit) of every row of the KPI table, in order."""
    rows = [
        ("objective", currency),
        ("total cost", currency),
        ("spend (money paid)", currency),
        ("penalties (modelled, not paid)", currency),
        ("tail cost (CVaR of total cost)", currency),
    ]
    rows += [
        (f"{'spend' if k in SPEND_KEYS else 'penalty'}: {k.replace('_', ' ')}", currency)
        for k in COST_KEYS
    ]
    rows += [("planned volume, all materials", unit)]
    rows += [(f"planned unit cost: {m}", f"{currency}/{unit}") for m in materials]
    rows += [(f"{country} share: {m}", "share") for m in materials]
    rows += [(f"{country} exposure: {m}", "share") for m in materials]
    rows += [(f"largest supplier share: {m}", "share") for m in materials]
    rows += [("average risk", "score")]
    rows += [(f"expected shortage: {m}", unit) for m in materials]
    rows += [(f"worst shortage: {m}", unit) for m in materials]
    rows += [(f"service level: {m}", "share") for m in materials]
    rows += [(f"end stock: {m}", unit) for m in materials]
    rows += [("suppliers used", "count")]
    return rows


def kpi_table(docs: Sequence[dict[str, Any]], labels: Sequence[str], country: str) -> pd.DataFrame:
    """The KPI table: columns kpi, unit, then one per plan (see the module docstring)."""
    materials = sorted({m for d in docs for m in d["materials"]})
    rows = kpi_rows(country, materials, str(docs[0]["currency"]), str(docs[0]["quantity_unit"]))
    table = pd.DataFrame({"kpi": [r[0] for r in rows], "unit": [r[1] for r in rows]})
    for label, doc in zip(labels, docs, strict=True):
        table[label] = pd.Series(kpi_column(doc, country, materials), dtype=object)
    return table


def volume_table(orders: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Planned volume by supplier and material per plan, and each plan minus the first."""
    labels = list(orders)
    frames = []
    for label, df in orders.items():
        sums = df.groupby(["supplier", "material"], sort=True)["quantity"].sum()
        frames.append(sums.rename(label))
    table = pd.concat(frames, axis=1).fillna(0.0) if frames else pd.DataFrame()
    countries: dict[str, str] = {}
    for df in orders.values():
        for sid, code in zip(df["supplier"], df["country"], strict=True):
            countries.setdefault(str(sid), str(code))
    table = table.reset_index().rename(columns={"level_0": "supplier", "level_1": "material"})
    table.insert(2, "country", [countries.get(str(s), "") for s in table["supplier"]])
    first = labels[0]
    columns = ["supplier", "material", "country", first]
    for label in labels[1:]:
        diff = f"{label} - {first}"
        table[diff] = table[label] - table[first]
        columns += [label, diff]
    table = table[columns].sort_values(["material", "supplier"], kind="stable")
    return table.reset_index(drop=True)


def format_value(value: Any, unit: str, currency: str) -> str:
    """A KPI for people: money to the unit, shares in %, risk to 2 digits, volumes to 0.01."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    if unit == "text" or isinstance(value, str):
        return str(value)
    v = float(value)
    if unit == "share":
        return f"{100 * v:.1f}%"
    if unit == "score":
        return f"{v:.2f}"
    if unit == "count":
        return f"{v:.0f}"
    if unit == currency or unit.startswith(f"{currency}/"):
        return f"{v:,.0f}"
    return f"{v:,.2f}"


def format_delta(value: Any) -> str:
    """A volume difference with its sign (0 as 0)."""
    v = float(value)
    return "0" if abs(v) < 5e-7 else f"{v:+,.2f}"


def as_json(c: Comparison) -> dict[str, Any]:
    """Both tables as JSON records (missing values as null)."""

    def records(df: pd.DataFrame) -> list[dict[str, Any]]:
        clean = df.astype(object).where(df.notna(), None)
        return clean.to_dict(orient="records")  # type: ignore[return-value]

    return {
        "plans": [
            {
                "label": label,
                "scenario": d["scenario"],
                "file": d.get("file"),
                "optimises": objective_text(d),
            }
            for label, d in zip(c.labels, c.docs, strict=True)
        ],
        "country": c.country,
        "currency": c.currency,
        "quantity_unit": c.unit,
        "kpis": records(c.kpis),
        "volumes": records(c.volumes),
    }
