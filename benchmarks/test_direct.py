"""The direct numpy build (benchmarks/direct.py) is the product's LP, exactly.

Not part of the product's test suite (pytest's testpaths is tests/); run it explicitly:

    .venv/bin/python -m pytest benchmarks/test_direct.py
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from direct import direct_form, pass_model, solve_direct
from generate import generate

from optimizer.app.checked_solve import solve_stock_first
from optimizer.app.pipeline import run_scenario
from optimizer.model.build import build_model
from optimizer.model.builder import MatrixForm
from optimizer.model.parameters import Parameters, build_parameters
from optimizer.schema.scenario import Scenario
from optimizer.solve.status import SolverOptions


def _with(data: dict[str, Any], **policy: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    out["policy"].update(policy)
    return out


def _disruptions(data: dict[str, Any]) -> dict[str, Any]:
    """The generated independent risks as mutually exclusive disruptions instead."""
    out = copy.deepcopy(data)
    out["disruptions"] = out.pop("risks")
    return out


def _edges(data: dict[str, Any]) -> dict[str, Any]:
    """Corner cases of the row builder: zero caps and weights, missing columns, all ss."""
    out = copy.deepcopy(data)
    sups = out["suppliers"]
    ids = sorted(sups)
    sups[ids[0]]["max_share"] = 0.3  # own cap overrides the policy's
    sups[ids[1]]["max_share"] = 0.0  # zero cap: the total drops out of its rows
    sups[ids[2]]["max_share"] = 1.0  # no row at all
    sups[ids[3]]["risk"] = 0.0  # zero weight in the risk rows
    sups[ids[4]]["lead_time_days"] = 10_000  # never deliverable: no x, no y
    first = sorted(sups[ids[5]]["offers"])[0]
    sups[ids[5]]["offers"][first]["capacity"] = 0.0  # no x for this offer
    out["countries"]["ZZ"] = {"tariff": 0.0, "risk": 0.5}  # listed, but no supplier there
    out["policy"]["max_country_share"] = {"CN": 0.8, "MY": 0.0, "ZZ": 0.5}
    for i, mat in enumerate(sorted(out["materials"])):
        m = out["materials"][mat]
        m["safety_stock"] = 3.0
        m["holding_cost"] = 0.0 if i % 2 else m["holding_cost"]
        m["inbound"] = [1.5, 0.0, 2.0]
    return out


def _version2(data: dict[str, Any]) -> dict[str, Any]:
    """The families version 2 added: reserved capacity (fee, exercise price), export
    controls that reach beyond a border with an exposure cap, days of cover and end
    stock targets."""
    out = copy.deepcopy(data)
    sups = out["suppliers"]
    ids = sorted(sups)
    for sid in ids[::3]:
        for offer in sups[sid]["offers"].values():
            offer["reservation_fee"] = 150.0
    first = sorted(sups[ids[1]]["offers"])[0]
    sups[ids[1]]["offers"][first]["reservation_fee"] = 90.0
    sups[ids[1]]["offers"][first]["exercise_price"] = 2.5e5
    non_cn = [sid for sid in ids if sups[sid]["country"] not in ("CN", "MY")]
    for sid in non_cn[:2]:
        sups[sid]["controlled_by"] = ["MY"]
    out["policy"]["max_country_exposure"] = {"MY": 0.6}
    for i, mat in enumerate(sorted(out["materials"])):
        m = out["materials"][mat]
        m.pop("safety_stock", None)
        if i % 2:
            m["safety_stock_days"] = 20.0
        else:
            m["end_stock"] = 4.0
    return out


def _params(data: dict[str, Any]) -> Parameters:
    return build_parameters(Scenario.model_validate(data))


BASE = generate(5, 10, 6, 0, None, seed=1)
EVENTS = generate(5, 10, 6, 4, None, seed=2)
SAMPLED = generate(4, 8, 6, 6, 20, seed=5)
CVAR = generate(5, 10, 6, 4, None, seed=3, cvar=True)
MILP = generate(4, 8, 4, 2, None, seed=4, milp=True, cvar=True)

CASES = {
    "deterministic": BASE,
    "deterministic-period": _with(BASE, share_basis="period"),
    "events": EVENTS,
    "events-period": _with(EVENTS, share_basis="period"),
    "sampled": SAMPLED,
    "disruptions": _disruptions(EVENTS),
    "cvar": CVAR,
    "cvar-period": _with(CVAR, share_basis="period"),
    "no-policy": generate(4, 8, 6, 3, None, seed=6, policy=False),
    "edges": _edges(EVENTS),
    "edges-period": _with(_edges(EVENTS), share_basis="period"),
    "milp": MILP,
    "milp-period": _with(MILP, share_basis="period"),
    "version2": _version2(EVENTS),
    "version2-period": _with(_version2(EVENTS), share_basis="period"),
    "version2-cvar": _version2(CVAR),
    "version2-milp": _version2(MILP),
}
LP_CASES = [k for k in CASES if not k.startswith(("milp", "edges", "version2-milp"))]

FIELDS = ("cost", "col_lower", "col_upper", "integer", "row_lower", "row_upper")


def _sorted_rows(form: MatrixForm) -> tuple[np.ndarray, np.ndarray]:
    """Index and value arrays with the indices sorted within each row."""
    rows = np.repeat(np.arange(len(form.start) - 1), np.diff(form.start))
    order = np.lexsort((form.index, rows))
    return form.index[order], form.value[order]


def matrix_form(built):  # type: ignore[no-untyped-def]
    """The model's PuLP problem, read back as arrays."""
    _ = built.problem
    return built.solver_form()


