"""`sourcing run`: exit codes, stdout discipline and the output files of DESIGN §5.

Figures asserted here come from the hand-worked cases (see the working at the
top of tests/cases/country_cap.yaml and licence_runway.yaml).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CASES, ROOT, run_cli


def run_fresh(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command line in a fresh process (as a user runs it)."""
    return subprocess.run(
        [sys.executable, "-m", "optimizer", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_run_prints_summary_and_exits_0() -> None:
    res = run_fresh("run", str(CASES / "country_cap.yaml"))
    assert res.returncode == 0, res.stderr
    assert "optimal" in res.stdout
    assert "12,600" in res.stdout
    assert "Traceback" not in res.stderr


def test_run_json_is_summary_on_stdout_without_solver_chatter(solver: str) -> None:
    res = run_fresh("run", str(CASES / "country_cap.yaml"), "--json", "--solver", solver)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)  # nothing but JSON on stdout (no HiGHS banner)
    assert doc["scenario"] == "country_cap"
    assert doc["status"] == "optimal"
    assert doc["checked"] is True
    assert doc["objective"] == pytest.approx(12600.0)
    costs = doc["costs"]
    assert set(costs["spend"]) == {"purchase", "spot", "reservation", "called", "fixed", "holding"}
    assert set(costs["penalties"]) == {"delay", "shortage", "safety_stock", "end_stock"}
    assert costs["spend"]["purchase"] == pytest.approx(12600.0)  # all of it money spent
    assert doc["spend"] == pytest.approx(12600.0) and doc["penalties"] == pytest.approx(0.0)
    assert costs["cvar_term"] == 0.0
    # the names of version 1, kept at the top level for programs that read them
    for key in ("purchase", "delay", "spot", "holding", "shortage", "safety_stock", "fixed"):
        assert key in costs
    ndpr = doc["materials"]["ndpr_oxide"]
    assert ndpr["volume"] == pytest.approx(100.0)
    assert ndpr["share_by_country"] == pytest.approx({"AU": 0.4, "CN": 0.6})
    assert ndpr["service_level"] == pytest.approx(1.0)
    assert ndpr["expected_shortage"] == pytest.approx(0.0)
    assert doc["solver"]["name"].startswith(solver)
    for key in ("sourcing", "pulp", "highspy", "cbc"):
        assert key in doc["versions"]
    assert len(doc["content_hash"]) == 64


def test_out_folder_has_the_design_files(tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = run_cli(["run", str(CASES / "licence_runway.yaml"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    names = {p.name for p in out.iterdir()}
    assert {"plan.csv", "inventory.csv", "summary.json", "scenario.resolved.yaml"} <= names
    plan = read_csv(out / "plan.csv")
    assert list(plan[0]) == [
        "material",
        "supplier",
        "country",
        "period",
        "order_day",
        "quantity",
        "landed_unit_cost",
        "delay_days",
        "cost",
        "kind",
    ]
    rows = {(r["supplier"], int(r["period"])): r for r in plan}
    # au_lynas: 10 days lead time; cn_baotou: 20 + 63 = 83 days.
    # order_day = max(0, (period - 1) * 30 - delay_days)
    assert float(rows[("au_lynas", 1)]["order_day"]) == 0
    assert float(rows[("au_lynas", 2)]["order_day"]) == 20
    assert float(rows[("cn_baotou", 3)]["order_day"]) == 0
    assert float(rows[("cn_baotou", 4)]["order_day"]) == 7
    assert float(rows[("cn_baotou", 4)]["quantity"]) == 10
    assert float(rows[("cn_baotou", 4)]["cost"]) == 1000
    inv = read_csv(out / "inventory.csv")
    assert list(inv[0])[:9] == [
        "scenario",
        "material",
        "period",
        "opening",
        "arrivals",
        "spot",
        "demand",
        "shortage",
        "closing",
    ]
    closing = [float(r["closing"]) for r in inv]
    assert closing == [6, 0, 0, 0]  # hand working in licence_runway.yaml
    doc = json.loads((out / "summary.json").read_text())
    assert doc["objective"] == pytest.approx(2612.0)


def test_existing_folder_is_not_overwritten_without_force(tmp_path: Path) -> None:
    """README: an existing folder is never overwritten without --force; and --force
    replaces only a run folder sourcing wrote, never a folder of the user's files."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    case = str(CASES / "country_cap.yaml")
    for extra in ([], ["--force"]):
        res = run_cli(["run", case, "--out", str(out), *extra])
        assert res.exit_code == 2
        assert "holds files that sourcing did not write" in res.stderr
        assert "delete" not in res.stderr and "remove" not in res.stderr
        assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
        assert (out / "keep.txt").read_text() == "mine"
    ours = tmp_path / "ours"
    assert run_cli(["run", case, "--out", str(ours)]).exit_code == 0
    before = (ours / "summary.json").read_bytes()
    res = run_cli(["run", case, "--out", str(ours)])
    assert res.exit_code == 2
    assert "add --force to replace them" in res.stderr
    assert (ours / "summary.json").read_bytes() == before
    res = run_cli(["run", case, "--out", str(ours), "--force"])
    assert res.exit_code == 0, res.output
    assert (ours / "plan.csv").exists() and (ours / ".sourcing-run").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".sourcing-tmp-")]


def test_infeasible_policy_exits_3_naming_policy_material_and_line(solver: str) -> None:
    case = CASES / "infeasible_min_suppliers.yaml"
    res = run_fresh("run", str(case), "--solver", solver)
    assert res.returncode == 3
    line = next(
        i
        for i, text in enumerate(case.read_text().splitlines(), 1)
        if text.strip().startswith("min_suppliers:")
    )
    assert f"infeasible_min_suppliers.yaml:{line}: policy.min_suppliers:" in res.stderr
    assert "dy_oxide" in res.stderr
    assert res.stdout == ""


def test_invalid_scenario_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\nhorizon: {periods: 2}\nmaterials:\n  m: {demand: 1, shortage_cost: -5}\n"
        "suppliers:\n  s: {country: CN, offers: {m: {price: 1, capacity: 1}}}\n"
    )
    out = tmp_path / "out"
    res = run_fresh("run", str(bad), "--out", str(out))
    assert res.returncode == 2
    assert f"{bad}:4: materials.m.shortage_cost: must be >= 0 (got -5)" in res.stderr
    assert "Traceback" not in res.stderr
    assert not out.exists()


def test_missing_file_is_exit_2() -> None:
    res = run_fresh("run", "no/such/file.yaml")
    assert res.returncode == 2
    assert "no/such/file.yaml" in res.stderr


@pytest.mark.parametrize("cmd", [[], ["run"], ["validate"], ["schema"]])
def test_help_everywhere(cmd: list[str]) -> None:
    res = run_cli([*cmd, "--help"])
    assert res.exit_code == 0
    assert "Usage" in res.output
