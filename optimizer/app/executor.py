"""One way to run independent jobs: in this process, in local processes, or on Dask.

Batches of scenarios (`run A.yaml B.yaml --jobs N`), the parts of a decomposed
model, and the points of compare, stress and frontier are independent solves;
they all go through `make_executor(jobs, scheduler).map(...)`, which returns
results in the order of the inputs, whatever order they finish in.

Local processes use the `spawn` start method: a process that has run HiGHS
hangs in HiGHS in children created by `fork`. They ignore the terminal's
SIGINT and SIGHUP (the parent stops them, and its solvers, itself) and run a
watchdog thread that ends the worker, its CBC and CBC's files as soon as the
parent is gone, even after a `kill -9` of the parent (issue 13: two workers
and their solves stayed for good, holding the caller's stderr open).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
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
        _quiet_resource_tracker()
        workers = min(self.jobs, len(items))
        results: list[Any] = [None] * len(items)
        progress = _progress(len(items), label)
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=ctx,
            initializer=worker_start,
            initargs=(os.getpid(),),
        ) as pool:
            futures: dict[Future[R], int] = {}
            try:
                with _signals_noted() as noted:
                    with _signals_blocked():  # workers start with them blocked (no traceback)
                        for i, item in enumerate(items):
                            futures[pool.submit(fn, item)] = i
                    if progress is not None:
                        progress.start()
                        task = progress.add_task(label, total=len(items))
                    pending = set(futures)
                    while pending:
                        _raise_noted(noted)
                        done, pending = wait(
                            pending, timeout=WAKE_SECONDS, return_when=FIRST_COMPLETED
                        )
                        for fut in sorted(done, key=futures.__getitem__):
                            results[futures[fut]] = fut.result()
                            if progress is not None:
                                progress.advance(task)
                    _raise_noted(noted)
            except BaseException:
                for fut in futures:
                    fut.cancel()
                _kill_workers(pool)
                raise
            finally:
                if progress is not None:
                    progress.stop()
        return results

WATCHDOG_SECONDS = 0.1  # how often a worker looks whether its parent is still there
WAKE_SECONDS = 0.05  # how often the parent looks for a signal while its workers run

_STOPPING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def _signals_blocked() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP back while workers are started (delivered after).

    A worker inherits the blocked set, so a Ctrl-C while it imports cannot
    print a KeyboardInterrupt traceback; `worker_start` then ignores SIGINT and
    SIGHUP and unblocks. The parent gets the signal as soon as the block ends.
    """
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPPING)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextlib.contextmanager
def _signals_noted() -> Iterator[list[int]]:
    """While workers run: SIGINT, SIGTERM and SIGHUP are only noted, and raised as
    `Interrupted` by the waiting loop (`_raise_noted`), between two waits.

    Raised where it lands, a signal can stop the pool's own locking halfway
    (inside `threading.Condition.__exit__`): the lock stays taken, the pool's
    thread waits for it for good, and the run never stops. The loop wakes every
    `WAKE_SECONDS`: the kernel may hand the signal to another thread (one of a
    native library's), and Python runs the handler only here.
    """
    noted: list[int] = []
    previous = {sig: signal.getsignal(sig) for sig in _STOPPING}
    for sig in _STOPPING:
        signal.signal(sig, lambda signum, _frame: noted.append(signum))
    try:
        yield noted
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _raise_noted(noted: list[int]) -> None:
    if noted:
        from optimizer.app.signals import Interrupted

        raise Interrupted(noted[0])


