"""The model's container and builder: columns, costs and rows recorded as arrays.

`ModelBuilder` records the model as a sparse matrix while the constraint
families add columns and rows (PuLP's fast pattern is not needed on this path:
nothing here creates PuLP objects). `BuiltModel` holds the matrix and the
index arrays that map its columns back to the scenario; `BuiltModel.problem`
turns it into a PuLP `LpProblem` when asked for (the Python API, other
solvers through PuLP, LP and MPS files).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from optimizer.model.outcomes import Outcome
from optimizer.model.parameters import Parameters

if TYPE_CHECKING:  # PuLP is imported only when a problem is asked for
    from pulp import LpProblem, LpVariable

INF = float("inf")

# Row senses, with PuLP's values (LpConstraintLE, LpConstraintEQ, LpConstraintGE)
LE, EQ, GE = -1, 0, 1
# Column kinds
CONTINUOUS, BINARY = "Continuous", "Binary"


@dataclass(frozen=True)
class RowInfo:
    """What a policy or capacity row means, in the scenario's terms (for shadow prices)."""

    family: str  # supplier_share, country_share, country_exposure, average_risk, ...
    material: str
    subject: str  # supplier id, country code, or "" for the risk cap
    period: int | None  # 1-based, None on the horizon basis
    limit: float  # the cap (share or risk score) or the capacity
    policy_path: tuple[str | int, ...]  # field path in the scenario that set the cap
    total: int = -1  # column of the planned total the cap is a share of


