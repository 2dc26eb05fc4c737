"""The scenario decomposition (L-shaped / Benders, optimizer/app/benders.py) is exact.

Decomposed = monolithic on every model class: two-stage LPs, CVaR, MILPs (min
order, fixed costs, min suppliers, stock-before-shortage binaries),
reservations and calls, delays, sampled risks; on HiGHS and on CBC (CBC solves
the master, HiGHS the subproblems); with the subproblems in this process, in
worker processes and on a Dask cluster; and the hand-worked cases of
tests/cases give their worked-out optimum through it.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import yaml

from benchmarks.generate import generate
from optimizer.app.benders import BendersAnswer, solve_benders
from optimizer.app.benders_parts import worth_benders
from optimizer.app.benders_pool import DaskActors, InProcess, LocalProcesses
from optimizer.app.pipeline import PolicyInfeasible, run_scenario
from optimizer.common.errors import InternalError
from optimizer.io.load import load_scenario
from optimizer.model.benders_blocks import chunk_specs, material_blocks
from optimizer.model.parameters import build_parameters
from optimizer.results.check import check_plan
from optimizer.schema.scenario import Scenario
from optimizer.solve.benders_chunks import RecourseChunk
from optimizer.solve.status import SolverOptions
from tests.conftest import CASES, run_cli

CASES_GENERATED = {
    "two-stage": {"materials": 4, "suppliers": 10, "periods": 6, "events": 5, "seed": 11},
    "sampled": {
        "materials": 4,
        "suppliers": 10,
        "periods": 6,
        "events": 9,
        "samples": 24,
        "seed": 12,
    },
    "milp": {"materials": 3, "suppliers": 8, "periods": 5, "events": 3, "seed": 13, "milp": True},
    "cvar": {"materials": 3, "suppliers": 8, "periods": 5, "events": 4, "seed": 14, "cvar": True},
    "cvar-milp": {
        "materials": 3,
        "suppliers": 8,
        "periods": 5,
        "events": 3,
        "seed": 15,
        "cvar": True,
        "milp": True,
    },
}


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))


@pytest.mark.parametrize("name", sorted(CASES_GENERATED))
def test_benders_equals_monolithic(name: str, solver: str) -> None:
    if solver == "cbc" and name == "sampled":
        pytest.skip("CBC adds nothing on the sampled LP that the LP cases miss (test time)")
    sc = Scenario.model_validate(generate(**CASES_GENERATED[name]))
    options = SolverOptions(solver=solver)
    whole = run_scenario(sc, options, decompose="off")
    split = run_scenario(sc, options, decompose="benders")
    assert split.check.ok and whole.check.ok
    assert split.plan.status == "optimal"
    assert _same(split.plan.objective, whole.plan.objective)
    info = split.model_size["benders"]
    assert info["proven"] and info["gap"] <= info["target_gap"] * (1 + 1e-6) + 1e-12
    assert "proven optimal" in split.solve.message


def _v2_scenarios(count: int, seed0: int = 0) -> list[dict]:
    """Random version-2 scenarios (tests/scenario_factory.py) with several outcomes."""
    from tests.test_differential import factory

    out = []
    seed = seed0
    while len(out) < count:
        data = factory.build_scenario(factory.RandomPicker(random.Random(seed)))
        seed += 1
        try:
            sc = Scenario.model_validate(data)
        except Exception:
            continue
        if len(build_parameters(sc).outcomes) > 1:
            out.append(data)
    return out


V2 = _v2_scenarios(10)


@pytest.mark.parametrize("index", range(len(V2)))
def test_benders_on_random_v2_scenarios(index: int) -> None:
    # delays past the horizon, qualification, reservations and calls, exposure caps,
    # dated effects, days of cover, end stock, min order, fixed cost, min suppliers, CVaR
    sc = Scenario.model_validate(V2[index])
    options = SolverOptions(solver="highs", mip_gap=1e-9)
    try:
        whole = run_scenario(sc, options, decompose="off")
    except PolicyInfeasible:
        with pytest.raises(PolicyInfeasible):
            run_scenario(sc, options, decompose="benders")
        return
    split = run_scenario(sc, options, decompose="benders")
    assert split.check.ok
    assert _same(split.plan.objective, whole.plan.objective), (V2[index], split.solve.message)


@pytest.mark.parametrize("index", [0, 3, 7, 9])
def test_benders_on_random_v2_scenarios_cbc(index: int) -> None:
    sc = Scenario.model_validate(V2[index])
    options = SolverOptions(solver="cbc", mip_gap=1e-9)
    try:
        whole = run_scenario(sc, SolverOptions(solver="highs", mip_gap=1e-9), decompose="off")
    except PolicyInfeasible:
        return
    split = run_scenario(sc, options, decompose="benders")
    assert split.check.ok
    assert _same(split.plan.objective, whole.plan.objective)


EXPECTED = yaml.safe_load((CASES / "expected.yaml").read_text())
SEVERAL = sorted(
    name
    for name, e in EXPECTED.items()
    if e["status"] != "infeasible"
    and len(build_parameters(load_scenario(CASES / f"{name}.yaml").scenario).outcomes) > 1
)


@pytest.mark.parametrize("name", SEVERAL)
def test_hand_worked_cases_through_benders(name: str, solver: str) -> None:
    # reservations (pays / not worth), delays (one period, past the horizon), dated
    # effects, reach, stock first through a licence gap, CVaR, sampled risks, ...
    scenario = load_scenario(CASES / f"{name}.yaml").scenario
    run = run_scenario(scenario, SolverOptions(solver=solver), decompose="benders")
    assert run.plan.status == "optimal"
    assert run.plan.objective == pytest.approx(EXPECTED[name]["objective"], rel=1e-7, abs=1e-6)
    assert check_plan(run.plan).ok
    assert "benders" in run.model_size


def test_subgradients_are_the_slopes_of_the_recourse() -> None:
    # the reduced cost of a fixed x column is d phi / d x: compare with finite differences
    sc = Scenario.model_validate(generate(**CASES_GENERATED["two-stage"]))
    p = build_parameters(sc)
    mats = material_blocks(p)
    spec = chunk_specs(mats, 1)[0]
    chunk = RecourseChunk(spec)
    mb = mats[spec.material]
    rng = np.random.default_rng(0)
    x = mb.params.capacity * rng.uniform(0.0, 0.9, mb.params.capacity.shape)
    r = np.zeros_like(x)
    at = chunk.solve(x, r)
    ok = mb.params.deliverable()
    cells = list(zip(*np.nonzero(ok), strict=True))
    for k in rng.choice(len(cells), size=min(8, len(cells)), replace=False):
        o, t = cells[int(k)]
        step = 1e-3 * max(1.0, mb.params.capacity[o, t])
        moved = x.copy()
        moved[o, t] += step
        slope = (chunk.solve(moved, r).value - at.value) / step
        j = int(np.flatnonzero(np.flatnonzero(ok.ravel()) == o * x.shape[1] + t)[0])
        # a kink may sit inside the step: the subgradient then lies between the slopes
        back = x.copy()
        back[o, t] -= step
        left = (at.value - chunk.solve(back, r).value) / step
        low, high = np.minimum(left, slope), np.maximum(left, slope)
        tol = 1e-6 * np.maximum(1.0, np.abs(at.gx[:, j]))
        assert np.all(at.gx[:, j] >= low - tol) and np.all(at.gx[:, j] <= high + tol)


def test_worker_processes_give_the_same_plan() -> None:
    sc = Scenario.model_validate(generate(**CASES_GENERATED["cvar"]))
    p = build_parameters(sc)
    one = solve_benders(p, SolverOptions(), InProcess())
    two = solve_benders(p, SolverOptions(), LocalProcesses(2))
    assert _same(two.objective, one.objective)
    assert two.workers == 2 and two.bounds.rounds == one.bounds.rounds


def test_dask_actors_give_the_same_plan() -> None:
    distributed = pytest.importorskip("distributed")
    sc = Scenario.model_validate(generate(**CASES_GENERATED["cvar"]))
    p = build_parameters(sc)
    one = solve_benders(p, SolverOptions(), InProcess())
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        on_dask = solve_benders(p, SolverOptions(), DaskActors(cluster.scheduler_address))
    assert _same(on_dask.objective, one.objective)
    assert on_dask.workers == 2


def test_auto_picks_benders_for_large_parts_only() -> None:
    small = build_parameters(Scenario.model_validate(generate(**CASES_GENERATED["cvar"])))
    assert not worth_benders(small)
    big = generate(10, 30, 12, 10, None, seed=1, cvar=True)
    assert worth_benders(build_parameters(Scenario.model_validate(big)))


def test_a_failing_worker_is_an_internal_error() -> None:
    pool = LocalProcesses(2)
    with pytest.raises(InternalError):
        pool.start([["not a chunk spec"], ["nor this"]])  # type: ignore[list-item]
    pool.close()


def test_cli_decompose_choices(tmp_path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(generate(**CASES_GENERATED["cvar"]), sort_keys=False))
    docs = {}
    for how in ("benders", "on", "off"):
        res = run_cli(["run", str(path), "--json", "--decompose", how])
        assert res.exit_code == 0, res.output
        docs[how] = json.loads(res.stdout)
    assert docs["benders"]["model"]["benders"]["proven"]
    assert "benders" not in docs["off"]["model"]
    for how in ("on", "off"):
        assert _same(docs["benders"]["objective"], docs[how]["objective"])
    bad = run_cli(["run", str(path), "--decompose", "scenarios"])
    assert bad.exit_code == 2
    assert "benders" in bad.output


def test_run_folder_of_a_decomposed_run_reads_back(tmp_path) -> None:
    """`model.benders` is typed: the folder's summary reads back strictly and the report
    says how the decomposition ended."""
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(generate(**CASES_GENERATED["cvar"]), sort_keys=False))
    out = tmp_path / "run"
    res = run_cli(["run", str(path), "--decompose", "benders", "--out", str(out)])
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "summary.json").read_text())
    b = doc["model"]["benders"]
    assert b["proven"] and b["gap"] <= b["target_gap"] and b["rounds"] >= 1
    assert b["lower_bound"] <= b["objective"] * (1 + 1e-7)
    written = (out / "report.html").read_bytes()
    (out / "report.html").unlink()  # made again from the folder's files alone
    res = run_cli(["report", str(out)])
    assert res.exit_code == 0, res.output
    assert "Scenario decomposition:" in (out / "report.html").read_text()
    assert (out / "report.html").read_bytes() == written
    rounds = f"Scenario decomposition: {b['rounds']} rounds, {b['subproblems']:,} subproblems"
    assert rounds in written.decode()


def test_time_limit_in_the_stock_first_milp_gives_the_plan_with_stock_used_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the time runs out in the MILP master (stock-before-shortage binaries), the
    answer is the LP phase's plan with its stock used first in w0: a plan that holds the
    rule and passes the check, "feasible", with its gap to the bound the LP phase proved
    (not 'no plan')."""
    from optimizer.solve.benders_highs import MasterSolver

    p = build_parameters(Scenario.model_validate(generate(**CASES_GENERATED["sampled"])))
    exact = solve_benders(p, SolverOptions(), InProcess())
    assert exact.complement  # the case needs the binaries
    original = MasterSolver.solve

    def out_of_time(self, time_limit, gap, start):  # type: ignore[no-untyped-def]
        if self.is_mip:
            return "limit", -np.inf, None
        return original(self, time_limit, gap, start)

    def node_out_of_time(self, low, up, basis, time_limit, lane=0, bound=np.inf):  # type: ignore[no-untyped-def]
        return "limit", -np.inf, None, None, None

    monkeypatch.setattr(MasterSolver, "solve", out_of_time)  # HiGHS' MILP (CBC's path)
    monkeypatch.setattr(MasterSolver, "node", node_out_of_time)  # the tree's LPs
    late = solve_benders(p, SolverOptions(), InProcess())
    _late_answer_holds(late, exact)  # bounded from below by the LP phase's bound
    assert 0 < late.gap < 1 and np.isfinite(late.gap)


