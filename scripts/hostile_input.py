"""Time and memory to refuse hostile files just under the 32 MB size cap (issue 13).

    .venv/bin/python scripts/hostile_input.py [--repeat 3] [--shapes flow_list,...]

Writes each hostile file into a temporary folder, then runs `sourcing
validate FILE` in a fresh process per repeat and prints, per shape, the exit
code, the wall-clock and CPU seconds and the peak resident memory of that
process (median of the repeats), and the first line of its message. Before
issue 13 the 16-million-item list took 196 s and 4.4 GB before it was refused.

Shapes:
- flow_list: `demand: [1,1,1,...]`, 16 million items on one line;
- block_list: the same as a block list, one `- 1` per line (3.3 million);
- many_keys: a mapping of 3 million suppliers;
- long_number: one integer of 32 million digits;
- many_lists: lists of 9,999 items each (under the list cap), up to the values cap;
- many_maps: mappings of 50 keys each (under every other cap), up to the values cap.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CAP = 32 * 1024 * 1024 - 256  # just under the size cap
HEAD = "name: h\nhorizon: {periods: 12}\nmaterials:\n  m:\n    shortage_cost: 1\n    demand: "


def flow_list() -> bytes:
    n = (CAP - len(HEAD)) // 2
    return (HEAD + "[" + "1," * (n - 1) + "1]\n").encode()


def block_list() -> bytes:
    n = (CAP - len(HEAD)) // 10
    return (HEAD + "\n" + "      - 1\n" * n).encode()


def many_keys() -> bytes:
    lines, size, k = ["name: h", "suppliers:"], 0, 0
    while size < CAP - 100:
        line = f"  s{k}: 1"
        lines.append(line)
        size += len(line) + 1
        k += 1
    return ("\n".join(lines) + "\n").encode()


def long_number() -> bytes:
    return (HEAD + "1" * (CAP - len(HEAD) - 1) + "\n").encode()


def many_lists() -> bytes:
    row = "[" + ",".join(["1"] * 9999) + "]"
    lines, size, k = ["name: h", "x:"], 0, 0
    while size < CAP - 30_000:
        line = f"  k{k}: {row}"
        lines.append(line)
        size += len(line) + 1
        k += 1
    return ("\n".join(lines) + "\n").encode()


def many_maps() -> bytes:
    lines, size, k = ["name: h", "x:"], 0, 0
    while size < CAP - 2000:
        line = f"  g{k}: {{" + ", ".join(f"a{i}: {i}" for i in range(50)) + "}"
        lines.append(line)
        size += len(line) + 1
        k += 1
    return ("\n".join(lines) + "\n").encode()


SHAPES: dict[str, Callable[[], bytes]] = {
    "flow_list": flow_list,
    "block_list": block_list,
    "many_keys": many_keys,
    "long_number": long_number,
    "many_lists": many_lists,
    "many_maps": many_maps,
}


# `python -m optimizer ARGS` that writes its peak resident memory (VmHWM, kB) to PEAK_FILE
# when it exits. ru_maxrss of a child is no good here: a child started by vfork or fork
# starts with its parent's peak (the parent held the 32 MB file).
PEAK_WRAPPER = """
import atexit, os, runpy, sys
def peak():
    with open("/proc/self/status") as fh:
        kb = next(line.split()[1] for line in fh if line.startswith("VmHWM:"))
    with open(os.environ["PEAK_FILE"], "w") as out:
        out.write(kb)
atexit.register(peak)
sys.argv = ["sourcing", *sys.argv[1:]]
runpy.run_module("optimizer", run_name="__main__")
"""


def measure(path: Path, command: str = "validate") -> tuple[int, float, float, float, str]:
    """(exit code, wall s, CPU s, peak MB, first line of stderr) of `sourcing COMMAND PATH`."""
    err, peak = path.with_suffix(".err"), path.with_suffix(".peak")
    t0 = time.perf_counter()
    with err.open("wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-c", PEAK_WRAPPER, command, str(path)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=fh,
            env={**os.environ, "PEAK_FILE": str(peak)},
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    message = err.read_text(errors="replace").splitlines()[:1]
    return (
        proc.returncode,
        wall,
        usage.ru_utime + usage.ru_stime,
        int(peak.read_text()) / 1024,
        message[0] if message else "",
    )


def main() -> None:
    """Write each shape, refuse it `--repeat` times, print the medians."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--shapes", default=",".join(SHAPES))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sourcing-hostile-") as tmp:
        head = ("shape", "MB", "exit", "wall s", "CPU s", "peak MB")
        print("{:12} {:>5} {:>4} {:>7} {:>6} {:>8}  message".format(*head))
        for name in args.shapes.split(","):
            path = Path(tmp) / f"{name}.yaml"
            path.write_bytes(SHAPES[name]())
            runs = [measure(path) for _ in range(args.repeat)]
            code = runs[0][0]
            wall = statistics.median(r[1] for r in runs)
            cpu = statistics.median(r[2] for r in runs)
            peak = statistics.median(r[3] for r in runs)
            size = path.stat().st_size / 2**20
            shown = runs[0][4].replace(str(path), name)[:110]
            print(f"{name:12} {size:5.1f} {code:4d} {wall:7.2f} {cpu:6.2f} {peak:8.0f}  {shown}")
            path.unlink()


if __name__ == "__main__":
    main()
