"""The recourse LPs of the scenario decomposition in HiGHS instances kept warm across its
rounds: a chunk holds several blocks of one material (`RecourseChunk`); a worker holds
its chunks (`Chunks`).

Between rounds a chunk changes only the bounds of its fixed columns x and r and the dual
simplex restarts from the last optimal basis.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from optimizer.common.errors import InternalError
from optimizer.model.benders_blocks import ChunkSpec, block_form
from optimizer.solve.highs import pass_model, quiet_highs


@dataclass
class ChunkAnswer:
    """Values and subgradients of a chunk's blocks at a plan."""

    key: int
    value: np.ndarray  # (nb,) phi at the plan
    gx: np.ndarray  # (nb, nx) d phi / d x on the deliverable (offer, period) of the material
    gr: np.ndarray  # (nb, nr) d phi / d r on the reservable ones
    seconds: float = 0.0
    iterations: int = 0


class RecourseChunk:
    """One HiGHS instance holding the recourse LPs of several blocks of one material."""

    def __init__(self, spec: ChunkSpec) -> None:
        self.spec = spec
        self.blocks = block_form(spec)
        self.form = self.blocks.form
        self.h = quiet_highs()
        pass_model(self.h, self.form)
        fixed = np.concatenate([self.blocks.x_cols.ravel(), self.blocks.r_cols.ravel()])
        self._order = np.argsort(fixed, kind="stable")
        self._fixed = np.ascontiguousarray(fixed[self._order], dtype=np.int32)
        self._values: np.ndarray | None = None

    def solve(self, x: np.ndarray, r: np.ndarray) -> ChunkAnswer:
        """Values and subgradients of every block at the plan (x, r) of the material's
        offers (O_m, T)."""
        import highspy

        t0 = time.perf_counter()
        h, bf = self.h, self.blocks
        nb = len(self.spec.ks)
        vals = np.concatenate([np.tile(x[bf.x_mask], nb), np.tile(r[bf.r_mask], nb)])
        vals = np.ascontiguousarray(vals[self._order], dtype=np.float64)
        if vals.size:  # HiGHS takes the columns of a set in increasing order
            h.changeColsBounds(vals.size, self._fixed, vals, vals)
        h.run()
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            h.clearSolver()  # a numerical failure from the old basis: once more from scratch
            h.run()
            status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise InternalError(
                f"a recourse subproblem did not solve: {h.modelStatusToString(status)}"
            )
        sol = h.getSolution()
        values = np.asarray(sol.col_value, dtype=float)
        dual = np.asarray(sol.col_dual, dtype=float)
        self._values = values
        phi = np.bincount(bf.block_of, weights=self.form.cost * values, minlength=nb)
        iterations = int(h.getInfo().simplex_iteration_count)
        return ChunkAnswer(
            self.spec.key,
            phi,
            dual[bf.x_cols],
            dual[bf.r_cols],
            time.perf_counter() - t0,
            iterations,
        )

    def solution(self) -> tuple[np.ndarray, ...]:
        """y, o (nb, O_m, T) and inv, short (nb, T) of the last solve."""
        assert self._values is not None
        v = self._values
        models = self.blocks.models
        y = np.stack([m.value(m.y[0], v) for m in models])
        o = np.stack([m.value(m.o[0], v) for m in models])
        inv = np.stack([m.value(m.inv[0, 0], v) for m in models])
        short = np.stack([m.value(m.short[0, 0], v) for m in models])
        return y, o, inv, short


class Chunks:
    """The chunks one worker holds (in this process, a worker process or a Dask worker)."""

    def __init__(self, specs: list[ChunkSpec]) -> None:
        self.chunks = {s.key: RecourseChunk(s) for s in specs}

    def sizes(self) -> tuple[int, int, int]:
        """Columns, rows and non-zeros of the chunks' LPs together."""
        forms = [c.form for c in self.chunks.values()]
        return (
            sum(len(f.cost) for f in forms),
            sum(len(f.row_lower) for f in forms),
            sum(f.nnz for f in forms),
        )

    def solve(self, plans: dict[int, tuple[np.ndarray, np.ndarray]]) -> list[ChunkAnswer]:
        """Solve every chunk at its material's plan (x, r), keyed by chunk."""
        return [c.solve(*plans[k]) for k, c in self.chunks.items()]

    def solution(self) -> dict[int, tuple[np.ndarray, ...]]:
        """The last solve's recourse of every chunk."""
        return {k: c.solution() for k, c in self.chunks.items()}
