"""What building the model costs, and what its PuLP form would add, at a given size.

Each size runs in a fresh process (peak memory is that process's): generate a
two-stage case (10 materials x 30 suppliers x 12 periods, 2^events scenarios),
build its parameters and model as `sourcing run` does (arrays only), then
make the PuLP problem from it (`BuiltModel.problem`, what the Python API,
`--solver pulp:NAME` and `--write-lp` ask for) and, with --solve, solve it with
HiGHS. Prints a table, or JSON with --json.

    python benchmarks/build_cost.py                       # about 250k and 1M non-zeros
    python benchmarks/build_cost.py --events 6 7 8 9 --solve
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def one(events: int, solve: bool) -> dict[str, float]:
    """Measure one size in this process."""
    from benchmarks.generate import generate
    from optimizer.model.build import build_model
    from optimizer.model.parameters import build_parameters
    from optimizer.schema.scenario import Scenario

    spec = {"materials": 10, "suppliers": 30, "periods": 12, "events": events, "seed": 1}
    scenario = Scenario.model_validate(generate(**spec))
    start_mib = _peak_mib()
    t0 = time.perf_counter()
    built = build_model(build_parameters(scenario))
    build = time.perf_counter() - t0
    build_mib = _peak_mib()
    out = {
        "events": events,
        "nonzeros": built.matrix.nnz,
        "build_s": build,
        "build_peak_mib": build_mib,
        "build_added_mib": build_mib - start_mib,
    }
    if solve:
        from optimizer.solve.highs import solve_highs
        from optimizer.solve.status import SolverOptions

        result = solve_highs(built.matrix, SolverOptions(solver="highs"))
        out["handoff_s"], out["solve_s"] = result.handoff_seconds, result.seconds
    t0 = time.perf_counter()
    _ = built.problem
    out["pulp_s"] = time.perf_counter() - t0
    out["pulp_added_mib"] = _peak_mib() - build_mib
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, nargs="+", default=[6, 8])
    ap.add_argument("--solve", action="store_true", help="also solve with HiGHS (slow at 1M)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.one, args.solve)))
        return
    rows = []
    for e in args.events:
        cmd = [sys.executable, __file__, "--one", str(e)] + (["--solve"] if args.solve else [])
        res = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
        rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    head = "| non-zeros | build (s) | peak MiB | PuLP form (s) | PuLP form MiB |"
    if args.solve:
        head += " solve (s) | build / solve |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for r in rows:
        line = (
            f"| {r['nonzeros']:,} | {r['build_s']:.2f} | {r['build_peak_mib']:.0f} | "
            f"{r['pulp_s']:.2f} | {r['pulp_added_mib']:.0f} |"
        )
        if args.solve:
            line += f" {r['solve_s']:.1f} | {100 * r['build_s'] / r['solve_s']:.0f}% |"
        print(line)


if __name__ == "__main__":
    main()