def _quiet_resource_tracker() -> None:
    """Start multiprocessing's resource tracker (once) with its stderr on /dev/null.

    It runs in our process group and prints a KeyError traceback when workers
    killed on Ctrl-C or `kill -9` leave its bookkeeping behind; the user gets
    one line from us instead. It still removes what the workers leave.
    """
    from multiprocessing import resource_tracker

    if getattr(resource_tracker._resource_tracker, "_fd", None) is not None:
        return  # already running
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        resource_tracker.ensure_running()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def worker_start(parent: int) -> None:
    """In each worker: leave signals to the parent, and die with it (a watchdog thread)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPPING)
    threading.Thread(target=_watch_parent, args=(parent,), name="watchdog", daemon=True).start()


def _watch_parent(parent: int) -> None:
    """End this worker, its solvers and their files once `parent` has gone."""
    while os.getppid() == parent:
        time.sleep(WATCHDOG_SECONDS)
    try:
        from optimizer.solve.cbc import kill_children, sweep_cbc_files

        kill_children()
        sweep_cbc_files([os.getpid()])
    finally:
        os._exit(1)


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    """Kill the pool's workers and everything they started (solvers), now.

    Leaving the `with` block waits for running tasks: a SIGINT or SIGTERM
    would otherwise wait for every solve in flight to finish (seen: 23 s).
    """
    from optimizer.common.processes import descendants
    from optimizer.solve.cbc import sweep_cbc_files

    workers = [p.pid for p in (getattr(pool, "_processes", None) or {}).values()]
    tree = [pid for w in workers for pid in descendants(w)]  # read before killing
    for pid in [*workers, *tree]:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    sweep_cbc_files(workers)  # the killed workers' CBC model and solution files

CONNECT_SECONDS = 5.0  # Dask's own default waits 30 s for a scheduler that is not there


class Dask:
    """A Dask distributed cluster at `address` (tcp://host:port)."""

    def __init__(self, address: str) -> None:
        self.address = address

    def check_reachable(self) -> None:
        """Refuse at once (exit 2) a scheduler address that nothing listens on."""
        if "://" in self.address and not self.address.startswith(("tcp://", "tls://")):
            return  # inproc://, ucx://...: left to Dask
        try:
            host, port = _host_port(self.address)
            socket.create_connection((host, port), timeout=CONNECT_SECONDS).close()
        except (OSError, ValueError) as exc:
            raise self.unreachable(exc) from None

    def unreachable(self, exc: BaseException) -> Exception:
        """The user error for a scheduler that cannot be reached."""
        from optimizer.common.errors import UserError
        from optimizer.common.safe_text import escape

        if isinstance(exc, (OSError, TimeoutError)):
            reason = getattr(exc, "strerror", None) or str(exc) or "timed out"
        else:  # it answered, but not as a scheduler does (or not at all in time)
            reason = "what answers there is not a Dask scheduler"
        return UserError(
            escape(f"--scheduler {self.address}: cannot reach a Dask scheduler there ({reason})")
        )

    def probe(self) -> None:
        """Ask the address who it is (Dask's `identity`): a scheduler, or exit 2 within seconds.

        Something else listening there (or a proxy that accepts any connection)
        once sent Dask a frame length of 3 EiB (MemoryError, exit 1) and left a
        half-made Client that took 10 s more to give up.
        """
        import asyncio

        from distributed.comm import connect

        async def identity() -> object:
            comm = await connect(self.address, timeout=CONNECT_SECONDS)
            try:
                await comm.write({"op": "identity", "reply": True})
                return await asyncio.wait_for(comm.read(), CONNECT_SECONDS)
            finally:
                comm.abort()

        try:
            answer = asyncio.run(identity())
        except Exception as exc:  # anything the other end does wrong
            raise self.unreachable(exc) from None
        if not isinstance(answer, dict) or answer.get("type") != "Scheduler":
            raise self.unreachable(ValueError(answer))

    def map(self, fn: Callable[[T], R], items: Sequence[T], label: str = "") -> list[R]:
        """Apply `fn` to every item on the cluster's workers."""
        self.check_reachable()  # before importing Dask, which takes seconds
        try:
            from distributed import Client
            from distributed import as_completed as dask_completed
        except ImportError as exc:  # pragma: no cover - depends on the install
            from optimizer.common.errors import UserError

            raise UserError("--scheduler needs Dask: pip install 'sourcing[dask]'") from exc
        self.probe()
        try:
            client = Client(self.address, set_as_default=False, timeout=CONNECT_SECONDS)
        except (OSError, TimeoutError, ValueError) as exc:
            raise self.unreachable(exc) from None
        with client:
            futures = client.map(fn, list(items), pure=False)
            progress = _progress(len(items), label)
            if progress is not None:
                with progress:
                    task = progress.add_task(label, total=len(items))
                    for _ in dask_completed(futures):
                        progress.advance(task)
            return list(client.gather(futures))


def _host_port(address: str) -> tuple[str, int]:
    """Host and port of `tcp://host:port` (or `host:port`); ValueError if it has none."""
    rest = address.split("://", 1)[1] if "://" in address else address
    host, sep, port = rest.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ValueError(f"expected tcp://host:port, got {address!r}")
    return host.strip("[]"), int(port)


def make_executor(jobs: int | None = None, scheduler: str | None = None) -> Executor:
    """The executor for `--jobs N` (0: one per core) or `--scheduler ADDRESS`."""
    if scheduler:
        return Dask(scheduler)
    if jobs is None or jobs == 1:
        return Serial()
    if jobs <= 0:
        jobs = os.cpu_count() or 1
    return Processes(jobs)
