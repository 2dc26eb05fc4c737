"""One measurement in a fresh process: a generated case, one solve path, every phase timed.

Prints one JSON object on stdout: sizes, seconds per phase, objective, peak
RSS. `benchmarks/run.py` calls it once per (case, path) so that peak memory
belongs to that path alone.

Paths:
  pulp-highs      the product: PuLP model, one passModel to HiGHS (simplex)
  pulp-highs-ipm  the same with HiGHS interior point
  pulp-cbc        the product: PuLP model, MPS file, CBC
  decomposed      the product's default for separable models (parts, merged scenarios)
  direct          benchmark reference: the same LP as numpy arrays straight to highspy
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
    """Every phase of `sourcing run --out` on one file."""
    from optimizer.app.executor import make_executor
    from optimizer.app.pipeline import RunResult, run_scenario
    from optimizer.io.load import load_scenario
    from optimizer.io.yaml_reader import dump_yaml
    from optimizer.model.build import build_model
    from optimizer.model.parameters import build_parameters
    from optimizer.model.solution import solution_of
    from optimizer.reports.folder import run_files, write_folder
    from optimizer.reports.summary import summary
    from optimizer.results.check import check_plan
    from optimizer.results.plan import extract_plan
    from optimizer.solve.dispatch import solve
    from optimizer.solve.status import SolverOptions

    t = {}
    t0 = time.perf_counter()
    loaded = load_scenario(path)
    t["load"] = time.perf_counter() - t0
    options = SolverOptions(solver=solver)
    if decompose == "off":
        t0 = time.perf_counter()
        params = build_parameters(loaded.scenario)
        built = build_model(params)
        t["build"] = time.perf_counter() - t0
        size = {"variables": len(built.col_names), "rows": len(built.row_names)}
        result = solve(built, options)
        t["handoff"], t["solve"] = result.handoff_seconds, result.seconds
        t0 = time.perf_counter()
        plan = extract_plan(
            solution_of(built, result.values), result.status.value, result.objective
        )
        t["extract"] = result.extract_seconds + time.perf_counter() - t0
        t0 = time.perf_counter()
        report = check_plan(plan)
        t["check"] = time.perf_counter() - t0
        assert report.ok, report.violations[:5]
        size["nonzeros"] = built.matrix.nnz
        size["scenarios"] = len(built.outcomes)
        run = RunResult(plan, report, result, {"kind": built.kind, **size}, {})
    else:
        run = run_scenario(loaded.scenario, options, decompose="on", executor=make_executor(jobs))
        for key in ("build", "handoff", "solve", "extract", "check"):
            t[key] = run.timings.get(key, 0.0)
        t["parts_wall"] = run.timings.get("parts_wall", 0.0)
        t["build"] += run.timings.get("parameters", 0.0)
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
    return {"objective": run.plan.objective, "status": run.plan.status, "seconds": t, **size}


def measure_direct(path: Path) -> dict:
    """The same LP built directly as arrays and passed to highspy (reference)."""
    from benchmarks.direct import solve_direct
    from optimizer.io.load import load_scenario
    from optimizer.model.parameters import build_parameters

    t0 = time.perf_counter()
    loaded = load_scenario(path)
    params = build_parameters(loaded.scenario)
    load = time.perf_counter() - t0
    out = solve_direct(params)
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
        choices=["pulp-highs", "pulp-highs-ipm", "pulp-cbc", "decomposed", "direct"],
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
            out = measure_direct(path)
        elif args.path == "decomposed":
            out = measure_product(path, "auto", "on", args.jobs)
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
