"""`frontier` and `stress` report shortage per material (tonnes of different
materials are never added; money may be).

Two materials, one period of 30 days, no holding, no delays, no stock targets
(F = 0); landed cost = price; spot at price * 1.5 (the default premium), at most
the capacity left over by the plan.

- ndpr_oxide: demand 10, shortage 1000 per t. cn_baotou (CN) 100, capacity 100;
  au_lynas (AU) 200, capacity 2.
- dy_oxide: demand 4, shortage 5000 per t. cn_baotou (CN) 300, capacity 100;
  us_mp (US) 1000, capacity 1.

Frontier on CN, caps 1 and 0.5:
- cap 1: China is cheapest for both: ndpr 10 * 100 = 1000, dy 4 * 300 = 1200;
  total 2200, no shortage (shortage cost 0; 0 t of each material).
- cap 0.5: CN at most half of each material, c <= a (ndpr) and c <= u (dy).
  ndpr: a <= 2, so c = a = 2 (both cheaper than shortage): 2 * 100 + 2 * 200 =
  600, shortage 10 - 4 = 6 t = 6000. dy: c = u = 1: 300 + 1000 = 1300,
  shortage 4 - 2 = 2 t = 10000. Total 600 + 6000 + 1300 + 10000 = 17900;
  shortage cost 16000; shortage 6 t ndpr_oxide and 2 t dy_oxide (never "8 t").

Stress: the plan of the uncapped file (CN ndpr 10, dy 4, cost 2200) replayed
under a ban (cn_baotou capacity 0 for both): nothing planned arrives.
- ndpr: spot au_lynas 2 t at 300 = 600 (< 1000), shortage 8 t = 8000;
  service 1 - 8/10 = 0.2.
- dy: spot us_mp 1 t at 1500 = 1500 (< 5000), shortage 3 t = 15000;
  service 1 - 3/4 = 0.25.
Cost 600 + 8000 + 1500 + 15000 = 25100; spot cost 2100, shortage cost 23000;
service level (lowest) 0.2. The one scenario is also the expected row. The
ban's own optimum plans au 2 at 200 and us 1 at 1000: 400 + 8000 + 1000 +
15000 = 24400; regret 700. The plan's own run: delivered ndpr 10, dy 4, no spot,
no shortage, cost 2200.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from optimizer.analysis.frontier import frontier
from optimizer.analysis.stress import figures_table, regret_table, stress
from optimizer.app.executor import Serial
from optimizer.io.load import load_scenario
from tests.conftest import pipeline, run_cli

BASE = """\
name: two_short
horizon: {periods: 1, period_days: 30}
materials:
  ndpr_oxide: {demand: 10, shortage_cost: 1000}
  dy_oxide: {demand: 4, shortage_cost: 5000}
suppliers:
  cn_baotou:
    country: CN
    offers:
      ndpr_oxide: {price: 100, capacity: 100}
      dy_oxide: {price: 300, capacity: 100}
  au_lynas:
    country: AU
    offers:
      ndpr_oxide: {price: 200, capacity: 2}
  us_mp:
    country: US
    offers:
      dy_oxide: {price: 1000, capacity: 1}
"""

BAN = """\
name: two_ban
extends: two_short.yaml
suppliers:
  cn_baotou:
    offers:
      ndpr_oxide: {capacity: 0}
      dy_oxide: {capacity: 0}
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    base, ban = tmp_path / "two_short.yaml", tmp_path / "two_ban.yaml"
    base.write_text(BASE)
    ban.write_text(BAN)
    return base, ban