def _complement(params: Parameters, every: int) -> frozenset[tuple[int, int]]:
    """Stock-before-shortage pairs of w0 for every `every`-th material (periods with demand)."""
    return frozenset(
        (mi, t)
        for mi in range(0, len(params.materials), every)
        for t in range(params.periods)
        if params.demand[mi, t] > 0
    )


@pytest.mark.parametrize("every", [0, 1, 2])
@pytest.mark.parametrize("case", list(CASES))
def test_same_matrix_form(case: str, every: int) -> None:
    params = _params(CASES[case])
    complement = _complement(params, every) if every else frozenset()
    mine = direct_form(params, complement)
    built = build_model(params, complement=complement)
    ref = matrix_form(built)
    assert mine.offset == ref.offset
    recorded = getattr(built, "matrix", None)  # what the product now hands to HiGHS
    if recorded is not None:
        for name in (*FIELDS, "start", "index", "value"):
            assert np.array_equal(getattr(mine, name), getattr(recorded, name)), name
    for name in FIELDS:
        a, b = getattr(mine, name), getattr(ref, name)
        assert a.shape == b.shape, name
        assert np.array_equal(a, b), name
    assert np.array_equal(mine.start, ref.start)
    assert mine.index.dtype == ref.index.dtype
    idx_a, val_a = _sorted_rows(mine)
    idx_b, val_b = _sorted_rows(ref)
    assert np.array_equal(idx_a, idx_b)
    assert np.array_equal(val_a, val_b)
    # stronger than asked: the direct build also keeps the model's order within rows
    assert np.array_equal(mine.index, ref.index)
    assert np.array_equal(mine.value, ref.value)


def test_cases_cover_the_families() -> None:
    """The cases really contain what they are named for (guards the generator)."""
    assert len(_params(BASE).outcomes) == 1
    v2 = build_model(_params(CASES["version2"]))
    assert (v2.r >= 0).any() and (v2.o >= 0).any() and (v2.endshort >= 0).any()
    assert {i.family for i in v2.row_info.values()} >= {"country_exposure"}
    assert len(_params(EVENTS).outcomes) == 16
    assert _params(CASES["disruptions"]).scenario.disruptions
    assert _params(CVAR).scenario.objective.risk_measure == "cvar"
    milp = matrix_form(build_model(_params(MILP)))
    assert milp.integer.any()
    built = build_model(_params(CASES["edges-period"]))
    families = {info.family for info in built.row_info.values()}
    assert families == {"supplier_share", "country_share", "average_risk"}


@pytest.mark.parametrize("case", [*LP_CASES, "milp", "milp-period", "version2-milp"])
def test_same_objective(case: str) -> None:
    data = CASES[case]
    expected = run_scenario(Scenario.model_validate(data), decompose="off").plan.objective
    params = _params(data)
    # the stock-before-shortage binaries the product's run ended with
    built, _result, _solution, _ = solve_stock_first(params, SolverOptions(), build_model)
    complement = frozenset(zip(*np.nonzero(built.q >= 0), strict=True))
    got = solve_direct(params, complement=complement)
    assert got["status"] == "optimal"
    assert got["objective"] == pytest.approx(expected, rel=1e-7)
    for phase in ("build", "handoff", "solve", "extract"):
        assert got[phase] >= 0.0
    ref = built.matrix
    assert (got["nnz"], got["rows"], got["cols"]) == (ref.nnz, len(ref.row_lower), len(ref.cost))


def _lp_arrays(h: Any) -> dict[str, np.ndarray]:
    lp = h.getLp()
    a = lp.a_matrix_
    return {
        "format": np.array([int(a.format_)]),
        "cost": np.asarray(lp.col_cost_),
        "col_lower": np.asarray(lp.col_lower_),
        "col_upper": np.asarray(lp.col_upper_),
        "row_lower": np.asarray(lp.row_lower_),
        "row_upper": np.asarray(lp.row_upper_),
        "start": np.asarray(a.start_),
        "index": np.asarray(a.index_),
        "value": np.asarray(a.value_),
        "integer": np.asarray([int(t) for t in lp.integrality_] or [0] * lp.num_col_),
    }


@pytest.mark.parametrize("case", ["events", "milp"])
def test_array_handoff_gives_highs_the_products_lp(case: str) -> None:
    """`pass_model` (numpy overload) leaves HiGHS with the LP the product's HighsLp gives it."""
    import highspy

    from optimizer.common.native import quiet_stdout

    form = direct_form(_params(CASES[case]))
    lp = highspy.HighsLp()  # as optimizer.solving.solve_highs fills it
    lp.num_col_, lp.num_row_ = len(form.cost), len(form.row_lower)
    lp.col_cost_, lp.offset_ = form.cost, form.offset
    lp.col_lower_, lp.col_upper_ = form.col_lower, form.col_upper
    lp.row_lower_, lp.row_upper_ = form.row_lower, form.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_, lp.a_matrix_.index_ = form.start, form.index
    lp.a_matrix_.value_ = form.value
    if form.integer.any():
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
            for i in form.integer
        ]
    with quiet_stdout(False):
        ref, mine = highspy.Highs(), highspy.Highs()
        for h in (ref, mine):
            h.setOptionValue("output_flag", False)
        ref.passModel(lp)
        pass_model(mine, form)
    got, want = _lp_arrays(mine), _lp_arrays(ref)
    for name, value in want.items():
        assert np.array_equal(got[name], value), name
