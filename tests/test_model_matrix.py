"""The matrix the builder records for HiGHS is exactly the PuLP problem it built."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.generate import generate
from optimizer.io.load import load_scenario
from optimizer.model.build import build_model
from optimizer.model.parameters import build_parameters
from optimizer.schema.scenario import Scenario
from optimizer.solve.pulp_matrix import matrix_form
from tests.conftest import CASES, SCENARIOS_2025

SYNTHETIC = [
    {"materials": 3, "suppliers": 6, "periods": 5, "events": 3, "seed": 1},
    {"materials": 4, "suppliers": 8, "periods": 6, "events": 2, "seed": 2, "milp": True},
    {"materials": 3, "suppliers": 5, "periods": 4, "events": 2, "seed": 3, "cvar": True},
]


def _same(built) -> None:  # type: ignore[no-untyped-def]
    rec = built.matrix
    pulp = matrix_form(built)
    for name in ("cost", "col_lower", "col_upper", "integer", "row_lower", "row_upper", "start"):
        np.testing.assert_array_equal(getattr(rec, name), getattr(pulp, name), err_msg=name)
    for r in range(len(rec.start) - 1):
        a, b = rec.start[r], rec.start[r + 1]
        got = sorted(zip(rec.index[a:b].tolist(), rec.value[a:b].tolist(), strict=True))
        want = sorted(zip(pulp.index[a:b].tolist(), pulp.value[a:b].tolist(), strict=True))
        assert got == want, built.row_names[r]


@pytest.mark.parametrize("case", SYNTHETIC, ids=lambda c: str(c["seed"]))
def test_recorded_matrix_equals_pulp_problem_synthetic(case: dict) -> None:
    params = build_parameters(Scenario.model_validate(generate(**case)))
    _same(build_model(params))


@pytest.mark.parametrize(
    "path",
    [
        CASES / "share_basis_period.yaml",
        CASES / "min_suppliers.yaml",
        SCENARIOS_2025 / "robust-cvar.yaml",
    ],
    ids=lambda p: p.stem,
)
def test_recorded_matrix_equals_pulp_problem_files(path) -> None:  # type: ignore[no-untyped-def]
    _same(build_model(build_parameters(load_scenario(path).scenario)))