def _late_answer_holds(late: BendersAnswer, exact: BendersAnswer) -> None:
    """A plan stopped by the time: "feasible", holding the rule, its objective its own
    cost, no better than the exact optimum, its lower bound below it, and checked."""
    from optimizer.model.solution import broken_stock_first
    from optimizer.results.plan import extract_plan, objective_of

    assert late.status == "feasible"
    assert not broken_stock_first(late.solution, late.solution.base)
    assert late.objective == pytest.approx(objective_of(late.solution), rel=1e-12)
    assert late.objective >= exact.objective * (1 - 1e-9)
    assert late.bounds.lower <= exact.objective * (1 + 1e-9)
    plan = extract_plan(late.solution, "feasible", late.objective)
    assert check_plan(plan).ok


def test_time_out_in_the_tree_after_its_first_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """The time runs out in the branch and bound over the binaries once it has a plan:
    the answer is that plan, checked, holding the rule, with the tree's least open bound
    as the lower bound (below the exact optimum)."""
    from optimizer.app import benders_tree

    p = build_parameters(Scenario.model_validate(generate(**CASES_GENERATED["sampled"])))
    exact = solve_benders(p, SolverOptions(), InProcess())
    assert exact.complement and exact.status == "optimal"
    monkeypatch.setattr(benders_tree, "_branch", lambda tree: "limit")
    late = solve_benders(p, SolverOptions(), InProcess())
    _late_answer_holds(late, exact)
    assert late.gap == pytest.approx(
        (late.objective - late.bounds.lower) / late.objective, rel=1e-9
    )


