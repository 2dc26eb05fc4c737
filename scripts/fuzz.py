"""Long fuzzing run of `sourcing run` on damaged scenario files (issue 8).

    .venv/bin/python scripts/fuzz.py --cases 10000 --jobs 2

Each case is a seeded mutation of a valid scenario (tests/fuzzing.py): case
N is `RandomChooser(N)`, so `--first N --cases 1 -v` replays it. One case in
four also writes the run folder with the workbook (`--out --excel`). The command
line runs in-process (typer's CliRunner), in `spawn` worker processes. A case
passes when it ends with exit 0, 2 or 3, no traceback, and an error message
that names the file. Prints the count per exit code, the slowest cases and
every failure; exits 1 if any case failed.
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASE_TIMEOUT = 120  # seconds; a case that takes longer is a failure


class CaseTimeout(BaseException):
    """A case ran longer than CASE_TIMEOUT."""


def _alarm(_signum: int, _frame: FrameType | None) -> None:
    raise CaseTimeout


_WORKDIR: Path | None = None


def _init() -> None:
    global _WORKDIR
    from tests.fuzzing import prepare

    _WORKDIR = Path(tempfile.mkdtemp(prefix="sourcing-fuzz-"))
    prepare(_WORKDIR)
    signal.signal(signal.SIGALRM, _alarm)


def run_case(n: int) -> tuple[int, int, float, str | None]:
    """Case n: (n, exit code, seconds, failure or None)."""
    from typer.testing import CliRunner

    from optimizer.cli import app
    from tests.fuzzing import SEED_FILES, RandomChooser, run_args, verdict, write_case

    if _WORKDIR is None:
        _init()
    assert _WORKDIR is not None
    chooser = RandomChooser(n)
    seed = chooser.pick(SEED_FILES)
    path = write_case(_WORKDIR, seed, chooser)
    t0 = time.perf_counter()
    signal.alarm(CASE_TIMEOUT)
    try:
        res = CliRunner().invoke(app, run_args(path, chooser))
    except CaseTimeout:
        return n, -1, time.perf_counter() - t0, f"timeout after {CASE_TIMEOUT} s ({seed.name})"
    finally:
        signal.alarm(0)
    seconds = time.perf_counter() - t0
    output = res.stdout + res.stderr
    problem = verdict(path, res.exit_code, output, res.exception)
    return n, res.exit_code, seconds, None if problem is None else f"{seed.name}: {problem}"


def main() -> None:
    """Run the cases and print the tally."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--first", type=int, default=0, help="number of the first case")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("-v", "--verbose", action="store_true", help="print every case")
    args = ap.parse_args()
    cases = range(args.first, args.first + args.cases)
    t0 = time.perf_counter()
    counts: collections.Counter[int] = collections.Counter()
    failures: list[tuple[int, str]] = []
    slowest: list[tuple[float, int]] = []
    results: Any
    if args.jobs > 1:
        ctx = multiprocessing.get_context("spawn")
        pool = ctx.Pool(args.jobs, initializer=_init, maxtasksperchild=500)
        results = pool.imap_unordered(run_case, cases, chunksize=8)
    else:
        _init()
        pool = None
        results = map(run_case, cases)
    for done, (n, code, seconds, problem) in enumerate(results, 1):
        counts[code] += 1
        slowest = sorted([*slowest, (seconds, n)], reverse=True)[:5]
        if problem is not None:
            failures.append((n, problem))
            print(f"FAIL case {n}: {problem}", flush=True)
        elif args.verbose:
            print(f"case {n}: exit {code} in {seconds:.2f} s", flush=True)
        if done % 1000 == 0:
            print(f"{done} cases, {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    if pool is not None:
        pool.close()
        pool.join()
    wall = time.perf_counter() - t0
    total = sum(counts.values())
    print(f"{total} cases in {wall:.0f} s ({args.jobs} jobs)")
    for code in sorted(counts):
        print(f"  exit {code}: {counts[code]}")
    print("  slowest: " + ", ".join(f"case {n} {s:.2f} s" for s, n in slowest))
    print(f"  failures: {len(failures)}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
