"""How far past `--time-limit` the solvers stop (issue 8): overshoot per solver and model.

    .venv/bin/python scripts/time_limits.py

Builds synthetic models (benchmarks/generate.py) once and solves each with
HiGHS and CBC under several limits; prints the project's status, the solve
time and the overshoot (solve time minus limit). Model building is not
counted: it happens before the limit starts.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.generate import generate  # noqa: E402
from optimizer.model.build import build_model  # noqa: E402
from optimizer.model.parameters import build_parameters  # noqa: E402
from optimizer.schema.scenario import Scenario  # noqa: E402
from optimizer.solve.dispatch import solve  # noqa: E402
from optimizer.solve.status import SolverOptions  # noqa: E402

MODELS: dict[str, dict[str, Any]] = {
    "MILP 12x100 (4,746 cols, 1,421 binaries)": {
        "materials": 12, "suppliers": 100, "periods": 12, "seed": 2, "milp": True,
    },
    "MILP 6x40, 4 events (20,405 cols)": {
        "materials": 6, "suppliers": 40, "periods": 12, "events": 4, "seed": 3, "milp": True,
    },
    "LP 10x40, 100 samples (92,698 cols)": {
        "materials": 10, "suppliers": 40, "periods": 12, "events": 12, "samples": 100, "seed": 1,
    },
}  # fmt: skip
LIMITS = (0.01, 0.5, 2.0, 5.0)


def main() -> None:
    """Solve every model with every solver and limit; print one line each."""
    print(f"{'model':42} {'solver':6} {'limit':>6} {'status':12} {'solve s':>8} {'over s':>7}")
    worst: dict[str, float] = {}
    for label, kwargs in MODELS.items():
        t0 = time.perf_counter()
        built = build_model(build_parameters(Scenario.model_validate(generate(**kwargs))))
        build = time.perf_counter() - t0
        print(f"{label}: built in {build:.1f} s", flush=True)
        for solver in ("highs", "cbc"):
            for limit in LIMITS:
                result = solve(built, SolverOptions(solver=solver, time_limit=limit))
                over = result.seconds - limit
                worst[solver] = max(worst.get(solver, -1.0), over)
                print(
                    f"{'':42} {solver:6} {limit:6g} {result.status.value:12} "
                    f"{result.seconds:8.2f} {over:+7.2f}",
                    flush=True,
                )
    print("largest overshoot: " + ", ".join(f"{s} {v:+.2f} s" for s, v in worst.items()))


if __name__ == "__main__":
    main()
