"""Several plans side by side: `sourcing compare A.yaml B.yaml ...` (DESIGN §5).

Each file is solved as a batch job (in parallel when the executor allows) and
its summary document is turned into one column of two tables:

- `kpis`: the plan's objective (what it optimises, expected cost or with
  CVaR, is in `Optimises.text`), the total cost (spend + penalties), money spent and modelled
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
from optimizer.schema.summary import RunSummary


@dataclass
class Comparison:
    """Plans side by side: one label per plan, both tables, and each plan's orders."""

    labels: list[str]
    summaries: list[RunSummary]  # summary.json of each plan
    orders: dict[str, pd.DataFrame]  # label -> planned arrivals (Plan.orders)
    kpis: pd.DataFrame  # kpi, unit, one column per label
    volumes: pd.DataFrame  # supplier, material, country, per label, per "label - first"
    country: str

    @property
    def currency(self) -> str:
        """Currency of the first plan (every amount is in it)."""
        return self.summaries[0].currency

    @property
    def unit(self) -> str:
        """Quantity unit of the first plan."""
        return self.summaries[0].quantity_unit


def labels_of(summaries: Sequence[RunSummary], paths: Sequence[str]) -> list[str]:
    """Column labels: scenario names, file names where names repeat, then numbered."""
    names = [s.scenario for s in summaries]
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
    summaries = [r.summary for r in results if r.summary is not None]
    labels = labels_of(summaries, [r.path for r in results])
    orders = {}
    for label, r in zip(labels, results, strict=True):
        assert r.plan is not None
        orders[label] = r.plan.orders
    return Comparison(
        labels=labels,
        summaries=summaries,
        orders=orders,
        kpis=kpi_table(summaries, labels, country),
        volumes=volume_table(orders),
        country=country,
    )


def _average_risk(summary: RunSummary) -> float | None:
    """Volume-weighted mean supplier risk over every material's planned volume."""
    mats = summary.materials.values()
    volume = sum(k.volume for k in mats)
    if volume <= 0:
        return None
    return sum((k.average_risk or 0.0) * k.volume for k in mats) / volume


def kpi_column(summary: RunSummary, country: str, materials: Sequence[str]) -> list[Any]:
    """One plan's KPIs, in the order of `kpi_rows`."""
    mats = [summary.materials.get(m) for m in materials]
    volume = sum(k.volume for k in summary.materials.values())
    several = len(summary.scenarios) > 1
    values: list[Any] = [
        summary.objective,
        summary.total_cost,
        summary.spend,
        summary.penalties,
        summary.cvar.cvar if several and summary.cvar is not None else None,
        *cost_items(summary.costs).values(),
        volume,
    ]
    values += [None if k is None else k.average_unit_cost for k in mats]
    values += [None if k is None else k.share_by_country.get(country, 0.0) for k in mats]
    values += [None if k is None else k.exposure_by_country.get(country, 0.0) for k in mats]
    values += [
        None if k is None else max(k.share_by_supplier.values(), default=None) for k in mats
    ]
    values.append(_average_risk(summary))
    values += [None if k is None else k.expected_shortage for k in mats]
    values += [None if k is None else k.worst_shortage for k in mats]
    values += [None if k is None else k.service_level for k in mats]
    values += [None if k is None else k.end_position.closing for k in mats]
    values.append(len(summary.suppliers_used))
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


def kpi_table(
    summaries: Sequence[RunSummary], labels: Sequence[str], country: str
) -> pd.DataFrame:
    """The KPI table: columns kpi, unit, then one per plan (see the module docstring)."""
    materials = sorted({m for s in summaries for m in s.materials})
    first = summaries[0]
    rows = kpi_rows(country, materials, first.currency, first.quantity_unit)
    table = pd.DataFrame({"kpi": [r[0] for r in rows], "unit": [r[1] for r in rows]})
    for label, summary in zip(labels, summaries, strict=True):
        table[label] = pd.Series(kpi_column(summary, country, materials), dtype=object)
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


def as_json(c: Comparison) -> dict[str, Any]:
    """Both tables as JSON records (missing values as null)."""

    def records(df: pd.DataFrame) -> list[dict[str, Any]]:
        clean = df.astype(object).where(df.notna(), None)
        return clean.to_dict(orient="records")

    return {
        "plans": [
            {
                "label": label,
                "scenario": s.scenario,
                "file": s.file,
                "optimises": s.optimises.text(),
            }
            for label, s in zip(c.labels, c.summaries, strict=True)
        ],
        "country": c.country,
        "currency": c.currency,
        "quantity_unit": c.unit,
        "kpis": records(c.kpis),
        "volumes": records(c.volumes),
    }
