"""Where the recourse chunks of the scenario decomposition live: this process, local
worker processes (`--jobs N`, spawn) or the workers of a Dask cluster (`--scheduler`).

Each worker builds its chunks once and keeps them (and their HiGHS instances)
between rounds; a round broadcasts the plan and gathers the answers.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Callable
from typing import Any

import numpy as np

from optimizer.common.errors import InternalError
from optimizer.model.benders_blocks import ChunkSpec
from optimizer.solve.benders_chunks import ChunkAnswer, Chunks

Plans = dict[int, tuple[np.ndarray, np.ndarray]]


def _worker_main(conn: Any) -> None:
    """A local worker process: builds its chunks, then answers commands until told to stop."""
    chunks: Chunks | None = None
    while True:
        try:
            command, arg = conn.recv()
        except EOFError:
            return
        try:
            if command == "build":
                chunks = Chunks(arg)
                conn.send(("ok", chunks.sizes()))
            elif command == "solve":
                assert chunks is not None
                conn.send(("ok", chunks.solve(arg)))
            elif command == "solution":
                assert chunks is not None
                conn.send(("ok", chunks.solution()))
            else:
                conn.send(("ok", None))
                return
        except BaseException as exc:  # sent back, raised in the master
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


class Pool:
    """Chunks of subproblems spread over workers: `solve` broadcasts a plan, gathers answers."""

    workers = 1

    def start(self, groups: list[list[ChunkSpec]]) -> tuple[int, int, int]:
        """Build the chunks where they will be solved; their columns, rows, non-zeros."""
        raise NotImplementedError

    def solve(self, plans: Plans) -> list[ChunkAnswer]:
        raise NotImplementedError

    def solution(self) -> dict[int, tuple[np.ndarray, ...]]:
        raise NotImplementedError

    def close(self) -> None:
        """Stop the workers."""


class InProcess(Pool):
    """Every chunk in this process."""

    def start(self, groups: list[list[ChunkSpec]]) -> tuple[int, int, int]:
        self.chunks = Chunks([s for g in groups for s in g])
        return self.chunks.sizes()

    def solve(self, plans: Plans) -> list[ChunkAnswer]:
        return self.chunks.solve(plans)

    def solution(self) -> dict[int, tuple[np.ndarray, ...]]:
        return self.chunks.solution()


class LocalProcesses(Pool):
    """Worker processes (spawn start method, as the executor's), each keeping its chunks."""

    def __init__(self, jobs: int) -> None:
        self.workers = max(1, jobs)
        self.procs: list[Any] = []
        self.conns: list[Any] = []

    def start(self, groups: list[list[ChunkSpec]]) -> tuple[int, int, int]:
        ctx = multiprocessing.get_context("spawn")
        for group in groups:
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=_worker_main, args=(theirs,), daemon=True)
            proc.start()
            theirs.close()
            self.procs.append(proc)
            self.conns.append(ours)
            ours.send(("build", group))
        return _total(self._gather())

    def _gather(self) -> list[Any]:
        out = []
        for conn in self.conns:
            try:
                kind, value = conn.recv()
            except EOFError:
                raise InternalError("a subproblem worker process died") from None
            if kind == "error":
                raise InternalError(f"a subproblem worker failed: {value}")
            out.append(value)
        return out

    def solve(self, plans: Plans) -> list[ChunkAnswer]:
        for conn in self.conns:
            conn.send(("solve", plans))
        return [a for answers in self._gather() for a in answers]

    def solution(self) -> dict[int, tuple[np.ndarray, ...]]:
        for conn in self.conns:
            conn.send(("solution", None))
        out: dict[int, tuple[np.ndarray, ...]] = {}
        for part in self._gather():
            out.update(part)
        return out

    def close(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(OSError, BrokenPipeError):
                conn.send(("stop", None))
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()
        self.procs, self.conns = [], []


_HELD: dict[str, Chunks] = {}  # chunks held by this process for a Dask client, by token


def _dask_build(token: str, specs: list[ChunkSpec]) -> tuple[int, int, int]:
    _HELD[token] = Chunks(specs)
    return _HELD[token].sizes()


def _dask_solve(token: str, plans: Plans) -> list[ChunkAnswer]:
    return _HELD[token].solve(plans)


def _dask_solution(token: str) -> dict[int, tuple[np.ndarray, ...]]:
    return _HELD[token].solution()


def _dask_drop(token: str) -> None:
    _HELD.pop(token, None)


class DaskActors(Pool):
    """Chunks held by the workers of a Dask cluster: each worker builds its share once and
    keeps it between rounds; every round's tasks are pinned to the worker that holds
    their chunks."""

    def __init__(self, address: str) -> None:
        import uuid

        from distributed import Client

        from optimizer.app.executor import CONNECT_SECONDS

        self.client = Client(address, set_as_default=False, timeout=CONNECT_SECONDS)
        self.names = sorted(self.client.scheduler_info()["workers"])
        self.workers = max(1, len(self.names))
        self.token = uuid.uuid4().hex
        self.used: list[str] = []

    def _gather(self, futures: list[Any]) -> list[Any]:
        try:
            return list(self.client.gather(futures))
        except Exception as exc:
            raise InternalError(f"a subproblem task on the Dask cluster failed: {exc}") from exc

    def _on_each(self, fn: Callable[..., Any], *args: Any) -> list[Any]:
        return self._gather(
            [
                self.client.submit(
                    fn, self.token, *args, workers=[w], allow_other_workers=False, pure=False
                )
                for w in self.used
            ]
        )

    def start(self, groups: list[list[ChunkSpec]]) -> tuple[int, int, int]:
        self.used = [self.names[i % len(self.names)] for i in range(len(groups))]
        futures = [
            self.client.submit(
                _dask_build, self.token, group, workers=[w], allow_other_workers=False,
                pure=False,
            )
            for w, group in zip(self.used, groups, strict=True)
        ]  # fmt: skip
        return _total(self._gather(futures))

    def solve(self, plans: Plans) -> list[ChunkAnswer]:
        return [a for answers in self._on_each(_dask_solve, plans) for a in answers]

    def solution(self) -> dict[int, tuple[np.ndarray, ...]]:
        out: dict[int, tuple[np.ndarray, ...]] = {}
        for part in self._on_each(_dask_solution):
            out.update(part)
        return out

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._on_each(_dask_drop)
        self.client.close()


def _total(sizes: list[tuple[int, int, int]]) -> tuple[int, int, int]:
    cols, rows, nnz = zip(*sizes, strict=True) if sizes else ((0,), (0,), (0,))
    return sum(cols), sum(rows), sum(nnz)


def pool_for(executor: object) -> Pool:
    """The pool matching an executor of `optimizer.app.executor`: Dask actors for a Dask
    executor, worker processes for local processes, else this process."""
    from optimizer.app.executor import Dask, Processes

    if isinstance(executor, Dask):
        return DaskActors(executor.address)
    if isinstance(executor, Processes) and executor.jobs > 1:
        return LocalProcesses(executor.jobs)
    return InProcess()
