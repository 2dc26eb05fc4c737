"""Infeasibility explained: the smallest set of policies whose removal makes a scenario feasible.

Hand working of PAIR (one period; each material must be bought):

- dy_oxide is offered by cn_a (CN, risk 0.9) and us_b (US, risk 0.5). With
  max_supplier_share 0.6 and CN capped at 0.3 at most 0.6 + 0.3 = 90% of it can
  be placed: no admissible mix. max_average_risk 0.4 is below the risk of
  either supplier, so it fails too whatever the caps.
  Removing one policy: the single-source cap -> us_b 100% but risk 0.5 > 0.4;
  the CN cap -> 0.6 us_b + 0.4 cn_a, risk 0.66 > 0.4; the risk cap -> still
  90%. No single policy suffices.
  Removing two: {single-source, risk} -> us_b 100%: feasible;
  {CN cap, risk} -> feasible; {single-source, CN cap} -> risk 0.5 > 0.4: not.
- ndpr_oxide: cn_a and au_c (AU, risk 0.1): 0.6 + 0.3 = 90% (infeasible);
  removing the single-source cap lets au_c take 100% at risk 0.1: feasible;
  removing the CN cap: 0.6 au_c + 0.4 cn_a, risk 0.42 > 0.4: not; removing the
  risk cap: 90%: not. So {single-source, risk} fixes both materials and is the
  first smallest set; {CN cap, risk} fixes both too (dy: 0.6 us_b + 0.4 cn_a;
  ndpr: 0.6 au_c + 0.4 cn_a, no risk cap left): the alternative.
  In the first set, the single-source cap is needed for dy_oxide and
  ndpr_oxide (without removing it both stay at 90%) and the risk cap for
  dy_oxide only (ndpr_oxide is fine once au_c may take all of it).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from optimizer.analysis.explain import explain, relaxables, relaxed
from optimizer.io.load import load_scenario
from tests.conftest import CASES, ROOT, pipeline

PAIR = """\
name: pair
horizon: {periods: 1}
materials:
  ndpr_oxide: {demand: 10, shortage_cost: 1000}
  dy_oxide: {demand: 10, shortage_cost: 1000}
suppliers:
  cn_a:
    country: CN
    risk: 0.9
    offers:
      dy_oxide: {price: 1, capacity: 100, min_order: 2}
      ndpr_oxide: {price: 1, capacity: 100}
  us_b:
    country: US
    risk: 0.5
    offers:
      dy_oxide: {price: 2, capacity: 100}
  au_c:
    country: AU
    risk: 0.1
    offers:
      ndpr_oxide: {price: 2, capacity: 100}
policy:
  max_supplier_share: 0.6
  max_country_share: {CN: 0.3}
  max_average_risk: 0.4
"""


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "optimizer", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def line_of(path: Path, start: str) -> int:
    lines = path.read_text().splitlines()
    return next(i for i, text in enumerate(lines, 1) if text.strip().startswith(start))


def test_min_suppliers_alone_is_named_with_its_line(solver: str) -> None:
    case = CASES / "infeasible_min_suppliers.yaml"
    res = run_cli("run", str(case), "--solver", solver)
    assert res.returncode == 3
    line = line_of(case, "min_suppliers:")
    assert res.stderr.strip() == (
        f"{case}:{line}: policy.min_suppliers: infeasible for dy_oxide: min_suppliers is 3 but "
        "only 2 supplier(s) offer dy_oxide (cn_baotou, us_mp) "
        "(removing this policy alone makes it feasible)"
    )
    assert res.stdout == ""


def test_two_policies_together_with_an_alternative(tmp_path: Path) -> None:
    path = tmp_path / "pair.yaml"
    path.write_text(PAIR)
    res = run_cli("run", str(path))
    assert res.returncode == 3, res.stderr
    lines = res.stderr.strip().splitlines()
    single, risk, country = (
        line_of(path, "max_supplier_share:"),
        line_of(path, "max_average_risk:"),
        line_of(path, "max_country_share:"),
    )
    assert lines[0].startswith(
        f"{path}:{single}: policy.max_supplier_share: infeasible for dy_oxide: "
    )
    assert "; infeasible for ndpr_oxide: " in lines[0]
    assert lines[0].endswith(
        "(removing it together with policy.max_average_risk makes it feasible)"
    )
    assert lines[1].startswith(f"{path}:{risk}: policy.max_average_risk: infeasible for dy_oxide: ")
    assert "lowest average risk" in lines[1]  # the conflict the risk cap causes
    assert "ndpr_oxide" not in lines[1]
    assert lines[1].endswith(
        "(removing it together with policy.max_supplier_share makes it feasible)"
    )
    assert lines[2] == (
        f"alternatively, removing policy.max_country_share.CN ({path}:{country}) and "
        f"policy.max_average_risk ({path}:{risk}) makes it feasible"
    )


def test_explain_without_presolve_conflicts_finds_the_materials(tmp_path: Path) -> None:
    """The path taken when the solver, not the pre-solve check, says infeasible."""
    path = tmp_path / "pair.yaml"
    path.write_text(PAIR)
    sc = load_scenario(path).scenario
    ex = explain(sc, [], pipeline())
    assert ex is not None
    assert sorted(ex.reasons) == ["dy_oxide", "ndpr_oxide"]
    assert [[r.name for r in s] for s in ex.removals] == [
        ["policy.max_supplier_share", "policy.max_average_risk"],
        ["policy.max_country_share.CN", "policy.max_average_risk"],
    ]
    assert explain(relaxed(sc, ex.removals[0]), [], pipeline()) is None  # feasible once removed


def test_every_family_can_be_relaxed(tmp_path: Path) -> None:
    path = tmp_path / "pair.yaml"
    path.write_text(PAIR.replace("policy:\n", "policy:\n  min_suppliers: 1\n"))
    sc = load_scenario(path).scenario
    items = relaxables(sc)
    assert [r.family for r in items] == [
        "min_suppliers",
        "supplier_share",
        "country_share",
        "average_risk",
        "min_order",
    ]
    bare = relaxed(sc, items)
    assert bare.policy.min_suppliers is None
    assert bare.policy.max_supplier_share is None
    assert bare.policy.max_country_share == {}
    assert bare.policy.max_average_risk is None
    assert bare.suppliers["cn_a"].offers["dy_oxide"].min_order == 0


@pytest.mark.parametrize("name", ["country_cap", "min_order"])
def test_feasible_scenarios_need_no_explanation(name: str) -> None:
    assert explain(load_scenario(CASES / f"{name}.yaml").scenario, [], pipeline()) is None