def test_frontier_reports_shortage_per_material_and_in_money(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    base, _ = files
    sc = load_scenario(base).scenario
    points = frontier(sc, "CN", [1.0, 0.5], pipeline(), Serial())
    assert [p.status for p in points] == ["optimal", "optimal"]
    assert [p.total_cost for p in points] == pytest.approx([2200.0, 17900.0])
    assert [p.shortage_cost for p in points] == pytest.approx([0.0, 16000.0])
    assert points[0].shortage_by_material == pytest.approx({"dy_oxide": 0.0, "ndpr_oxide": 0.0})
    assert points[1].shortage_by_material == pytest.approx({"dy_oxide": 2.0, "ndpr_oxide": 6.0})
    out = tmp_path / "frontier"
    res = run_cli(["frontier", str(base), "--shares", "1,0.5", "--out", str(out), "--json"]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert [(d["shortage: ndpr_oxide"], d["shortage: dy_oxide"]) for d in doc] == [
        pytest.approx((0.0, 0.0)),
        pytest.approx((6.0, 2.0)),
    ]
    assert [d["shortage_cost"] for d in doc] == pytest.approx([0.0, 16000.0])
    assert not any("expected_shortage" in key for key in doc[0])  # no sum over materials
    with (out / "frontier.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [float(r["shortage: ndpr_oxide"]) for r in rows] == [0.0, 6.0]
    assert [float(r["shortage: dy_oxide"]) for r in rows] == [0.0, 2.0]
    assert [float(r["shortage_cost"]) for r in rows] == [0.0, 16000.0]
    res = run_cli(["frontier", str(base), "--shares", "0.5"])
    assert res.exit_code == 0, res.output
    assert "16,000" in res.stdout
    assert "2.00 dy_oxide" in res.stdout and "6.00 ndpr_oxide" in res.stdout
    assert "8.00" not in res.stdout


def test_stress_reports_spot_and_shortage_per_material(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    base, ban = files
    report = stress(base, [ban], pipeline(), Serial())
    table = figures_table(report).set_index(["run", "scenario"])
    own = table.loc[("two_short (own)", "expected")].to_dict()
    assert own == pytest.approx(
        {
            "probability": 1.0,
            "cost": 2200.0,
            "planned_delivered: dy_oxide": 4.0,
            "planned_delivered: ndpr_oxide": 10.0,
            "spot: dy_oxide": 0.0,
            "spot: ndpr_oxide": 0.0,
            "shortage: dy_oxide": 0.0,
            "shortage: ndpr_oxide": 0.0,
            "service_level": 1.0,
        }
    )
    expected = {
        "probability": 1.0,
        "cost": 25100.0,
        "planned_delivered: dy_oxide": 0.0,
        "planned_delivered: ndpr_oxide": 0.0,
        "spot: dy_oxide": 1.0,
        "spot: ndpr_oxide": 2.0,
        "shortage: dy_oxide": 3.0,
        "shortage: ndpr_oxide": 8.0,
        "service_level": 0.2,
    }
    assert table.loc[("two_ban", "base")].to_dict() == pytest.approx(expected)
    assert table.loc[("two_ban", "expected")].to_dict() == pytest.approx(expected)
    regret = regret_table(report).iloc[0].to_dict()
    assert regret["regret"] == pytest.approx(700.0)
    assert regret["spot_cost"] == pytest.approx(2100.0)
    assert regret["shortage_cost"] == pytest.approx(23000.0)
    assert (regret["spot: ndpr_oxide"], regret["spot: dy_oxide"]) == pytest.approx((2.0, 1.0))
    assert (regret["shortage: ndpr_oxide"], regret["shortage: dy_oxide"]) == pytest.approx(
        (8.0, 3.0)
    )
    assert not any(key in regret for key in ("expected_spot", "expected_shortage"))
    out = tmp_path / "stress"
    res = run_cli(["stress", str(base), "--under", str(ban), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "25,100" in res.stdout
    with (out / "stress.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert "shortage" not in rows[0] and "spot" not in rows[0]  # no sums over materials
    ban_row = next(r for r in rows if r["run"] == "two_ban" and r["scenario"] == "expected")
    assert float(ban_row["shortage: ndpr_oxide"]) == 8.0
    assert float(ban_row["shortage: dy_oxide"]) == 3.0
    res = run_cli(["stress", str(base), "--under", str(ban), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["quantity_unit"] == "t"
    last = doc["under"][0]["scenarios"][-1]
    assert last["scenario"] == "expected"
    assert last["service_level"] == pytest.approx(0.2)
    assert last["materials"] == {
        "dy_oxide": pytest.approx({"planned_delivered": 0.0, "spot": 1.0, "shortage": 3.0}),
        "ndpr_oxide": pytest.approx({"planned_delivered": 0.0, "spot": 2.0, "shortage": 8.0}),
    }
    assert doc["under"][0]["costs"]["shortage"] == pytest.approx(23000.0)
