"""`BuiltModel.problem` is the model: the PuLP problem, read back, is exactly the matrix
the fast path hands to HiGHS and CBC; solved through PuLP (`--solver pulp:NAME`) it
gives the same optimum; rows a user adds through PuLP are what the solvers then solve.
"""

from __future__ import annotations

import importlib.util
import math
import re
from pathlib import Path

import numpy as np
import pulp
import pytest

from benchmarks.generate import generate
from optimizer.app.pipeline import run_scenario, solve_model
from optimizer.io.load import load_scenario
from optimizer.model.build import build_model
from optimizer.model.parameters import build_parameters
from optimizer.schema.scenario import Scenario
from optimizer.solve.dispatch import solve
from optimizer.solve.status import SolverOptions, Status
from tests.conftest import CASES, SCENARIOS_2025

SYNTHETIC = [
    {"materials": 3, "suppliers": 6, "periods": 5, "events": 3, "seed": 1},
    {"materials": 4, "suppliers": 8, "periods": 6, "events": 2, "seed": 2, "milp": True},
    {"materials": 3, "suppliers": 5, "periods": 4, "events": 2, "seed": 3, "cvar": True},
]

EVERY_CASE = sorted(p for p in CASES.glob("*.yaml") if p.name != "expected.yaml")


def _built(path):  # type: ignore[no-untyped-def]
    return build_model(build_parameters(load_scenario(path).scenario))


def _same(built) -> None:  # type: ignore[no-untyped-def]
    rec = built.matrix
    assert not built.materialized
    _ = built.problem
    back = built.solver_form()  # the PuLP problem read back
    assert back is not rec
    assert back.offset == pytest.approx(rec.offset, abs=1e-9)
    for name in ("cost", "col_lower", "col_upper", "integer", "row_lower", "row_upper", "start"):
        np.testing.assert_array_equal(getattr(rec, name), getattr(back, name), err_msg=name)
    for r in range(len(rec.start) - 1):
        a, b = rec.start[r], rec.start[r + 1]
        got = sorted(zip(rec.index[a:b].tolist(), rec.value[a:b].tolist(), strict=True))
        want = sorted(zip(back.index[a:b].tolist(), back.value[a:b].tolist(), strict=True))
        assert got == want, built.row_names[r]


@pytest.mark.parametrize("path", EVERY_CASE, ids=lambda p: p.stem)
def test_problem_is_the_recorded_matrix_for_every_case(path) -> None:  # type: ignore[no-untyped-def]
    _same(_built(path))


@pytest.mark.parametrize("case", SYNTHETIC, ids=lambda c: str(c["seed"]))
def test_problem_is_the_recorded_matrix_synthetic(case: dict) -> None:
    _same(build_model(build_parameters(Scenario.model_validate(generate(**case)))))


def test_problem_is_the_recorded_matrix_cvar_file() -> None:
    _same(_built(SCENARIOS_2025 / "robust-cvar.yaml"))


@pytest.mark.parametrize("path", EVERY_CASE, ids=lambda p: p.stem)
def test_pulp_highs_gives_the_fast_paths_optimum(path) -> None:  # type: ignore[no-untyped-def]
    """The same model, solved by the fast path and by PuLP's own HiGHS adapter."""
    fast = solve(_built(path), SolverOptions(solver="highs"))
    slow = solve(_built(path), SolverOptions(solver="pulp:HiGHS"))
    assert slow.status is fast.status
    if fast.status.has_plan:
        assert fast.objective is not None and slow.objective is not None
        assert slow.objective == pytest.approx(fast.objective, rel=1e-6, abs=1e-6)


SCIP = importlib.util.find_spec("pyscipopt") is not None


@pytest.mark.skipif(not SCIP, reason="pyscipopt (SCIP) is not installed")
@pytest.mark.parametrize("case", ["country_cap", "min_order", "cvar_plan", "reservation_pays"])
def test_scip_through_pulp_gives_the_same_plan_cost(case: str) -> None:
    path = CASES / f"{case}.yaml"
    sc = load_scenario(path).scenario
    fast = run_scenario(sc, SolverOptions(solver="highs"))
    scip = run_scenario(sc, SolverOptions(solver="pulp:SCIP_PY"))
    assert scip.plan.objective == pytest.approx(fast.plan.objective, rel=1e-6)
    assert scip.solve.solver == "pulp:SCIP_PY"
    assert scip.check.ok


