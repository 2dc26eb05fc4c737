"""Time loading and validating a scenario whose offers come from a table (issue 17).

    .venv/bin/python benchmarks/tables.py [--offers 50000] [--periods 12] [--repeat 3]
                                          [--format csv,xlsx] [--form plain,wide,long]

Writes a scenario into a temporary folder: a YAML file with the materials and
the policy, a suppliers table (one row per supplier, 10 offers each) and an
offers table with `--offers` rows: supplier, material, price, capacity and
min_order ("plain", 5 columns), or `price` once and `capacity_1 ...
capacity_P` per period ("wide", 2 + 1 + P columns), or one row per offer and
period ("long", `--offers` x `--periods` rows). Then times `load_scenario` (read the tables,
check every cell, merge with the YAML, pydantic validation, cross-references)
in a fresh process per repeat and prints the median. The promise (README
"Keeping data in spreadsheets"): 50,000 offers in under 5 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MATERIALS = 10
COUNTRIES = ("CN", "AU", "US", "MY", "EE", "FR", "VN", "IN", "JP")

TIMER = """
import sys, time
t0 = time.perf_counter()
from optimizer.io.load import load_scenario
t1 = time.perf_counter()
sc = load_scenario(sys.argv[1]).scenario
t2 = time.perf_counter()
offers = sum(len(s.offers) for s in sc.suppliers.values())
print(f"{t2 - t1:.3f} {t1 - t0:.3f} {offers}")
"""


def tables(offers: int, periods: int, form: str) -> dict[str, object]:
    """The suppliers and offers tables (`export.Table`) of a generated scenario."""
    from optimizer.io.tables.export import Table

    suppliers = offers // MATERIALS
    sup_rows = [
        [f"s{k:06d}", COUNTRIES[k % len(COUNTRIES)], round(0.05 + (k % 90) / 100, 2), 100 + k % 500,
         k % 90]
        for k in range(suppliers)
    ]  # fmt: skip
    sup = Table(["id", "country", "risk", "freight", "lead_time_days"], sup_rows)
    rows: list[list[object]] = []
    if form == "plain":
        columns = ["supplier", "material", "price", "capacity", "min_order"]
        for k in range(suppliers):
            for j in range(MATERIALS):
                price = 1000 + (k * 7 + j) % 9000
                rows.append([f"s{k:06d}", f"m{j:02d}", price, 1 + (k + j) % 20, (k + j) % 3])
    elif form == "wide":
        columns = ["supplier", "material", "price", *[f"capacity_{t + 1}" for t in range(periods)]]
        for k in range(suppliers):
            for j in range(MATERIALS):
                price = 1000 + (k * 7 + j) % 9000
                caps = [1 + (k + j + t) % 20 for t in range(periods)]
                rows.append([f"s{k:06d}", f"m{j:02d}", price, *caps])
    else:
        columns = ["supplier", "material", "period", "price", "capacity"]
        for k in range(suppliers):
            for j in range(MATERIALS):
                for t in range(periods):
                    price = 1000 + (k * 7 + j + t) % 9000
                    rows.append([f"s{k:06d}", f"m{j:02d}", t + 1, price, 1 + (k + j + t) % 20])
    return {"suppliers": sup, "offers": Table(columns, rows)}


def write_case(folder: Path, offers: int, periods: int, fmt: str, form: str) -> Path:
    """Write the YAML and its tables; return the YAML's path."""
    from optimizer.io.tables.export import csv_bytes, xlsx_bytes

    made = tables(offers, periods, form)
    if fmt == "xlsx":
        (folder / "book.xlsx").write_bytes(xlsx_bytes(made))  # type: ignore[arg-type]
        refs = {"suppliers": "book.xlsx#Suppliers", "offers": "book.xlsx#Offers"}
    else:
        for kind, table in made.items():
            (folder / f"{kind}.csv").write_bytes(csv_bytes(table))  # type: ignore[arg-type]
        refs = {kind: f"{kind}.csv" for kind in made}
    lines = [
        f"name: tables-{offers}",
        f"horizon: {{periods: {periods}, period_days: 30}}",
        "tables:",
        *[f"  {kind}: {ref}" for kind, ref in refs.items()],
        "materials:",
        *[f"  m{j:02d}: {{demand: {10 + j}, shortage_cost: 100000}}" for j in range(MATERIALS)],
        "countries:",
        *[f"  {c}: {{tariff: 0.0{i}, risk: 0.{i + 1}}}" for i, c in enumerate(COUNTRIES)],
        "policy: {max_supplier_share: 0.6, max_country_share: {CN: 0.5}}",
    ]
    path = folder / "scenario.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def time_load(path: Path) -> tuple[float, float, int]:
    """(load seconds, import seconds, offers) in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", TIMER, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def main() -> None:
    """Generate each case, then time its loads."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--offers", type=int, default=50_000)
    ap.add_argument("--periods", type=int, default=12)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--format", default="csv,xlsx", help="csv, xlsx or both (comma-separated)")
    ap.add_argument("--form", default="plain,wide", help="plain, wide or long (comma-separated)")
    args = ap.parse_args()
    for form in args.form.split(","):
        for fmt in args.format.split(","):
            with tempfile.TemporaryDirectory(prefix="sourcing-tables-") as tmp:
                t0 = time.perf_counter()
                path = write_case(Path(tmp), args.offers, args.periods, fmt, form)
                size = sum(p.stat().st_size for p in Path(tmp).iterdir())
                rows = args.offers * (args.periods if form == "long" else 1)
                print(
                    f"{fmt} {form}: {args.offers:,} offers in {rows:,} rows, {size / 1e6:.1f} MB "
                    f"(written in {time.perf_counter() - t0:.1f} s)"
                )
                loads = []
                for _ in range(args.repeat):
                    seconds, imports, n = time_load(path)
                    assert n == args.offers, n
                    loads.append(seconds)
                    print(f"  load + validate: {seconds:.2f} s (imports {imports:.2f} s)")
                print(
                    f"  median {statistics.median(loads):.2f} s, max {max(loads):.2f} s "
                    f"over {len(loads)} fresh processes"
                )


if __name__ == "__main__":
    main()
