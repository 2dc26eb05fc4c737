"""Benchmarks: timings per phase, modelling overhead, solver choice, robust plans, batches.

Every measurement runs in a fresh process (`benchmarks/measure.py`), so that
peak memory belongs to one path. Suites:

  overhead  two-stage cases from ~0.25M to ~2M non-zeros: the product's whole run
            against the same model built as arrays and passed straight to highspy
  solvers   HiGHS simplex, HiGHS interior point and CBC on deterministic, MILP
            and two-stage cases: the numbers behind the default solver per class
  robust    10 materials x 30 suppliers x 12 periods, 1,000 sampled scenarios:
            decomposed (1 and 2 processes) against the monolithic LP
  batch     20 medium scenario files: `sourcing run ... --jobs 2` against one by one

    python benchmarks/run.py --suite all            # everything (about 20 minutes)
    python benchmarks/run.py --suite overhead --quick
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PHASES = ("load", "build", "handoff", "solve", "extract", "check", "write")


def measure(
    case: dict[str, Any],
    path: str,
    jobs: int = 1,
    timeout: float = 3600,
    complement: list[list[int]] | None = None,
) -> dict:
    """Run one measurement in a fresh process and return its JSON."""
    cmd = [
        PY,
        str(ROOT / "benchmarks" / "measure.py"),
        "--case",
        json.dumps(case),
        "--path",
        path,
        "--jobs",
        str(jobs),
        "--complement",
        json.dumps(complement or []),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if res.returncode != 0:
        raise RuntimeError(f"{path} on {case} failed:\n{res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def _fmt(v: float) -> str:
    return f"{v:.2f}" if v < 100 else f"{v:.0f}"


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = [_row(header), _row(["---"] * len(header))]
    lines += [_row(r) for r in rows]
    return "\n".join(lines)


def fit_exponent(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log(y) against log(x): time ~ nnz^b."""
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y > 0]
    n = len(pts)
    mx = sum(p[0] for p in pts) / n
    my = sum(p[1] for p in pts) / n
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    sxy = sum((p[0] - mx) * (p[1] - my) for p in pts)
    return sxy / sxx


# --- suites -----------------------------------------------------------------------------


def suite_overhead(quick: bool) -> tuple[str, dict]:
    """The product's whole run against the direct-highspy reference on the same model."""
    events = [4, 6] if quick else [6, 8, 9]
    rows, raw = [], []
    for e in events:
        case = {"materials": 10, "suppliers": 30, "periods": 12, "events": e, "seed": 1}
        prod = measure(case, "pulp-highs")
        ref = measure(case, "direct", complement=prod["complement"])
        default = measure(case, "default")
        s, r = prod["seconds"], ref["seconds"]
        ref_wall = sum(r[k] for k in ("load", "build", "handoff", "solve", "extract"))
        modelling = s["load"] + s["parameters"] + s["build"] + s["handoff"] + s["extract"]
        rel = abs(prod["objective"] - ref["objective"]) / max(1.0, abs(ref["objective"]))
        rel_default = abs(default["objective"] - ref["objective"]) / max(
            1.0, abs(ref["objective"])
        )
        raw.append({"case": case, "product": prod, "direct": ref, "default": default})
        rows.append(
            [
                f"{2**e}",
                f"{prod['nonzeros']:,}",
                f"{prod['binaries']}",
                _fmt(s["load"] + s["parameters"]),
                _fmt(s["build"]),
                _fmt(s["handoff"]),
                _fmt(s["solve"]),
                _fmt(s["extract"] + s["check"]),
                _fmt(s["prices"]),
                _fmt(s["write"]),
                _fmt(prod["wall"]),
                _fmt(r["load"] + r["build"] + r["handoff"]),
                _fmt(r["solve"]),
                _fmt(ref_wall),
                f"{prod['wall'] / ref_wall:.2f}x",
                f"{modelling / ref_wall:.2f}x",
                f"{prod['peak_rss_mib']:.0f} / {ref['peak_rss_mib']:.0f}"
                f" = {prod['peak_rss_mib'] / ref['peak_rss_mib']:.2f}x",
                f"{_fmt(default['wall'])} s, {default['peak_rss_mib']:.0f} MiB"
                f" ({default['wall'] / ref_wall:.2f}x, "
                f"{default['peak_rss_mib'] / ref['peak_rss_mib']:.2f}x)",
                f"{rel:.1e} / {rel_default:.1e}",
            ]
        )
    nnz = [float(x["product"]["nonzeros"]) for x in raw]
    build = [x["product"]["seconds"]["build"] for x in raw]
    exponent = fit_exponent(nnz, build)
    header = [
        "scenarios",
        "nonzeros",
        "stock-first binaries",
        "load",
        "build",
        "hand-off",
        "solve",
        "extract + check",
        "shadow prices",
        "write",
        "whole run",
        "direct: load + build + hand-off",
        "direct: solve",
        "direct: whole",
        "whole run / direct",
        "modelling / direct",
        "peak MiB, run / direct",
        "default run (`--decompose auto`)",
        "objective diff (off / default)",
    ]
    text = _table(header, rows) + (
        f"\n\nBuild time ~ nnz^{exponent:.2f} over {min(nnz):,.0f}-{max(nnz):,.0f} non-zeros "
        "(least squares on log-log). Whole run: `sourcing run --decompose off --out` in "
        "process (load to files written, shadow prices included); direct: the same model "
        "(with the run's stock-before-shortage binaries) built as arrays, one passModel, "
        "solve, values read; modelling = load + build + hand-off + extract (what the "
        "reference does too, at its cost)."
    )
    return text, {"rows": raw, "build_exponent": exponent}


