"""The measurements behind `--decompose auto` (optimizer/app/benders_parts.py `worth_benders`).

For each model class (two-stage LP with expected cost, with CVaR, and MILPs with
min orders, fixed costs and min suppliers, with either objective) and for a
range of scenario counts (2^k enumerated outcomes of k independent risks), the
same file is solved in fresh processes by

  material  the material split (groups of materials, merged scenarios, each part
            solved whole: the default before the scenario decomposition), and
  benders   the same split, then the scenario decomposition inside every part,

and the wall time of the whole `sourcing run FILE --json` is compared. The size
that decides is the part's extensive form (deliverable offer-periods times
merged scenarios, `benders.extensive_size`), printed for the largest part.

    python benchmarks/auto_rule.py                 # about 30 minutes on 2 cores
    python benchmarks/auto_rule.py --events 3 5    # a first look
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLASSES = {
    "LP, expected": {},
    "LP, CVaR": {"cvar": True},
    "MILP, expected": {"milp": True},
    "MILP, CVaR": {"milp": True, "cvar": True},
}


def solve(path: Path, decompose: str, limit: float) -> dict[str, Any]:
    """One `sourcing run` in a fresh process: wall time and what it said."""
    cmd = [sys.executable, "-m", "optimizer", "run", str(path), "--json"]
    cmd += ["--decompose", decompose, "--time-limit", f"{limit:g}"]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=limit * 3 + 300)
    wall = time.perf_counter() - t0
    out: dict[str, Any] = {"wall": wall, "exit": res.returncode}
    if res.returncode == 0:
        doc = json.loads(res.stdout)
        out.update(objective=doc["objective"], status=doc["status"], model=doc["model"])
    return out


def largest_part(spec: dict[str, Any]) -> tuple[int, int, int]:
    """Extensive size, merged scenarios and parts of the largest part of a case."""
    from benchmarks.generate import generate
    from optimizer.app.benders_parts import extensive_size
    from optimizer.model.decompose import split
    from optimizer.model.parameters import build_parameters
    from optimizer.schema.scenario import Scenario

    parts = split(build_parameters(Scenario.model_validate(generate(**spec))))
    big = max(parts, key=lambda part: extensive_size(part.params))
    return extensive_size(big.params), len(big.params.outcomes), len(parts)


def main() -> None:
    """Run the grid and print a markdown table (raw results with --json)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, nargs="+", default=[3, 5, 7, 9])
    ap.add_argument("--classes", nargs="+", default=list(CLASSES), choices=list(CLASSES))
    ap.add_argument("--limit", type=float, default=300.0, help="time limit per solve (s)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    import yaml

    from benchmarks.generate import generate

    rows, raw = [], []
    load_before = os.getloadavg()
    for label in args.classes:
        for events in args.events:
            spec = {"materials": 10, "suppliers": 30, "periods": 12, "events": events, "seed": 3}
            spec.update(CLASSES[label])
            size, merged, n_parts = largest_part(spec)
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "case.yaml"
                path.write_text(yaml.safe_dump(generate(**spec), sort_keys=False))
                mat = solve(path, "material", args.limit)
                ben = solve(path, "benders", args.limit)
            raw.append({"class": label, "spec": spec, "material": mat, "benders": ben})

            def cell(r: dict[str, Any]) -> str:
                if r["exit"] != 0 or r.get("status") != "optimal":
                    return f">{args.limit:.0f}" if r["exit"] in (0, 4) else "failed"
                return f"{r['wall']:.1f}"

            same = "-"
            if mat["exit"] == 0 and ben["exit"] == 0:
                rel = abs(mat["objective"] - ben["objective"]) / max(1.0, abs(mat["objective"]))
                same = f"{rel:.1e}"
            ratio = "-"
            if mat["exit"] == 0 and ben["exit"] == 0 and mat.get("status") == "optimal":
                ratio = f"{mat['wall'] / ben['wall']:.2f}x"
            elif ben["exit"] == 0:
                ratio = f">{args.limit / ben['wall']:.1f}x"
            rows.append(
                [label, 2**events, n_parts, merged, f"{size:,}", cell(mat), cell(ben), ratio, same]
            )
            print("| " + " | ".join(str(c) for c in rows[-1]) + " |", flush=True)
    header = [
        "class",
        "outcomes",
        "parts",
        "merged scenarios (largest part)",
        "extensive size (largest part)",
        "material split (s)",
        "Benders (s)",
        "Benders speed-up",
        "objective rel. diff",
    ]
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(str(c) for c in r) + " |")
    print(f"\nload average before {load_before}, after {os.getloadavg()}")
    if args.json:
        args.json.write_text(json.dumps(raw, indent=2))


if __name__ == "__main__":
    main()