def test_a_failed_node_of_the_tree_is_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A node the solver fails on is never skipped (its subtree would be unexplored and
    the proof unsound): the run ends as an internal error."""
    from optimizer.common.errors import InternalError
    from optimizer.solve.benders_highs import MasterSolver

    p = build_parameters(Scenario.model_validate(generate(**CASES_GENERATED["sampled"])))
    monkeypatch.setattr(MasterSolver, "node", lambda *a: ("error", -np.inf, None, None, None))
    with pytest.raises(InternalError, match="search over the master's binaries"):
        solve_benders(p, SolverOptions(), InProcess())


@pytest.mark.parametrize("threads", [1, 2])
def test_the_tree_in_one_lane_or_two_gives_the_whole_models_optimum(threads: int) -> None:
    """The tree's nodes are searched by one thread or by two at once (each with its own
    copy of the master): either way the answer is proven and costs what the whole MILP's
    optimum costs (solved without decomposition)."""
    sc = Scenario.model_validate(generate(**CASES_GENERATED["sampled"]))
    whole = run_scenario(sc, SolverOptions(), decompose="off")
    split = run_scenario(sc, SolverOptions(threads=threads), decompose="benders")
    assert split.model_size["benders"]["stock_first_binaries"] > 0  # the tree ran
    assert split.plan.status == "optimal" and split.check.ok
    assert _same(split.plan.objective, whole.plan.objective)


def test_a_failed_node_in_a_lane_of_the_tree_is_an_internal_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A node that fails in one of the tree's threads ends the whole search as an internal
    error (the other lane is stopped), never a skipped subtree."""
    import threading

    from optimizer.solve.benders_highs import MasterSolver

    original = MasterSolver.node

    def fails_in_a_lane(self, low, up, basis, time_limit, lane=0, bound=np.inf):  # type: ignore[no-untyped-def]
        if threading.current_thread().name.startswith("tree"):
            return "error", -np.inf, None, None, None
        return original(self, low, up, basis, time_limit, lane, bound)

    p = build_parameters(Scenario.model_validate(generate(**CASES_GENERATED["sampled"])))
    monkeypatch.setattr(MasterSolver, "node", fails_in_a_lane)
    with pytest.raises(InternalError, match="search over the master's binaries"):
        solve_benders(p, SolverOptions(threads=2), InProcess())
