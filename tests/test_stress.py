"""`sourcing stress`: a plan that relies on China replayed under a ban and under licences.

Every figure is worked out by hand in the case files (the working is at the
top of each):

- tests/cases/stress/cn_cheap.yaml: the plan, CN 10 t in each of 2 periods, 2000;
- cn_ban.yaml: China sells nothing (capacity 0). Nothing planned arrives; spot
  au_lynas 4 t per period at 150 * 1.5 = 225: spot 8 t = 1800, shortage 12 t =
  12000, total 13800, service level 1 - 12/20 = 0.4. Its own optimum plans
  au_lynas 4 + 4 at 150: 1200 + 12000 = 13200; regret 600;
- cn_licence.yaml: CN from period 2 only (licence), at most 6 t, halted in
  period 2 with p 0.25. w0: 900 + 6000 + 600 + 900 = 8400 (delivered 6, spot 8,
  shortage 6); cn-halt: 13800 (delivered 0, spot 8, shortage 12); expected
  9750, spot 8, shortage 7.5, service 0.625; own optimum 9150; regret 600.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from optimizer.analysis.stress import figures_table, regret_table, stress
from optimizer.app.executor import Processes, Serial
from optimizer.app.pipeline import replay_plan
from optimizer.io.load import load_scenario
from optimizer.model.build import build_replay
from optimizer.model.parameters import build_parameters, plan_array
from optimizer.results.check import check_plan
from optimizer.solve.status import SolverOptions
from tests.conftest import CASES, pipeline, run_cli

HERE = CASES / "stress"
PLAN = HERE / "cn_cheap.yaml"
BAN = HERE / "cn_ban.yaml"
LICENCE = HERE / "cn_licence.yaml"
PLANNED = {("cn_baotou", "ndpr_oxide", 1): 10.0, ("cn_baotou", "ndpr_oxide", 2): 10.0}


def _rows(table, run: str) -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    part = table[table["run"] == run].set_index("scenario")
    return part.drop(columns="run").to_dict(orient="index")


def test_plan_relying_on_china_under_a_ban_and_licences(solver: str) -> None:
    report = stress(PLAN, [BAN, LICENCE], pipeline(solver), Serial())
    assert report.plan.quantities == PLANNED
    assert report.plan.total_cost == pytest.approx(2000.0)
    ban, licence = report.unders
    # cn_ban: spot 8 t at 225 = 1800, shortage 12 t = 12000, total 13800
    assert ban.replay is not None
    assert ban.replay.costs["spot"] == pytest.approx(1800.0)
    assert ban.replay.costs["shortage"] == pytest.approx(12000.0)
    assert ban.replay.costs["purchase"] == pytest.approx(0.0)
    assert ban.replayed_cost == pytest.approx(13800.0)
    assert ban.optimal_cost == pytest.approx(13200.0)
    assert ban.regret == pytest.approx(600.0)
    spot = ban.replay.spot
    got = zip(spot["scenario"], spot["supplier"], spot["period"], spot["quantity"], strict=True)
    assert sorted(got) == [
        ("base", "au_lynas", 1, 4.0),
        ("base", "au_lynas", 2, 4.0),
    ]  # spot bought in w0: the replay's recourse
    assert ban.replay.orders.empty  # x_eff = min(10, 0) = 0
    table = figures_table(report)
    got = _rows(table, "cn_ban")["base"]
    assert got == pytest.approx(
        {
            "probability": 1.0,
            "cost": 13800.0,
            "planned_delivered: ndpr_oxide": 0.0,
            "spot: ndpr_oxide": 8.0,
            "shortage: ndpr_oxide": 12.0,
            "service_level": 0.4,
        }
    )
    # cn_licence: per scenario and expected
    rows = _rows(table, "cn_licence")
    assert rows["base"] == pytest.approx(
        {
            "probability": 0.75,
            "cost": 8400.0,
            "planned_delivered: ndpr_oxide": 6.0,
            "spot: ndpr_oxide": 8.0,
            "shortage: ndpr_oxide": 6.0,
            "service_level": 0.7,
        }
    )
    assert rows["cn-halt"] == pytest.approx(
        {
            "probability": 0.25,
            "cost": 13800.0,
            "planned_delivered: ndpr_oxide": 0.0,
            "spot: ndpr_oxide": 8.0,
            "shortage: ndpr_oxide": 12.0,
            "service_level": 0.4,
        }
    )
    assert rows["expected"] == pytest.approx(
        {
            "probability": 1.0,
            "cost": 9750.0,
            "planned_delivered: ndpr_oxide": 4.5,
            "spot: ndpr_oxide": 8.0,
            "shortage: ndpr_oxide": 7.5,
            "service_level": 0.625,
        }
    )
    assert licence.replay is not None
    # x_eff: nothing in period 1 (earliest period 2), min(10, 6) = 6 in period 2
    orders = licence.replay.orders
    assert list(zip(orders["period"], orders["quantity"], strict=True)) == [(2, 6.0)]
    assert licence.replay.costs["spot"] == pytest.approx(1800.0)  # 8 t at 225 in both
    assert licence.optimal_cost == pytest.approx(9150.0)
    assert licence.regret == pytest.approx(600.0)
    own = _rows(table, "cn_cheap (own)")["expected"]
    assert own["cost"] == pytest.approx(2000.0)
    assert own["planned_delivered: ndpr_oxide"] == pytest.approx(20.0)
    regrets = regret_table(report)
    assert regrets["regret"].tolist() == pytest.approx([600.0, 600.0])


def test_replay_model_fixes_the_plan_and_opens_spot_in_w0() -> None:
    params = build_parameters(load_scenario(LICENCE).scenario)
    x, lost = plan_array(params, PLANNED)
    assert lost == 0.0
    built = build_replay(params, x)
    fixed = built.matrix
    assert fixed is not None
    cols = built.x[built.x >= 0]
    assert np.array_equal(fixed.col_lower[cols], fixed.col_upper[cols])  # x is fixed
    o = params.offers.index(("cn_baotou", "ndpr_oxide"))
    assert built.x[o, 0] == -1  # earliest period 2: no column in period 1
    assert fixed.col_lower[built.x[o, 1]] == 6.0  # min(10, capacity 6)
    assert (built.y[0] >= 0).any()  # spot columns in w0
    assert not built.is_mip


def test_checker_replay_mode_is_what_makes_the_replay_pass() -> None:
    scenario = load_scenario(BAN).scenario
    plan, _ = replay_plan(scenario, PLANNED, SolverOptions())
    assert check_plan(plan, replay=True, planned=PLANNED).ok
    strict = check_plan(plan)  # as a plan of §4, w0 may not buy spot
    assert not strict.ok
    assert any("not allowed here" in v for v in strict.violations)
    # planned volume that should have arrived but did not is caught
    wrong = {("cn_baotou", "ndpr_oxide", 1): 10.0}
    licence, _ = replay_plan(load_scenario(LICENCE).scenario, PLANNED, SolverOptions())
    report = check_plan(licence, replay=True, planned=wrong)
    assert not report.ok
    assert any("replayed plan cn_baotou/ndpr_oxide/2" in v for v in report.violations)


@pytest.mark.parametrize(
    "name", ["fixed_cost", "disruption_spot", "cvar_plan", "min_order", "independent_risks"]
)
def test_a_plan_replayed_under_its_own_scenario_costs_what_it_cost(name: str) -> None:
    """Its own recourse is open to the replay, so the replay costs at most the plan's own
    fixed + expected cost; in these cases (no shortage worth buying spot for in w0)
    exactly that, and the regret is 0. fixed_cost: the fixed cost 300 of the supplier the
    plan uses is carried into the replay (hand working in tests/cases/fixed_cost.yaml)."""
    path = CASES / f"{name}.yaml"
    report = stress(path, [path], pipeline(), Serial())
    under = report.unders[0]
    assert under.replayed_cost == pytest.approx(report.plan.total_cost, rel=1e-9)
    assert under.regret == pytest.approx(0.0, abs=1e-6)
    if name == "fixed_cost":
        assert under.replay is not None and under.replay.costs["fixed"] == pytest.approx(300.0)


def test_several_files_in_worker_processes_give_the_serial_answer() -> None:
    serial = stress(PLAN, [BAN, LICENCE], pipeline(), Serial())
    parallel = stress(PLAN, [BAN, LICENCE], pipeline(), Processes(2))
    assert figures_table(parallel).equals(figures_table(serial))
    assert regret_table(parallel).equals(regret_table(serial))


def test_run_folder_and_scenario_file_give_the_same_stress(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    res = run_cli(["run", str(PLAN), "--out", str(folder)])
    assert res.exit_code == 0, res.output
    from_folder = stress(folder, [LICENCE], pipeline(), Serial())
    from_file = stress(PLAN, [LICENCE], pipeline(), Serial())
    assert from_folder.plan.quantities == from_file.plan.quantities
    a, b = figures_table(from_folder), figures_table(from_file)
    assert a.drop(columns="run").equals(b.drop(columns="run"))


def test_cli_out_json_and_exit_codes(tmp_path: Path) -> None:
    out = tmp_path / "stress"
    res = run_cli(
        ["stress", str(PLAN), "--under", str(BAN), "--under", str(LICENCE), "--out", str(out)],
    )
    assert res.exit_code == 0, res.output
    assert "13,800" in res.stdout and "9,750" in res.stdout
    assert sorted(p.name for p in out.iterdir()) == [".sourcing-run", "regret.csv", "stress.csv"]
    with (out / "regret.csv").open(newline="") as fh:
        regret = list(csv.DictReader(fh))
    assert [(r["under"], float(r["regret"])) for r in regret] == [
        ("cn_ban", 600.0),
        ("cn_licence", 600.0),
    ]
    res = run_cli(["stress", str(PLAN), "--under", str(BAN), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["under"][0]["replayed_cost"] == pytest.approx(13800.0)
    assert doc["under"][0]["optimal_cost"] == pytest.approx(13200.0)
    assert doc["plan"]["total_cost"] == pytest.approx(2000.0)
    # --under is required; an invalid file is exit 2; an infeasible plan is exit 3
    assert run_cli(["stress", str(PLAN)]).exit_code == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [\n")
    res = run_cli(["stress", str(PLAN), "--under", str(bad)])
    assert res.exit_code == 2
    assert str(bad) in res.output
    infeasible = CASES / "infeasible_min_suppliers.yaml"
    res = run_cli(["stress", str(infeasible), "--under", str(BAN)])
    assert res.exit_code == 3
    # an existing folder is not replaced without --force
    res = run_cli(["stress", str(PLAN), "--under", str(BAN), "--out", str(out)])
    assert res.exit_code == 2
