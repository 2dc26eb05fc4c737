"""`sourcing frontier`: the cost of capping one country's share.

Hand working for tests/cases/country_cap.yaml (one period, landed cost = price,
no shortage because shortage is dearer than any purchase):

- cap 0.6: 12600 (the case file's working: ndpr CN 60 * 50 + AU 40 * 70 = 5800;
  dy CN 12 * 300 + US 8 * 400 = 6800);
- cap 0.5: ndpr: c <= 0.5 (c + a) means c <= a; with c + a >= 100 the cheapest
  is c = a = 50 (buying more only adds cost): 50 * 50 + 50 * 70 = 6000.
  dy: c <= u, c + u >= 20: c = u = 10: 10 * 300 + 10 * 400 = 7000.
  Total 13000; CN's share 50% of every material.
- with max_supplier_share 0.5 added, cap 0 leaves dy_oxide with us_mp alone,
  which may carry only half of it: infeasible (no admissible mix); cap 0.5 is
  unchanged at 13000 (c = a = 50 and c = u = 10 already respect it).
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest

from optimizer.analysis.frontier import frontier, parse_shares, with_country_cap
from optimizer.app.executor import Serial
from optimizer.common.errors import UserError
from optimizer.io.load import load_scenario, resolved_data
from optimizer.schema.scenario import Scenario
from tests.conftest import CASES, SCENARIOS_2025, pipeline, run_cli

CAP = CASES / "country_cap.yaml"


def test_two_points_by_hand(solver: str) -> None:
    sc = load_scenario(CAP).scenario
    points = frontier(sc, "CN", [0.6, 0.5], pipeline(solver), Serial())
    assert [p.status for p in points] == ["optimal", "optimal"]
    assert [p.total_cost for p in points] == pytest.approx([12600.0, 13000.0])
    assert [p.max_material_share for p in points] == pytest.approx([0.6, 0.5])
    # CN volume: 60 + 12 = 72 of 120 at 0.6; 50 + 10 = 60 of 120 at 0.5
    assert [p.country_share for p in points] == pytest.approx([0.6, 0.5])
    none_short = {"dy_oxide": 0.0, "ndpr_oxide": 0.0}
    assert [p.shortage_by_material for p in points] == [none_short, none_short]
    assert [p.shortage_cost for p in points] == pytest.approx([0.0, 0.0])
    assert sc.policy.max_country_share == {"CN": 0.6}  # the scenario itself is unchanged


def test_cost_never_falls_as_the_cap_tightens_on_a_shipped_scenario() -> None:
    sc = load_scenario(SCENARIOS_2025 / "rare-earths-baseline.yaml").scenario
    shares = [1.0, 0.8, 0.6, 0.4, 0.2]
    points = frontier(sc, "CN", shares, pipeline(), Serial())
    assert all(p.status == "optimal" for p in points)
    costs = [p.total_cost or 0.0 for p in points]
    for looser, tighter in itertools.pairwise(costs):
        assert tighter >= looser - 1e-6 * abs(looser)
    assert costs[-1] > costs[0]  # diversifying to 20% China costs something here
    for p in points:
        assert (p.max_material_share or 0.0) <= p.share + 1e-9


def _single_source_half() -> Scenario:
    data = resolved_data(load_scenario(CAP).scenario)
    data["policy"]["max_supplier_share"] = 0.5
    return Scenario.model_validate(data)


def test_an_infeasible_point_is_reported_not_raised() -> None:
    points = frontier(_single_source_half(), "CN", [0.5, 0.0], pipeline(), Serial())
    assert [p.status for p in points] == ["optimal", "infeasible"]
    assert points[0].total_cost == pytest.approx(13000.0)
    assert "dy_oxide" in points[1].message
    assert points[1].total_cost is None


def test_shares_and_country_are_checked() -> None:
    assert parse_shares("1, 0.8,0") == [1.0, 0.8, 0.0]
    for bad in ("1,50", "a", "1,,0.5"):
        with pytest.raises(UserError):
            parse_shares(bad)
    with pytest.raises(UserError, match="unknown country 'XX'"):
        with_country_cap(load_scenario(CAP).scenario, "XX", 0.5)


def test_cli_out_files_and_exit_codes(tmp_path: Path) -> None:
    out = tmp_path / "frontier"
    res = run_cli(
        ["frontier", str(CAP), "--country", "CN", "--shares", "0.6,0.5", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "12,600" in res.stdout and "13,000" in res.stdout
    names = sorted(p.name for p in out.iterdir())
    assert names == [".sourcing-run", "frontier.csv", "frontier.png"]
    assert (out / "frontier.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with (out / "frontier.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(float(r["share"]), float(r["total_cost"])) for r in rows] == [
        (0.6, 12600.0),
        (0.5, 13000.0),
    ]
    # bad usage: exit 2, nothing written
    res = run_cli(["frontier", str(CAP), "--shares", "60", "--out", str(tmp_path / "x")])
    assert res.exit_code == 2
    assert not (tmp_path / "x").exists()
    assert run_cli(["frontier", str(CAP), "--country", "XX"]).exit_code == 2
    # only infeasible points: exit 3, each reported
    half = tmp_path / "half.yaml"
    half.write_text(f"name: half\nextends: {CAP}\npolicy:\n  max_supplier_share: 0.5\n")
    res = run_cli(["frontier", str(half), "--shares", "0", "--json"])
    assert res.exit_code == 3
    assert '"status": "infeasible"' in res.stdout
