"""One way to run independent jobs: in this process, in local processes, or on Dask.

Batches of scenarios (`run A.yaml B.yaml --jobs N`), the parts of a decomposed
model, and the points of compare, stress and frontier are independent solves;
they all go through `make_executor(jobs, scheduler).map(...)`, which returns
results in the order of the inputs, whatever order they finish in.

Local processes use the `spawn` start method: a process that has run HiGHS
hangs in HiGHS in children created by `fork`.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any, Protocol, TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Runs a function over items, returning results in the items' order."""

    def map(self, fn: Callable[[T], R], items: Sequence[T], label: str = "") -> list[R]:
        """Apply `fn` to every item."""
        ...


def _progress(total: int, label: str) -> Progress | None:
    console = Console(stderr=True)
    if total < 2 or not console.is_terminal:
        return None
    progress = Progress(
        TextColumn(label or "solving"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    return progress


class Serial:
    """Everything in this process, one after the other."""

    def map(self, fn: Callable[[T], R], items: Sequence[T], label: str = "") -> list[R]:
        """Apply `fn` to every item in turn."""
        progress = _progress(len(items), label)
        if progress is None:
            return [fn(item) for item in items]
        out = []
        with progress:
            task = progress.add_task(label, total=len(items))
            for item in items:
                out.append(fn(item))
                progress.advance(task)
        return out


class Processes:
    """Local worker processes (spawn), as many as `jobs`."""

    def __init__(self, jobs: int) -> None:
        self.jobs = max(1, jobs)

    def map(self, fn: Callable[[T], R], items: Sequence[T], label: str = "") -> list[R]:
        """Apply `fn` to every item in worker processes."""
        if self.jobs == 1 or len(items) < 2:
            return Serial().map(fn, items, label)
        ctx = multiprocessing.get_context("spawn")
        workers = min(self.jobs, len(items))
        results: list[Any] = [None] * len(items)
        progress = _progress(len(items), label)
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures: dict[Future[R], int] = {
                pool.submit(fn, item): i for i, item in enumerate(items)
            }
            if progress is not None:
                progress.start()
                task = progress.add_task(label, total=len(items))
            try:
                for fut in as_completed(futures):
                    results[futures[fut]] = fut.result()
                    if progress is not None:
                        progress.advance(task)
            except BaseException:
                for fut in futures:
                    fut.cancel()
                _kill_workers(pool)
                raise
            finally:
                if progress is not None:
                    progress.stop()
        return results


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    """Kill the pool's workers and everything they started (solvers), now.

    Leaving the `with` block waits for running tasks: a SIGINT or SIGTERM
    would otherwise wait for every solve in flight to finish (seen: 23 s).
    """
    from optimizer.interrupt import descendants
    from optimizer.solving import sweep_cbc_files

    workers = [p.pid for p in (getattr(pool, "_processes", None) or {}).values()]
    tree = [pid for w in workers for pid in descendants(w)]  # read before killing
    for pid in [*workers, *tree]:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    sweep_cbc_files(workers)  # the killed workers' CBC model and solution files


class Dask:
    """A Dask distributed cluster at `address` (tcp://host:port)."""

    def __init__(self, address: str) -> None:
        self.address = address

    def map(self, fn: Callable[[T], R], items: Sequence[T], label: str = "") -> list[R]:
        """Apply `fn` to every item on the cluster's workers."""
        try:
            from distributed import Client
            from distributed import as_completed as dask_completed
        except ImportError as exc:  # pragma: no cover - depends on the install
            from optimizer.errors import UserError

            raise UserError("--scheduler needs Dask: pip install 'sourcing[dask]'") from exc
        with Client(self.address, set_as_default=False) as client:
            futures = client.map(fn, list(items), pure=False)
            progress = _progress(len(items), label)
            if progress is not None:
                with progress:
                    task = progress.add_task(label, total=len(items))
                    for _ in dask_completed(futures):
                        progress.advance(task)
            return list(client.gather(futures))


def make_executor(jobs: int | None = None, scheduler: str | None = None) -> Executor:
    """The executor for `--jobs N` (0: one per core) or `--scheduler ADDRESS`."""
    if scheduler:
        return Dask(scheduler)
    if jobs is None or jobs == 1:
        return Serial()
    if jobs <= 0:
        jobs = os.cpu_count() or 1
    return Processes(jobs)