def suite_solvers(quick: bool) -> tuple[str, dict]:
    """HiGHS simplex, HiGHS IPM and CBC per model class."""
    classes = {
        "deterministic LP": {"materials": 20, "suppliers": 120, "periods": 52, "seed": 2},
        "deterministic LP, dense": {
            "materials": 20,
            "suppliers": 100,
            "periods": 52,
            "seed": 2,
            "dense": True,
        },
        "two-stage LP": {"materials": 10, "suppliers": 30, "periods": 12, "events": 6, "seed": 3},
        "MILP": {"materials": 6, "suppliers": 20, "periods": 12, "milp": True, "seed": 4},
    }
    if quick:
        classes["deterministic LP"] = {"materials": 10, "suppliers": 60, "periods": 26, "seed": 2}
        classes.pop("deterministic LP, dense")
    rows, raw = [], []
    for label, case in classes.items():
        results = {}
        for path in ("pulp-highs", "pulp-highs-ipm", "pulp-cbc"):
            if path == "pulp-highs-ipm" and case.get("milp"):
                continue
            try:
                results[path] = measure(case, path, timeout=1800)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                results[path] = {"error": str(exc)[:200]}
        raw.append({"class": label, "case": case, "results": results})
        nnz = next((r["nonzeros"] for r in results.values() if "nonzeros" in r), 0)
        cells = []
        for path in ("pulp-highs", "pulp-highs-ipm", "pulp-cbc"):
            r = results.get(path)
            if r is None:
                cells.append("-")
            elif "error" in r:
                cells.append("failed")
            else:
                s = r["seconds"]
                cells.append(f"{_fmt(s['solve'])} (+{_fmt(s['handoff'])} hand-off)")
        rows.append([label, f"{nnz:,}", *cells])
    header = ["class", "nonzeros", "HiGHS simplex: solve (s)", "HiGHS IPM", "CBC"]
    return _table(header, rows), {"rows": raw}


