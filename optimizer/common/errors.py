"""Exception families of the project (DESIGN §5).

`UserError` and its subclasses are the user's to fix (bad input, infeasible
policy, no solution in time); `InternalError` is a bug. Which exit code each
one means, and the message the user reads, is decided in one place: `failure`.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass

from optimizer.common.safe_text import escape

MAX_SHOWN_PROBLEMS = 100  # problems printed; the rest are counted


class UserError(Exception):
    """A problem with the user's input or request; exit code 2."""

    exit_code = 2


class InfeasiblePolicy(UserError):
    """The policy leaves no feasible plan; exit code 3."""

    exit_code = 3


class NoSolution(UserError):
    """The solver found no plan within its limits; exit code 4."""

    exit_code = 4


class InternalError(Exception):
    """A bug or a broken invariant (e.g. a plan that fails its check); exit code 1."""

    exit_code = 1


class JobFailed(UserError):
    """A job (one file of a batch, a replay) failed; carries its exit code (2, 3, 4 or 1)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def __reduce__(self) -> tuple[type[JobFailed], tuple[str, int]]:
        return JobFailed, (str(self), self.exit_code)


def failure(exc: BaseException, path: str | None = None) -> tuple[int, str]:
    """The exit code and message of an exception: the one error -> exit-code mapping.

    Invalid files (2) already name their file and line; other user errors
    (2 bad input, 3 infeasible policy, 4 no plan in time) are prefixed with
    the file they concern; anything else is a bug (1, "internal error").
    """
    where = f"{path}: " if path else ""
    if isinstance(exc, ScenarioError | JobFailed):
        return exc.exit_code, str(exc)
    if isinstance(exc, UserError):
        return exc.exit_code, f"{where}{exc}"
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return int(getattr(exc, "exit_code", 1)), f"{where}internal error: {detail}"


@dataclass(frozen=True)
class Located:
    """One problem in an input file: where it is and what is wrong."""

    file: str
    line: int | None
    path: str
    message: str
    got: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f" {self.path}:" if self.path else ""
        got = f" (got {self.got})" if self.got is not None else ""
        return escape(f"{where}:{field} {self.message}{got}")


class ScenarioError(UserError):
    """A scenario file is invalid; carries every problem found, each with its location.

    The message lists the first `MAX_SHOWN_PROBLEMS` and counts the rest: a file
    with 100,000 bad suppliers is told in 101 lines, not 200,000.
    """

    def __init__(self, problems: list[Located]) -> None:
        self.problems = problems
        super().__init__(problem_lines(problems))

    @property
    def shown(self) -> list[Located]:
        """The problems the message lists."""
        return self.problems[:MAX_SHOWN_PROBLEMS]

    @property
    def not_shown(self) -> int:
        """How many problems the message only counts."""
        return max(0, len(self.problems) - MAX_SHOWN_PROBLEMS)


def problem_lines(problems: list[Located]) -> str:
    """One line per problem, the first `MAX_SHOWN_PROBLEMS` of them, then a count of the rest."""
    lines = [str(p) for p in problems[:MAX_SHOWN_PROBLEMS]]
    rest = len(problems) - MAX_SHOWN_PROBLEMS
    if rest > 0:
        files = sorted({p.file for p in problems[MAX_SHOWN_PROBLEMS:]})
        where = escape(", ".join(files[:3]) + (", ..." if len(files) > 3 else ""))
        lines.append(
            f"... and {rest:,} more problem{'s' if rest > 1 else ''} in {where} (not shown; "
            f"{len(problems):,} in all)"
        )
    return "\n".join(lines)
