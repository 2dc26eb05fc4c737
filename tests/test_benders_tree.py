"""The branch and bound over the master's binaries (optimizer/app/benders_tree.py):
fixing by reduced costs, worked by hand."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from optimizer.app.benders_plans import Bounds
from optimizer.app.benders_tree import Node, Tree, fix_by_reduced_cost


def _tree(best: float | None, target: float = 0.0) -> Tree:
    none: Any = None
    tree = Tree(none, none, [], [], none, none, Bounds(), target, None, lambda _m: None)
    tree.best = None if best is None else SimpleNamespace(upper=best)  # type: ignore[assignment]
    return tree


def _node() -> Node:
    # LP value 100; binaries 0 and 1 at 0, binary 2 at 1, binary 3 fractional, binary 4
    # at 0 but already fixed there
    return Node(
        100.0,
        1,
        np.array([0.0, 0.0, 0.0, 0.0, 0.0]),
        np.array([1.0, 1.0, 1.0, 1.0, 0.0]),
        np.array([0.0, 0.0, 1.0, 0.5, 0.0]),
        np.array([15.0, 5.0, -12.0, 0.0, 40.0]),
        None,
    )


def test_binaries_whose_other_value_cannot_beat_the_best_plan_are_fixed() -> None:
    """Best plan 110 (gap 0): binary 0 at 1 costs at least 100 + 15 = 115 >= 110, fixed at
    0; binary 2 at 0 at least 100 + 12 = 112, fixed at 1; binary 1 (105 < 110) and the
    fractional binary 3 stay free; binary 4 was fixed already. The least bound of what
    was cut away, 112 (less the margin), is kept as a pruned bound."""
    tree, node = _tree(110.0), _node()
    fix_by_reduced_cost(tree, node)
    assert node.low.tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]
    assert node.up.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]
    assert tree.fixed == 2
    assert tree.pruned == pytest.approx(112.0, rel=1e-5) and tree.pruned <= 112.0


def test_the_gap_lowers_the_cutoff() -> None:
    """Best plan 110 with a gap a little above 5/110: the cutoff is just below 105, so
    binary 1 (at least 100 + 5, less the margin of 1e-6 of its reduced cost) is fixed
    at 0 too."""
    tree, node = _tree(110.0, target=5.0001 / 110.0), _node()
    fix_by_reduced_cost(tree, node)
    assert node.up.tolist() == [0.0, 0.0, 1.0, 1.0, 0.0]
    assert tree.fixed == 3


def test_nothing_is_fixed_without_a_plan() -> None:
    tree, node = _tree(None), _node()
    fix_by_reduced_cost(tree, node)
    assert node.low.tolist() == [0.0] * 5 and tree.fixed == 0


def test_node_lps_the_dual_simplex_leaves_unsettled_go_to_the_fallbacks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every node LP the dual simplex leaves unsettled, from the node's basis and from
    scratch (simulated by an iteration limit of 0), is solved by the primal simplex: the
    search still ends proven at the whole model's optimum."""
    from benchmarks.generate import generate
    from optimizer.app.pipeline import run_scenario
    from optimizer.schema.scenario import Scenario
    from optimizer.solve import benders_highs
    from optimizer.solve.status import SolverOptions
    from tests.test_benders import CASES_GENERATED

    real = benders_highs._run_node
    calls = {"unsettled": 0, "primal": 0}

    def flaky(h: Any) -> None:
        if h.getOptionValue("simplex_strategy")[1] == 4:  # the first fallback
            calls["primal"] += 1
            real(h)
            return
        calls["unsettled"] += 1
        limit = h.getOptionValue("simplex_iteration_limit")[1]
        h.setOptionValue("simplex_iteration_limit", 0)
        try:
            real(h)
        finally:
            h.setOptionValue("simplex_iteration_limit", limit)

    monkeypatch.setattr(benders_highs, "_run_node", flaky)
    sc = Scenario.model_validate(generate(**CASES_GENERATED["sampled"]))
    split = run_scenario(sc, SolverOptions(), decompose="benders")
    monkeypatch.setattr(benders_highs, "_run_node", real)
    whole = run_scenario(sc, SolverOptions(), decompose="off")
    assert calls["primal"] > 0  # (a node whose basis is optimal already needs no fallback)
    assert split.plan.status == "optimal" and split.check.ok
    assert abs(split.plan.objective - whole.plan.objective) <= 1e-6 * whole.plan.objective


def test_a_master_kept_across_solves_gets_the_seconds_left_not_fewer() -> None:
    """HiGHS holds `time_limit` against the run time of every solve of an instance so far:
    a master that has already spent more than the seconds left must still get them (a run
    stopped early with time to spare was the bug), and a node's LP that needs little time
    solves to optimality."""
    from benchmarks.generate import generate
    from optimizer.model.benders_blocks import build_master, material_blocks
    from optimizer.model.parameters import build_parameters
    from optimizer.schema.scenario import Scenario
    from optimizer.solve.benders_highs import MasterSolver
    from optimizer.solve.status import SolverOptions
    from tests.test_benders import CASES_GENERATED

    p = build_parameters(Scenario.model_validate(generate(**CASES_GENERATED["sampled"])))
    mats = material_blocks(p)
    solver = MasterSolver(build_master(p, mats, frozenset()), mats, SolverOptions())
    for _ in range(10_000):  # spend more than a second of the instance's run time
        if solver.h.getRunTime() > 1.0:
            break
        solver.h.clearSolver()
        solver.h.run()
    assert solver.h.getRunTime() > 1.0
    solver.h.clearSolver()  # the next solve needs iterations
    none = np.zeros(0)
    status, value, *_ = solver.node(none, none, None, 0.5)
    assert status == "optimal" and np.isfinite(value)


