"""`run --evaluate N`: the plan priced out of sample, with 95% intervals that hold.

On a risk set small enough to enumerate, the exact expected cost and CVaR of a
plan solved on a few sampled outcomes are known (the plan replayed on every
joint outcome with its probability); the intervals from fresh draws must
cover them, for a fixed seed and about 95% of the time over many seeds.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from benchmarks.generate import generate
from optimizer.app.evaluate import evaluate_plan, evaluation_outcomes, scenario_costs
from optimizer.app.pipeline import run_scenario
from optimizer.io.load import load_scenario
from optimizer.model.parameters import build_parameters
from optimizer.results.plan import PLAN_KEYS
from optimizer.results.risk import cvar_of
from optimizer.schema.scenario import Scenario
from optimizer.schema.summary import RunSummary
from optimizer.solve.status import SolverOptions
from tests.conftest import CASES, run_cli

SMALL = {"materials": 3, "suppliers": 8, "periods": 5, "events": 5, "samples": 6, "seed": 21}


@pytest.fixture(scope="module")
def sampled_plan():
    data = generate(**SMALL, cvar=True)
    sc = Scenario.model_validate(data)
    return run_scenario(sc, SolverOptions()).plan, data


def _exact(plan, data) -> tuple[float, float]:
    """Expected cost (F + E C) and CVaR of F + C of the plan over all 2^5 joint outcomes."""
    data = {k: v for k, v in data.items() if k != "sampling"}
    p = build_parameters(Scenario.model_validate(data))
    assert len(p.outcomes) == 32
    costs = scenario_costs(p, plan)
    probs = np.array([o.probability for o in p.outcomes])
    fixed = sum(plan.costs[k] for k in PLAN_KEYS)
    alpha = p.scenario.objective.cvar_alpha
    return fixed + float(probs @ costs), fixed + cvar_of(costs, probs, alpha)["cvar"]


def test_the_intervals_cover_the_exact_values(sampled_plan) -> None:
    plan, data = sampled_plan
    expected, cvar = _exact(plan, data)
    ev = evaluate_plan(plan, 4000, seed=7, replications=3)
    assert ev.method == "sampled" and ev.outcomes == 4000
    e, c = ev.expected_cost, ev.cvar
    assert e.ci95_low <= expected <= e.ci95_high
    assert c.ci95_low <= cvar <= c.ci95_high
    assert e.ci95_high - e.ci95_low < 0.05 * expected  # and they are not vacuous
    saa = ev.saa
    assert saa is not None
    assert saa.replications == 3 and len(saa.replication_objectives) == 3
    assert saa.gap_upper95 >= saa.gap


def test_about_95_percent_of_the_intervals_cover(sampled_plan) -> None:
    plan, data = sampled_plan
    expected, cvar = _exact(plan, data)
    seeds = range(100, 140)
    hits_e = hits_c = 0
    for s in seeds:
        ev = evaluate_plan(plan, 500, seed=s, replications=0)
        hits_e += ev.expected_cost.ci95_low <= expected <= ev.expected_cost.ci95_high
        hits_c += ev.cvar.ci95_low <= cvar <= ev.cvar.ci95_high
    # 40 intervals at 95%: fewer than 33 hits has probability below 0.1%
    assert hits_e >= 33 and hits_c >= 32


def test_disruptions_are_evaluated_exactly() -> None:
    sc = load_scenario(CASES / "disruption_spot.yaml").scenario
    plan = run_scenario(sc, SolverOptions()).plan
    ev = evaluate_plan(plan, 1000)
    assert ev.method == "exact" and ev.saa is None
    assert ev.expected_cost.value == pytest.approx(2240.0, rel=1e-9)
    assert ev.expected_cost.ci95_low == ev.expected_cost.ci95_high
    assert plan.cvar is not None
    assert ev.cvar.value == pytest.approx(plan.cvar["cvar"], rel=1e-9)
    assert ev.objective.value == pytest.approx(plan.objective, rel=1e-9)


def test_fresh_outcomes_are_drawn_as_the_model_draws_them() -> None:
    # the evaluation with seed S is the model's own sample of a file with seed S
    data = generate(**SMALL)
    p = build_parameters(Scenario.model_validate(data))
    fresh, method = evaluation_outcomes(p, 50, 99)
    other = build_parameters(
        Scenario.model_validate({**data, "sampling": {"scenarios": 50, "seed": 99}})
    )
    assert method == "sampled"
    assert [(o.name, o.probability) for o in fresh.outcomes] == [
        (o.name, o.probability) for o in other.outcomes
    ]


def test_cli_evaluate_writes_summary_and_report(tmp_path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(generate(**SMALL, cvar=True), sort_keys=False))
    out = tmp_path / "run"
    res = run_cli(["run", str(path), "--out", str(out), "--evaluate", "300", "--seed", "5"])
    assert res.exit_code == 0, res.output
    assert "Out of sample" in res.stdout
    doc = json.loads((out / "summary.json").read_text())
    RunSummary.model_validate(doc)
    ev = doc["evaluation"]
    assert ev["seed"] == 5 and ev["outcomes"] == 300
    assert ev["saa"]["replications"] == 5
    html = (out / "report.html").read_text()
    assert 'id="evaluation"' in html and "95% from" in html
    assert "evaluation" not in json.loads(run_cli(["run", str(path), "--json"]).stdout)