def test_gurobi_through_pulp_where_it_is_licensed() -> None:
    if "GUROBI" not in pulp.listSolvers(onlyAvailable=True):
        pytest.skip("gurobipy is not installed here (or has no licence)")
    sc = load_scenario(CASES / "country_cap.yaml").scenario
    fast = run_scenario(sc, SolverOptions(solver="highs"))
    grb = run_scenario(sc, SolverOptions(solver="pulp:GUROBI"))
    assert grb.plan.objective == pytest.approx(fast.plan.objective, rel=1e-6)


def test_a_row_added_through_pulp_is_solved_by_the_fast_path() -> None:
    """country_cap.yaml (its header works the plan out): ndpr 60 from cn_baotou (50)
    and 40 from au_lynas (70), dy 12 from cn_baotou (300) and 8 from us_mp (400):
    purchase 3,000 + 2,800 + 3,600 + 3,200 = 12,600. A user's row holding cn_baotou's
    ndpr to at most 50 moves 10 t to au_lynas: 2,500 + 3,500 + 6,800 = 12,800."""
    params = build_parameters(load_scenario(CASES / "country_cap.yaml").scenario)
    o = params.offers.index(("cn_baotou", "ndpr_oxide"))
    held: list[pulp.LpVariable] = []

    def cap_cn(built) -> None:  # type: ignore[no-untyped-def]
        x = built.variables[int(built.x[o, 0])]
        built.problem += x <= 50, "user_cn_ndpr_at_most_50"
        held.append(x)

    before = solve_model(params).plan
    after = solve_model(params, cap_cn).plan
    assert before.costs["purchase"] == pytest.approx(12_600)
    assert after.costs["purchase"] == pytest.approx(12_800)
    assert held[-1].varValue == pytest.approx(50)  # written back into the user's variable


def test_the_readme_example_runs_and_its_rule_holds() -> None:
    """README "Use it from Python": every period's NdPr from Lynas is at least 2 t."""
    text = (Path(__file__).parent.parent / "README.md").read_text()
    start = text.index("## Use it from Python")
    code = re.search(r"```python\n(.*?)```", text[start:], re.S)
    assert code is not None
    space: dict[str, object] = {}
    exec(compile(code.group(1), "README.md", "exec"), space)
    orders = space["run"].plan.orders  # type: ignore[attr-defined]
    lynas = orders[(orders.supplier == "lynas_my") & (orders.material == "ndpr_oxide")]
    by_period = lynas.groupby("period")["quantity"].sum()
    params = space["params"]
    deliverable = params.deliverable()[params.offers.index(("lynas_my", "ndpr_oxide"))]  # type: ignore[attr-defined]
    for t, ok in enumerate(deliverable, start=1):
        if ok:
            assert by_period.get(t, 0.0) >= 2 - 1e-6, t


def test_lp_and_mps_files_read_back_as_the_same_problem(tmp_path) -> None:  # type: ignore[no-untyped-def]
    built = _built(CASES / "min_order.yaml")
    prob = built.problem
    prob.writeMPS(str(tmp_path / "m.mps"), rename=0, with_objsense=True)
    _vars, again = pulp.LpProblem.fromMPS(str(tmp_path / "m.mps"))
    again.solve(pulp.HiGHS(msg=False))
    fast = solve(_built(CASES / "min_order.yaml"), SolverOptions(solver="highs"))
    assert fast.status is Status.OPTIMAL and fast.objective is not None
    assert pulp.value(again.objective) == pytest.approx(fast.objective, rel=1e-9)
    prob.writeLP(str(tmp_path / "m.lp"))
    assert (tmp_path / "m.lp").read_text().startswith("\\* sourcing *\\")
    assert not math.isnan(fast.objective)
