"""One measurement in a fresh process: a generated case, one solve path, every phase timed.

Prints one JSON object on stdout: sizes, seconds per phase, objective, peak
RSS. `benchmarks/run.py` calls it once per (case, path) so that peak memory
belongs to that path alone.

Paths (each the whole run: load, build, solve, plan, check, files written):
  pulp-highs      the product, the model whole (`--decompose off`), HiGHS simplex
  pulp-highs-ipm  the same with HiGHS interior point
  pulp-cbc        the same with CBC
  decomposed      the material split (`--decompose material`)
  default         the product's default (`--decompose auto`)
  direct          benchmark reference: the same model as numpy arrays straight to highspy
                  (give it the stock-before-shortage pairs of the product's run with
                  --complement)
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _case_file(spec: dict, folder: Path) -> Path:
    import yaml

    from benchmarks.generate import generate

    data = generate(**spec)
    path = folder / "case.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def measure_product(path: Path, solver: str, decompose: str, jobs: int) -> dict:
    """Every phase of `sourcing run FILE --out DIR` (with `--decompose`) on one file.

    With "off" the steps of `optimizer.app.pipeline.run_scenario` are taken one by one
    (parameters and the policy pre-check, build and solve with stock before shortage,
    extract and check, shadow prices), so that each is timed and the model's
    stock-before-shortage pairs can be handed to the direct reference.
    """
    import numpy as np

    from optimizer.app.checked_solve import PolicyInfeasible, finish, model_size, solve_stock_first
    from optimizer.app.conflicts import matters
    from optimizer.app.executor import make_executor
    from optimizer.app.pipeline import run_scenario
    from optimizer.app.prices import prices_of
    from optimizer.io.load import load_scenario
    from optimizer.io.yaml_reader import dump_yaml
    from optimizer.model.build import build_model
    from optimizer.model.parameters import build_parameters
    from optimizer.model.presolve import policy_conflicts
    from optimizer.reports.folder import run_files, write_folder
    from optimizer.reports.summary import summary
    from optimizer.solve.status import SolverOptions

    t: dict[str, float] = {}
    t0 = time.perf_counter()
    loaded = load_scenario(path)
    t["load"] = time.perf_counter() - t0
    options = SolverOptions(solver=solver)
    extra: dict = {}
    if decompose == "off":
        t0 = time.perf_counter()
        params = build_parameters(loaded.scenario)
        if [c for c in policy_conflicts(params) if c.hard or matters(params, c, options)]:
            raise PolicyInfeasible("benchmark case has a policy conflict", [])
        t["parameters"] = time.perf_counter() - t0
        built, result, solution, build_seconds = solve_stock_first(params, options, build_model)
        t["build"], t["handoff"], t["solve"] = build_seconds, result.handoff_seconds, result.seconds
        timings = {"extract": result.extract_seconds}
        run = finish(solution, result, model_size(built), timings)
        t["extract"], t["check"] = timings["extract"], timings["check"]
        t0 = time.perf_counter()
        run.plan.shadow_prices, run.plan.shadow_note = prices_of(built, result)
        t["prices"] = time.perf_counter() - t0
        result.ranging = None
        size = {k: run.model_size[k] for k in ("variables", "rows", "nonzeros", "scenarios")}
        pairs = zip(*np.nonzero(built.q >= 0), strict=True)
        extra["complement"] = [[int(a), int(b)] for a, b in pairs]
        extra["binaries"] = int(run.model_size["binaries"])
    else:
        run = run_scenario(
            loaded.scenario, options, decompose=decompose, executor=make_executor(jobs)
        )
        for key in ("parameters", "build", "handoff", "solve", "extract", "check"):
            t[key] = run.timings.get(key, 0.0)
        t["parts_wall"] = run.timings.get("parts_wall", 0.0)
        size = {
            k: run.model_size[k]
            for k in ("variables", "rows", "nonzeros", "scenarios", "parts", "merged_scenarios")
            if k in run.model_size
        }
    t0 = time.perf_counter()
    doc = summary(run.plan, run.facts(), file=str(path), content_hash=loaded.content_hash())
    with tempfile.TemporaryDirectory() as tmp:
        write_folder(
            Path(tmp) / "out",
            run_files(run.plan, doc, dump_yaml(loaded.resolved_data())),
            force=False,
        )
    t["write"] = time.perf_counter() - t0
    return {
        "objective": run.plan.objective,
        "status": run.plan.status,
        "seconds": t,
        **size,
        **extra,
    }


def measure_direct(path: Path, complement: list[list[int]]) -> dict:
    """The same model built directly as arrays and passed to highspy (reference), with the
    stock-before-shortage pairs the product's run ended with."""
    from benchmarks.direct import solve_direct
    from optimizer.io.load import load_scenario
    from optimizer.model.parameters import build_parameters

    t0 = time.perf_counter()
    loaded = load_scenario(path)
    params = build_parameters(loaded.scenario)
    load = time.perf_counter() - t0
    pairs = frozenset((int(a), int(b)) for a, b in complement)
    out = solve_direct(params, complement=pairs)
    seconds = {"load": load, **{k: out[k] for k in ("build", "handoff", "solve", "extract")}}
    return {
        "objective": out["objective"],
        "status": out["status"],
        "seconds": seconds,
        "variables": out["cols"],
        "rows": out["rows"],
        "nonzeros": out["nnz"],
    }


def main() -> None:
    """Measure one (case, path) and print JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", required=True, help="JSON of benchmarks.generate.generate kwargs")
    ap.add_argument(
        "--path",
        required=True,
        choices=["pulp-highs", "pulp-highs-ipm", "pulp-cbc", "decomposed", "default", "direct"],
    )
    ap.add_argument(
        "--complement",
        default="[]",
        help="direct: JSON list of [material, period] stock-before-shortage pairs",
    )
    ap.add_argument("--jobs", type=int, default=1)
    args = ap.parse_args()
    spec = json.loads(args.case)
    gc.collect()
    with tempfile.TemporaryDirectory() as tmp:
        path = _case_file(spec, Path(tmp))
        base = _rss_mib()
        t0 = time.perf_counter()
        if args.path == "direct":
            out = measure_direct(path, json.loads(args.complement))
        elif args.path == "decomposed":
            out = measure_product(path, "auto", "material", args.jobs)
        elif args.path == "default":
            out = measure_product(path, "auto", "auto", args.jobs)
        else:
            solver = {"pulp-highs": "highs", "pulp-highs-ipm": "highs-ipm", "pulp-cbc": "cbc"}
            out = measure_product(path, solver[args.path], "off", 1)
        out["wall"] = time.perf_counter() - t0
    out["peak_rss_mib"] = _rss_mib()
    out["base_rss_mib"] = base
    out["path"] = args.path
    out["case"] = spec
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
