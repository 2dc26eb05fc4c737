"""`run --write-lp FILE` / `--write-mps FILE`: the model of a scenario as PuLP writes it.

The model is the one `run` solves first (DESIGN §4, before any stock-before-
shortage binaries are added for periods that need them), made a PuLP
`LpProblem` (`BuiltModel.problem`) and written by PuLP, each file replaced
atomically.
"""

from __future__ import annotations

from pathlib import Path

from optimizer.common.errors import UserError
from optimizer.io.load import load_scenario
from optimizer.model.build import build_model
from optimizer.model.parameters import build_parameters
from optimizer.reports.folder import write_file


def write_model_files(scenario: Path, *, lp: Path | None = None, mps: Path | None = None) -> None:
    """Build the scenario's model and write it as an LP and/or MPS file."""
    built = build_model(build_parameters(load_scenario(scenario).scenario))
    problem = built.problem
    for path, write in (
        (lp, lambda p: problem.writeLP(p)),
        (mps, lambda p: problem.writeMPS(p, rename=0, with_objsense=True)),
    ):
        if path is None:
            continue
        try:
            write_file(path, lambda p, write=write: write(str(p)))  # type: ignore[misc]
        except OSError as exc:
            raise UserError(f"{path}: cannot write the model: {exc.strerror or exc}") from None