def suite_robust(quick: bool) -> tuple[str, dict]:
    """Robust plan over 1,000 sampled scenarios: decomposed against monolithic."""
    samples = 200 if quick else 1000
    case = {
        "materials": 10,
        "suppliers": 30,
        "periods": 12,
        "events": 20,
        "samples": samples,
        "seed": 1,
    }
    runs = {
        "decomposed, 1 process": measure(case, "decomposed", jobs=1),
        "decomposed, 2 processes": measure(case, "decomposed", jobs=2),
        "monolithic, HiGHS": measure(case, "pulp-highs"),
        "monolithic, CBC": measure(case, "pulp-cbc"),
    }
    base = runs["monolithic, HiGHS"]
    rows = []
    for label, r in runs.items():
        rel = abs(r["objective"] - base["objective"]) / abs(base["objective"])
        rows.append(
            [
                label,
                f"{r['nonzeros']:,}",
                r.get("merged_scenarios", r["scenarios"]),
                _fmt(r["wall"]),
                f"{base['wall'] / r['wall']:.1f}x",
                f"{rel:.1e}",
            ]
        )
    header = ["method", "nonzeros", "scenarios solved", "wall (s)", "speed-up", "objective diff"]
    note = (
        f"\n\n{samples} draws of 20 independent events "
        f"({base['scenarios']} distinct joint outcomes)."
    )
    return _table(header, rows) + note, {"runs": runs}


def suite_batch(quick: bool) -> tuple[str, dict]:
    """20 medium scenarios: sequential against `--jobs 2`."""
    import yaml

    sys.path.insert(0, str(ROOT))
    from benchmarks.generate import generate

    n = 6 if quick else 20
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i in range(n):  # medium: 10 materials, 30 suppliers, 128 scenarios (~500k nnz)
            data = generate(10, 30, 12, 7, None, seed=100 + i)
            path = Path(tmp) / f"case{i:02d}.yaml"
            path.write_text(yaml.safe_dump(data, sort_keys=False))
            files.append(str(path))
        sourcing = [PY, "-m", "optimizer", "run", *files, "--json"]
        walls, outputs = {}, {}
        for jobs in (1, 2):
            t0 = time.perf_counter()
            res = subprocess.run(
                [*sourcing, "--jobs", str(jobs)],
                capture_output=True,
                text=True,
                cwd=ROOT,
                timeout=3600,
            )
            walls[jobs] = time.perf_counter() - t0
            if res.returncode != 0:
                raise RuntimeError(res.stderr[-2000:])
            docs = json.loads(res.stdout)
            outputs[jobs] = [(d["scenario"], d["objective"]) for d in docs]
    same = outputs[1] == outputs[2]
    machine = _machine_speedup()
    rows = [
        [
            n,
            _fmt(walls[1]),
            _fmt(walls[2]),
            f"{walls[1] / walls[2]:.2f}x",
            f"{machine:.2f}x",
            "yes" if same else "NO",
        ]
    ]
    header = [
        "files",
        "one by one (s)",
        "--jobs 2 (s)",
        "speed-up",
        "machine: 2 busy processes",
        "same objectives",
    ]
    note = (
        "\n\nThe last speed-up is this machine's own for plain CPU work (two processes "
        "counting, against one): what two cores give here, the ceiling of any batch."
    )
    return _table(header, rows) + note, {"walls": walls, "same": same, "machine": machine}


def _count(_: int) -> int:
    total = 0
    for i in range(15_000_000):
        total += i
    return total


def _machine_speedup() -> float:
    """Speed-up of two spawned processes over one on pure CPU work (the machine's ceiling)."""
    import multiprocessing

    t0 = time.perf_counter()
    for i in range(4):
        _count(i)
    serial = time.perf_counter() - t0
    t0 = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.map(_count, range(4))
    return serial / (time.perf_counter() - t0)


SUITES = {
    "overhead": suite_overhead,
    "solvers": suite_solvers,
    "robust": suite_robust,
    "batch": suite_batch,
}


def main() -> None:
    """Run the chosen suites and print their tables (markdown)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="all", choices=[*SUITES, "all"])
    ap.add_argument("--quick", action="store_true", help="smaller cases, for a first look")
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    args = ap.parse_args()
    names = list(SUITES) if args.suite == "all" else [args.suite]
    raw = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}
    for name in names:
        t0 = time.perf_counter()
        text, data = SUITES[name](args.quick)
        raw[name] = data
        print(f"## {name} ({time.perf_counter() - t0:.0f} s)\n\n{text}\n", flush=True)
    if args.json:
        args.json.write_text(json.dumps(raw, indent=2, default=str))


if __name__ == "__main__":
    main()