def test_a_node_lp_only_the_interior_point_method_calls_infeasible_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HiGHS' interior point method has called a feasible node LP of these masters
    infeasible (its crossover not run). When the simplex leaves a node unsettled and only
    that method then says "infeasible", the node is not pruned on its word: the node is an
    error (the run an internal error), never a silently dropped subtree."""
    import highspy

    from benchmarks.generate import generate
    from optimizer.model.benders_blocks import build_master, material_blocks
    from optimizer.model.parameters import build_parameters
    from optimizer.schema.scenario import Scenario
    from optimizer.solve import benders_highs
    from optimizer.solve.benders_highs import MasterSolver
    from optimizer.solve.status import SolverOptions
    from tests.test_benders import CASES_GENERATED

    p = build_parameters(Scenario.model_validate(generate(**CASES_GENERATED["sampled"])))
    mats = material_blocks(p)
    solver = MasterSolver(build_master(p, mats, frozenset()), mats, SolverOptions())
    k = highspy.HighsModelStatus
    said: dict[int, Any] = {}

    def run(h: Any) -> None:  # the simplex stops at once; the IPM "finds" infeasibility
        said[id(h)] = k.kInfeasible if h.getOptionValue("solver")[1] == "ipm" else k.kUnknown

    real_status = highspy.Highs.getModelStatus
    monkeypatch.setattr(benders_highs, "_run_node", run)
    monkeypatch.setattr(
        highspy.Highs, "getModelStatus", lambda h: said.get(id(h), real_status(h))
    )
    none = np.zeros(0)
    status, *_ = solver.node(none, none, None, 10.0)
    assert status == "error"
    assert "interior point method alone" in solver.message
    said.clear()  # the simplex's own "infeasible" is trusted
    monkeypatch.setattr(benders_highs, "_run_node", lambda h: said.update({id(h): k.kInfeasible}))
    status, *_ = solver.node(none, none, None, 10.0)
    assert status == "infeasible"


def test_a_cut_row_is_divided_by_its_largest_coefficient_within_limits() -> None:
    """`row_scale`, worked by hand: the largest |coefficient| (theta's 1 counts), at most
    1e6, never so far that the smallest nonzero falls below HiGHS' 1e-9, never below 1."""
    from optimizer.model.benders_blocks import row_scale

    assert row_scale(np.array([1.0, -3.0, 0.5])) == 3.0
    assert row_scale(np.array([1.0, -5e6, -2.0])) == 1e6  # capped
    assert row_scale(np.array([1.0, -4e5, -2e-5])) == pytest.approx(2e4)  # 2e-5 / 1e-9
    assert row_scale(np.array([1.0, -4e5, -1e-12])) == 1.0  # already below: as before
    assert row_scale(np.array([1.0, 0.0, -0.25])) == 1.0


def test_a_node_lp_above_the_bound_stops_there_and_one_below_solves() -> None:
    """`objective_bound`: a node's LP whose optimum is above `bound` comes back "bound"
    with value `bound` (its LP value is at least that); one whose optimum is below comes
    back "optimal" with the same value as without a bound."""
    from benchmarks.generate import generate
    from optimizer.model.benders_blocks import build_master, material_blocks
    from optimizer.model.parameters import build_parameters
    from optimizer.schema.scenario import Scenario
    from optimizer.solve.benders_highs import MasterSolver
    from optimizer.solve.status import SolverOptions
    from tests.test_benders import CASES_GENERATED

    p = build_parameters(Scenario.model_validate(generate(**CASES_GENERATED["sampled"])))
    mats = material_blocks(p)
    solver = MasterSolver(build_master(p, mats, frozenset()), mats, SolverOptions())
    none = np.zeros(0)
    status, value, *_ = solver.node(none, none, None, 10.0)
    assert status == "optimal" and value > 0
    solver.h.clearSolver()
    solver.h.setOptionValue("presolve", "off")  # the dual simplex on the LP as it is
    low = 0.5 * value
    assert solver.node(none, none, None, 10.0, 0, low)[:2] == ("bound", low)
    solver.h.clearSolver()
    status, again, *_ = solver.node(none, none, None, 10.0, 0, 2.0 * value)
    assert status == "optimal" and again == pytest.approx(value, rel=1e-9)


def test_the_search_with_node_lps_stopped_at_the_best_plan_ends_at_the_optimum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nodes whose LP stops above the best plan's cost are pruned, and the search still
    ends proven at the whole model's optimum (solved on its own)."""
    from benchmarks.generate import generate
    from optimizer.app.pipeline import run_scenario
    from optimizer.schema.scenario import Scenario
    from optimizer.solve.benders_highs import MasterSolver
    from optimizer.solve.status import SolverOptions
    from tests.test_benders import CASES_GENERATED

    real = MasterSolver.node
    seen: list[str] = []

    def counted(self, low, up, basis, time_limit, lane=0, bound=np.inf):  # type: ignore[no-untyped-def]
        answer = real(self, low, up, basis, time_limit, lane, bound)
        seen.append(answer[0])
        return answer

    monkeypatch.setattr(MasterSolver, "node", counted)
    sc = Scenario.model_validate(generate(**CASES_GENERATED["sampled"]))
    split = run_scenario(sc, SolverOptions(), decompose="benders")
    monkeypatch.setattr(MasterSolver, "node", real)
    whole = run_scenario(sc, SolverOptions(), decompose="off")
    assert "bound" in seen
    assert split.plan.status == "optimal" and split.check.ok
    assert abs(split.plan.objective - whole.plan.objective) <= 1e-6 * whole.plan.objective
