"""Scenario decomposition (issue 16): figures side by side with the monolithic solve.

Each run is a fresh `python -m optimizer run FILE --json --out DIR` process (the
whole run: load, build, solve, plan, independent check, files written); wall
time and peak memory are those of the process with all its children (worker
processes, CBC), and of the Dask workers when a cluster is used, sampled every
0.1 s with psutil (RSS, summed over the processes alive at each sample).

Cases (benchmarks/generate.py, options as on its command line):

  cvar1024   --materials 10 --suppliers 30 --periods 12 --events 10 --seed 1 --cvar
             1,024 enumerated outcomes of 10 independent risks, CVaR at alpha 0.9
  sampled10k --materials 10 --suppliers 30 --periods 12 --events 20 --samples 10000
             --seed 1 --cvar: 10,000 draws of 20 independent risks, CVaR at alpha 0.9

Runs per case: monolithic (`--decompose off`, stopped at --limit seconds and
reported as ">limit"), the material split (`--decompose material`), Benders
in this process, with `--jobs 2`, and on a Dask LocalCluster of 2 workers.

    python benchmarks/decomposition.py --case cvar1024 --limit 900
    python benchmarks/decomposition.py --case sampled10k --skip-monolithic
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASES = {
    "cvar1024": {
        "materials": 10,
        "suppliers": 30,
        "periods": 12,
        "events": 10,
        "seed": 1,
        "cvar": True,
    },
    "sampled10k": {
        "materials": 10,
        "suppliers": 30,
        "periods": 12,
        "events": 20,
        "samples": 10000,
        "seed": 1,
        "cvar": True,
    },
}


class PeakMemory:
    """Peak RSS (MiB) of a process and its descendants, plus extra processes, sampled."""

    def __init__(self, pid: int, extra: list[int] | None = None, every: float = 0.1) -> None:
        import psutil

        self.psutil = psutil
        self.root = psutil.Process(pid)
        self.extra = [psutil.Process(p) for p in (extra or [])]
        self.every = every
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> float:
        procs = list(self.extra)
        with contextlib.suppress(self.psutil.Error):
            procs += [self.root, *self.root.children(recursive=True)]
        total = 0
        for proc in procs:
            try:
                total += proc.memory_info().rss
            except self.psutil.Error:
                continue
        return total / 2**20

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self.every)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_cli(path: Path, args: list[str], extra_pids: list[int], timeout: float) -> dict[str, Any]:
    """One whole run in a fresh process: wall, peak memory (tree), exit code, summary."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "optimizer", "run", str(path), "--json", "--out", str(out)]
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [*cmd, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        with PeakMemory(proc.pid, extra_pids) as mem:
            try:
                stdout, stderr = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                stdout, stderr = proc.communicate()
        wall = time.perf_counter() - t0
    result: dict[str, Any] = {
        "args": args,
        "exit": proc.returncode,
        "wall": wall,
        "peak_mib": mem.peak,
    }
    if proc.returncode == 0:
        doc = json.loads(stdout)
        result.update(
            objective=doc["objective"],
            status=doc["status"],
            timings=doc["solver"]["timings"],
            model=doc["model"],
            message=doc["solver"]["message"],
        )
    else:
        result["stderr"] = stderr[-2000:]
    return result


def _machine() -> dict[str, Any]:
    load = os.getloadavg()
    return {"cpus": os.cpu_count(), "load_1_5_15": [round(x, 2) for x in load]}


def _fmt(r: dict[str, Any], limit: float) -> tuple[str, str]:
    if r["exit"] == 4 or (r["exit"] != 0 and r["wall"] >= limit):
        return f">{limit:.0f}", "-"
    if r["exit"] != 0:
        return "failed", "-"
    return f"{r['wall']:.1f}", f"{r['objective']:.10g}"


def main() -> None:
    """Run the chosen case and print a markdown table (raw results with --json)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", choices=sorted(CASES), default="cvar1024")
    ap.add_argument("--limit", type=float, default=900.0, help="monolithic time limit (s)")
    ap.add_argument("--skip-monolithic", action="store_true")
    ap.add_argument("--skip-dask", action="store_true")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each Benders variant")
    ap.add_argument("--json", type=Path, help="write the raw results here")
    args = ap.parse_args()

    import yaml

    from benchmarks.generate import generate

    spec = CASES[args.case]
    results: dict[str, list[dict[str, Any]]] = {}
    machine = {"before": _machine()}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{args.case}.yaml"
        path.write_text(yaml.safe_dump(generate(**spec), sort_keys=False))
        runs: list[tuple[str, list[str]]] = [
            ("Benders, 1 process", ["--decompose", "benders"]),
            ("Benders, --jobs 2", ["--decompose", "benders", "--jobs", "2"]),
        ]
        for label, extra in runs:
            results[label] = [run_cli(path, extra, [], 3600) for _ in range(max(1, args.repeat))]
        if not args.skip_dask:
            from distributed import LocalCluster

            with LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster:
                pids = [w.pid for w in cluster.workers.values() if getattr(w, "pid", None)]
                label = "Benders, Dask LocalCluster (2 workers)"
                results[label] = [
                    run_cli(
                        path,
                        ["--decompose", "benders", "--scheduler", cluster.scheduler_address],
                        pids,
                        3600,
                    )
                    for _ in range(max(1, args.repeat))
                ]
        if not args.skip_monolithic:
            results["monolithic (--decompose off)"] = [
                run_cli(
                    path,
                    ["--decompose", "off", "--time-limit", f"{args.limit:g}"],
                    [],
                    args.limit * 1.5 + 120,
                )
            ]
    machine["after"] = _machine()
    reference = next(
        (r[0] for k, r in results.items() if k.startswith("monolithic") and r[0]["exit"] == 0),
        None,
    )
    serial = results["Benders, 1 process"]
    serial_wall = sorted(r["wall"] for r in serial)[len(serial) // 2]
    rows = []
    for label, rs in results.items():
        walls = sorted(r["wall"] for r in rs)
        r = rs[len(rs) // 2] if rs[0]["exit"] == 0 else rs[0]
        wall, objective = _fmt(r, args.limit)
        if len(rs) > 1 and r["exit"] == 0:
            wall = f"{walls[len(walls) // 2]:.1f} ({', '.join(f'{w:.1f}' for w in walls)})"
        diff = "-"
        if reference is not None and r["exit"] == 0:
            rel = abs(r["objective"] - reference["objective"]) / abs(reference["objective"])
            diff = f"{rel:.1e}"
        speed = (
            f"{serial_wall / walls[len(walls) // 2]:.2f}x"
            if r["exit"] == 0 and label.startswith("Benders")
            else "-"
        )
        b = (r.get("model") or {}).get("benders") or {}
        detail = (
            f"{b['rounds']} rounds, {b['subproblems']:,} subproblems, gap {b['gap']:.1e}"
            if b
            else ""
        )
        rows.append(
            [
                label,
                wall,
                f"{r['peak_mib']:.0f}",
                objective,
                diff,
                speed,
                r.get("status", ""),
                detail,
            ]
        )
    header = [
        "method",
        "wall (s)",
        "peak MiB (tree)",
        "objective",
        "vs monolithic",
        "speed-up vs 1 process",
        "status",
        "decomposition",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    print(f"case {args.case}: {spec}; machine {machine}")
    print("\n".join(lines))
    if args.json:
        args.json.write_text(
            json.dumps({"case": spec, "machine": machine, "results": results}, indent=2)
        )


if __name__ == "__main__":
    main()
