"""Time loading and validating a scenario file with 50,000 suppliers (issue 8).

    .venv/bin/python scripts/large_input.py [--suppliers 50000] [--repeat 3]

Writes the file into a temporary folder, then times `load_scenario` (read,
YAML parse with lines, `extends`-free merge, pydantic validation, cross
references) in a fresh process per repeat, and prints the size and timings.
The promise (README "Reliability"): under 10 s.
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
MATERIALS = ("ndpr_oxide", "dy_oxide", "tb_oxide", "ndfeb_magnet")
COUNTRIES = ("CN", "AU", "US", "MY", "EE", "FR", "VN", "IN", "JP")


def scenario_text(suppliers: int, periods: int = 12) -> str:
    """YAML text of a valid scenario with `suppliers` suppliers, written as a person would."""
    lines = [
        f"name: large-{suppliers}",
        "title: Many suppliers",
        f"horizon: {{periods: {periods}, period_days: 30}}",
        "materials:",
    ]
    for i, m in enumerate(MATERIALS):
        lines.append(f"  {m}: {{demand: {10 + i}, shortage_cost: 100000, holding_cost: 10}}")
    lines.append("countries:")
    for i, c in enumerate(COUNTRIES):
        lines.append(f"  {c}: {{tariff: 0.0{i}, risk: 0.{i + 1}}}")
    lines.append("suppliers:")
    for k in range(suppliers):
        country = COUNTRIES[k % len(COUNTRIES)]
        lines += [
            f"  s{k:06d}:",
            f"    country: {country}",
            f"    lead_time_days: {k % 90}",
            f"    freight: {100 + k % 500}",
            "    offers:",
        ]
        for j in range(1 + k % 3):
            m = MATERIALS[(k + j) % len(MATERIALS)]
            price, capacity = 1000 + (k * 7 + j) % 9000, 1 + k % 20
            lines.append(f"      {m}: {{price: {price}, capacity: {capacity}}}")
    lines += [
        "policy:",
        "  max_supplier_share: 0.6",
        "  max_country_share: {CN: 0.5}",
        "disruptions:",
        "  - name: cn-halt",
        "    probability: 0.1",
        "    effects: [{country: CN, availability: 0.2}]",
    ]
    return "\n".join(lines) + "\n"


TIMER = """
import sys, time
t0 = time.perf_counter()
from optimizer.loading import load_scenario
t1 = time.perf_counter()
sc = load_scenario(sys.argv[1]).scenario
t2 = time.perf_counter()
print(f"{t2 - t1:.3f} {t1 - t0:.3f} {len(sc.suppliers)}")
"""


def time_load(path: Path) -> tuple[float, float, int]:
    """(load seconds, import seconds, suppliers) in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", TIMER, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def main() -> None:
    """Generate, then time the loads."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suppliers", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sourcing-large-") as tmp:
        path = Path(tmp) / f"large-{args.suppliers}.yaml"
        t0 = time.perf_counter()
        path.write_text(scenario_text(args.suppliers))
        size = path.stat().st_size
        print(
            f"{path.name}: {args.suppliers:,} suppliers, {size / 1e6:.1f} MB "
            f"(written in {time.perf_counter() - t0:.1f} s)"
        )
        loads = []
        for _ in range(args.repeat):
            seconds, imports, n = time_load(path)
            assert n == args.suppliers
            loads.append(seconds)
            print(f"  load + validate: {seconds:.2f} s (imports {imports:.2f} s)")
        print(
            f"median {statistics.median(loads):.2f} s, max {max(loads):.2f} s "
            f"over {len(loads)} fresh processes"
        )


if __name__ == "__main__":
    main()
