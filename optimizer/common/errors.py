"""Exception families of the project (DESIGN §5).

`UserError` and its subclasses are the user's to fix (bad input, infeasible
policy, no solution in time); `InternalError` is a bug. Which exit code each
one means is decided in one place, `optimizer.app.exit_codes`.
"""

from __future__ import annotations

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