@dataclass
class BuiltModel:
    """The model of DESIGN §4: its matrix, and the index arrays that map its columns
    back to the scenario; `problem` is the same model as a PuLP `LpProblem`."""

    name: str
    params: Parameters
    outcomes: tuple[Outcome, ...]
    col_names: list[str]
    row_names: list[str]
    cost: np.ndarray  # objective coefficient per column
    x: np.ndarray  # (O, T) column of x, -1 where x is fixed at 0
    r: np.ndarray  # (O, T) column of r (reservations), -1 where none
    y: np.ndarray  # (W, O, T) column of y, -1 where none
    o: np.ndarray  # (W, O, T) column of o (calls of reserved capacity), -1 where none
    inv: np.ndarray  # (W, M, T)
    short: np.ndarray  # (W, M, T)
    below: np.ndarray  # (M, T) shortfall below the safety stock in w0, -1 where no target
    endshort: np.ndarray  # (M,) shortfall below the end stock in w0, -1 where no target
    z: np.ndarray  # (O, T) min-order binaries, -1 where none
    u: np.ndarray  # (S,) fixed-cost binaries, -1 where none
    v: np.ndarray  # (O,) min-supplier binaries, -1 where none
    q: np.ndarray  # (M, T) stock-before-shortage binaries in w0, -1 where none
    eta: int  # CVaR threshold column, -1 without CVaR
    cvar: np.ndarray  # (W,) CVaR excess columns, -1 without CVaR
    spot_row: np.ndarray  # (W, O, T) row of `a*x + o + y <= a*capacity`, -1 where none
    cap_row: np.ndarray  # (O, T) row of `x + r <= capacity`, -1 where none
    base: int = 0  # index of w0 in `outcomes`
    row_info: dict[str, RowInfo] = field(default_factory=dict)
    matrix: MatrixForm = field(default=None)  # type: ignore[assignment]  # set by the build
    spot_in_base: bool = False  # replay (stress): spot buys and calls allowed in w0 too
    make_pulp: Callable[[BuiltModel], PulpView] | None = field(default=None, repr=False)
    _pulp: PulpView | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def is_mip(self) -> bool:
        """True when the model has binaries."""
        return any((a >= 0).any() for a in (self.z, self.u, self.v, self.q))

    @property
    def kind(self) -> str:
        """Model class: "milp", "two-stage" (LP with several scenarios) or "lp"."""
        if self.is_mip:
            return "milp"
        return "two-stage" if len(self.outcomes) > 1 else "lp"

    def value(self, cols: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Values of an index array of columns (0 where the column is -1)."""
        out = np.where(cols >= 0, values[np.maximum(cols, 0)], 0.0)
        return out

    @property
    def problem(self) -> LpProblem:
        """The model as a PuLP `LpProblem` (made from the matrix the first time it is
        asked for). Changes made to it (rows, columns, bounds, objective) are what
        the solvers then solve: see `solver_form`."""
        return self._view().problem

    @problem.setter
    def problem(self, value: LpProblem) -> None:
        # `built.problem += row` hands the same problem back: rows go into it, in place
        if value is not self._view().problem:
            raise ValueError("add rows to built.problem; it cannot be replaced by another")

    @property
    def variables(self) -> list[LpVariable]:
        """The PuLP variable of each column, in column order (`variables[x[o, t]]`)."""
        return self._view().variables

    @property
    def materialized(self) -> bool:
        """Whether `problem` has been asked for (and so may have been changed)."""
        return self._pulp is not None

    def solver_form(self) -> MatrixForm:
        """What a solver is handed: the recorded matrix, or, once `problem` exists,
        the problem read back (the model's columns and rows first, in order, then
        any the user added)."""
        return self.matrix if self._pulp is None else self._pulp.read_back()

    def _view(self) -> PulpView:
        if self._pulp is None:
            if self.make_pulp is None:
                raise RuntimeError("this model was built without its PuLP form")
            self._pulp = self.make_pulp(self)
        return self._pulp


class PulpView(Protocol):
    """The model as a PuLP problem (`optimizer.model.pulp_problem.PulpForm`)."""

    problem: LpProblem
    variables: list[LpVariable]

    def read_back(self) -> MatrixForm:
        """The problem as it stands, as arrays (see `BuiltModel.solver_form`)."""
        ...


class ModelBuilder:
    """Collects columns, costs and rows as unboxed arrays (a million non-zeros cost
    12 MB here, not the hundreds of MB of Python objects a PuLP problem takes)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.col_names: list[str] = []
        self.cost: list[float] = []
        self.row_names: list[str] = []
        self.row_info: dict[str, RowInfo] = {}
        self.col_low = array("d")
        self.col_up = array("d")
        self.col_int = array("b")
        self.index = array("i")
        self.value = array("d")
        self.start = array("q", [0])
        self.row_low = array("d")
        self.row_up = array("d")

    @property
    def n_rows(self) -> int:
        """Rows recorded so far (the index the next row gets)."""
        return len(self.row_names)

    def var(
        self,
        name: str,
        low: float | None = 0.0,
        up: float | None = None,
        cat: str = CONTINUOUS,
    ) -> int:
        """A new column; returns its index."""
        self.col_names.append(name)
        self.cost.append(0.0)
        binary = cat == BINARY
        self.col_low.append(0.0 if binary else -INF if low is None else low)
        self.col_up.append(1.0 if binary else INF if up is None else up)
        self.col_int.append(binary)
        return len(self.col_names) - 1

    def row(self, name: str, terms: Iterable[tuple[int, float]], sense: int, rhs: float) -> None:
        """A row from (column, coefficient) pairs; zero coefficients are dropped."""
        pairs = [(j, c) for j, c in terms if c != 0.0]
        self.row_cols(name, [j for j, _ in pairs], [c for _, c in pairs], sense, rhs)

    def row_cols(
        self, name: str, cols: list[int], coefs: list[float], sense: int, rhs: float
    ) -> None:
        """A row from column indices and non-zero coefficients (no repeats): the hot path."""
        self.row_names.append(name)
        self.index.extend(cols)
        self.value.extend(coefs)
        self.start.append(len(self.index))
        self.row_low.append(rhs if sense != LE else -INF)
        self.row_up.append(rhs if sense != GE else INF)

    def add_cost(self, cols: np.ndarray, coefs: np.ndarray) -> None:
        """Add coefficients to the objective of columns."""
        cost = self.cost
        for j, c in zip(cols.tolist(), coefs.tolist(), strict=True):
            cost[j] += c

    def recorded_matrix(self, offset: float = 0.0) -> MatrixForm:
        """The rows as recorded, in CSR form, with bounds, costs and integrality."""
        return MatrixForm(
            cost=np.asarray(self.cost, dtype=float),
            col_lower=np.frombuffer(self.col_low, dtype=np.float64),
            col_upper=np.frombuffer(self.col_up, dtype=np.float64),
            integer=np.frombuffer(self.col_int, dtype=np.int8).astype(bool),
            row_lower=np.frombuffer(self.row_low, dtype=np.float64),
            row_upper=np.frombuffer(self.row_up, dtype=np.float64),
            start=np.frombuffer(self.start, dtype=np.int64),
            index=np.frombuffer(self.index, dtype=np.int32),
            value=np.frombuffer(self.value, dtype=np.float64),
            offset=offset,
        )


@dataclass(frozen=True)
class MatrixForm:
    """A model as arrays: costs, bounds, integrality and the rows in CSR form, in the
    model's column and row order (what is handed to HiGHS)."""

    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray  # bool per column
    row_lower: np.ndarray
    row_upper: np.ndarray
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray
    offset: float = 0.0  # constant term of the objective

    @property
    def nnz(self) -> int:
        """Number of non-zeros of the constraint matrix."""
        return int(self.value.size)

Complement = frozenset[tuple[int, int]]  # (material, period index) pairs of w0
