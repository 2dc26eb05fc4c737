"""`sourcing compare`: plans side by side.

Hand-checked on two tiny files (working at the top of each):

- tests/cases/stress/cn_cheap.yaml: CN 10 t in each of 2 periods at 100: total
  2000, all of it spend, volume 20, planned unit cost 100, CN share and
  exposure 100%, largest supplier share 100%, no shortage, service 100%, 1
  supplier;
- tests/cases/stress/cn_ban.yaml (China sells nothing): au_lynas 4 t per period
  at 150 (purchase 1200, the spend), shortage 12 t (12000, a penalty): total
  13200, volume 8, planned unit cost 150, CN share 0, largest supplier share
  100%, expected and worst shortage 12, service 1 - 12/20 = 40%, 1 supplier.
  Volumes against cn_cheap: cn_baotou 0 - 20 = -20, au_lynas 8 - 0 = +8.

And on two shipped scenarios against the README table and two separate runs.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from optimizer.analysis.compare import Comparison, compare
from optimizer.app.executor import Processes, Serial
from optimizer.app.pipeline import run_scenario
from optimizer.io.load import load_scenario
from tests.conftest import CASES, ROOT, SCENARIOS_2025, pipeline, run_cli

CHEAP = CASES / "stress" / "cn_cheap.yaml"
BAN = CASES / "stress" / "cn_ban.yaml"
BASELINE = SCENARIOS_2025 / "rare-earths-baseline.yaml"
LICENSING = SCENARIOS_2025 / "licensing-2025.yaml"


def kpi(c: Comparison, name: str) -> list[float | None]:
    row = c.kpis.set_index("kpi").loc[name]
    return [None if row[label] is None else float(row[label]) for label in c.labels]


def test_two_tiny_plans_by_hand() -> None:
    c = compare([CHEAP, BAN], pipeline(), Serial())
    assert c.labels == ["cn_cheap", "cn_ban"]
    assert kpi(c, "total cost") == pytest.approx([2000.0, 13200.0])
    assert kpi(c, "spend (money paid)") == pytest.approx([2000.0, 1200.0])
    assert kpi(c, "penalties (modelled, not paid)") == pytest.approx([0.0, 12000.0])
    assert kpi(c, "spend: purchase") == pytest.approx([2000.0, 1200.0])
    assert kpi(c, "penalty: shortage") == pytest.approx([0.0, 12000.0])
    assert kpi(c, "planned volume, all materials") == pytest.approx([20.0, 8.0])
    assert kpi(c, "planned unit cost: ndpr_oxide") == pytest.approx([100.0, 150.0])
    assert kpi(c, "CN share: ndpr_oxide") == pytest.approx([1.0, 0.0])
    assert kpi(c, "CN exposure: ndpr_oxide") == pytest.approx([1.0, 0.0])
    assert kpi(c, "largest supplier share: ndpr_oxide") == pytest.approx([1.0, 1.0])
    assert kpi(c, "expected shortage: ndpr_oxide") == pytest.approx([0.0, 12.0])
    assert kpi(c, "worst shortage: ndpr_oxide") == pytest.approx([0.0, 12.0])
    assert kpi(c, "service level: ndpr_oxide") == pytest.approx([1.0, 0.4])
    assert kpi(c, "suppliers used") == [1.0, 1.0]
    assert kpi(c, "tail cost (CVaR of total cost)") == [None, None]  # one scenario each
    vols = c.volumes.set_index("supplier")
    assert vols.loc["cn_baotou", "cn_ban - cn_cheap"] == pytest.approx(-20.0)
    assert vols.loc["au_lynas", "cn_ban - cn_cheap"] == pytest.approx(8.0)
    assert vols.loc["au_lynas", "country"] == "AU"


def _readme_costs() -> dict[str, float]:
    """Expected cost (M USD) per scenario in the README's scenario tables, keyed by the
    file's path under scenarios/ without .yaml (`2025/rare-earths-baseline`)."""
    out = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        m = re.match(r"\| `([\w/-]+)`[^|]*\| ([\d.]+) \|", line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


@pytest.fixture(scope="module")
def shipped() -> Comparison:
    return compare([BASELINE, LICENSING], pipeline(), Processes(2))


def test_snapshot_shipped_scenarios_match_the_readme_and_separate_runs(shipped: Comparison) -> None:
    readme = _readme_costs()
    totals = kpi(shipped, "total cost")
    assert shipped.labels == ["rare-earths-baseline", "licensing-2025"]
    assert totals[0] / 1e6 == pytest.approx(readme["2025/rare-earths-baseline"], abs=0.05)
    assert totals[1] / 1e6 == pytest.approx(readme["2025/licensing-2025"], abs=0.05)
    runs = [run_scenario(load_scenario(p).scenario).plan.orders for p in (BASELINE, LICENSING)]
    sums = [df.groupby(["supplier", "material"])["quantity"].sum() for df in runs]
    diff = sums[1].sub(sums[0], fill_value=0.0)
    table = shipped.volumes.set_index(["supplier", "material"])
    column = "licensing-2025 - rare-earths-baseline"
    assert set(table.index) == set(diff.index)
    for key, value in diff.items():
        assert table.loc[key, column] == pytest.approx(value, abs=1e-9)
    assert table[column].abs().sum() > 0  # the licences change the mix


def test_cli_json_out_and_exit_codes(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    res = run_cli(["compare", str(CHEAP), str(BAN), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "13,200" in res.stdout and "-20.00" in res.stdout
    names = sorted(p.name for p in out.iterdir())
    assert names == [".sourcing-run", "kpis.csv", "report.html", "volumes.csv"]
    with (out / "kpis.csv").open(newline="") as fh:
        rows = {r["kpi"]: r for r in csv.DictReader(fh)}
    assert float(rows["planned unit cost: ndpr_oxide"]["cn_ban"]) == pytest.approx(150.0)
    html = (out / "report.html").read_text()
    assert html.count("<svg") == 3 and "<script" not in html
    res = run_cli(["compare", str(CHEAP), str(BAN), "--json"])
    assert res.exit_code == 0
    doc = json.loads(res.stdout)
    assert [p["label"] for p in doc["plans"]] == ["cn_cheap", "cn_ban"]
    assert [p["optimises"] for p in doc["plans"]] == ["expected cost", "expected cost"]
    total = next(r for r in doc["kpis"] if r["kpi"] == "total cost")
    assert total["cn_ban"] == pytest.approx(13200.0)
    # an infeasible file: exit 3 with its explanation; an invalid one: exit 2
    infeasible = CASES / "infeasible_min_suppliers.yaml"
    res = run_cli(["compare", str(CHEAP), str(infeasible)])
    assert res.exit_code == 3
    assert "policy.min_suppliers" in res.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [\n")
    assert run_cli(["compare", str(CHEAP), str(bad)]).exit_code == 2
    # an existing folder is not replaced without --force
    res = run_cli(["compare", str(CHEAP), str(BAN), "--out", str(out)])
    assert res.exit_code == 2
    res = run_cli(["compare", str(CHEAP), str(BAN), "--out", str(out), "--force"])
    assert res.exit_code == 0


def test_nothing_is_cut_at_any_width() -> None:
    """At 80 columns, or at 40, every figure is printed whole (one per row if need be)."""
    from rich.console import Console

    from optimizer.reports.console_analysis import print_comparison

    c = compare([CHEAP, BAN], pipeline(), Serial())
    for width in (200, 80, 40):
        console = Console(width=width, record=True, highlight=False)
        print_comparison(c, console)
        text = console.export_text()
        assert "…" not in text
        assert "13,200" in text and "12,000" in text and "expected cost" in text


@pytest.mark.parametrize("cmd", ["compare", "stress", "frontier"])
def test_help(cmd: str) -> None:
    res = run_cli([cmd, "--help"])
    assert res.exit_code == 0
    assert "Usage" in res.output
