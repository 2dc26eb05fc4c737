"""Outputs a program or a person can trust: byte-stable number formats per column, JSON
without float noise, a fully explicit resolved scenario, no mention of files that were
not written, and a closed pipe that ends quietly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from optimizer.reports.summary import _num
from tests.conftest import CASES, ROOT, SCENARIOS_2025, run_cli


def test_csv_columns_have_one_format_each(tmp_path: Path) -> None:
    """licence_runway: period and day counts are whole numbers, quantities have six
    decimals, money two, probabilities twelve."""
    out = tmp_path / "run"
    res = run_cli(["run", str(CASES / "licence_runway.yaml"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    plan = (out / "plan.csv").read_text().splitlines()
    assert plan[1] == "ndpr_oxide,au_lynas,AU,1,0,1.000000,300.00,10,300.00,order"
    inventory = (out / "inventory.csv").read_text().splitlines()
    assert inventory[1].split(",")[:4] == ["base", "ndpr_oxide", "1", "15.000000"]
    assert inventory[1].split(",")[11] == "1.000000000000"


def test_json_numbers_have_no_float_noise() -> None:
    assert _num(3.599999999999999) == 3.6
    assert _num(0.1 + 0.2) == 0.3
    assert _num(-1e-12) == 0.0
    assert _num(float("nan")) is None
    assert _num(123456789.123456789) == 123456789.123


def test_resolved_scenario_is_fully_explicit(tmp_path: Path) -> None:
    """Risk and tariff that come from the country, the penalties that come from the
    shortage cost and the end stock that comes from the safety stock are written out."""
    out = tmp_path / "run"
    res = run_cli(["run", str(SCENARIOS_2025 / "licensing-2025.yaml"), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    resolved = yaml.safe_load((out / "scenario.resolved.yaml").read_text())
    source = yaml.safe_load((SCENARIOS_2025 / "rare-earths-baseline.yaml").read_text())
    plain = next(s for s, sup in source["suppliers"].items() if "risk" not in sup)
    country = source["countries"][source["suppliers"][plain]["country"]]
    assert resolved["suppliers"][plain]["risk"] == country["risk"]
    assert resolved["suppliers"][plain]["tariff"] == country.get("tariff", 0.0)
    mag = resolved["materials"]["ndfeb_magnet"]
    assert mag["end_stock"] == mag["safety_stock"]
    assert mag["end_stock_penalty"] == mag["shortage_cost"]
    assert "safety_stock_penalty" in mag


def test_no_mention_of_files_that_were_not_written() -> None:
    res = run_cli(["run", str(SCENARIOS_2025 / "robust-2025.yaml")])
    assert res.exit_code == 0
    assert "in summary.json" not in res.stdout and "in scenarios.csv" not in res.stdout
    assert "with --out or --json" in res.stdout


def test_a_closed_pipe_ends_quietly() -> None:
    """`sourcing run ... | head -1`: the reader goes away; exit 0, nothing on stderr."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "optimizer", "run", str(SCENARIOS_2025 / "robust-2025.yaml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        bufsize=0,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(10)
    proc.stdout.close()
    code = proc.wait(timeout=120)
    err = proc.stderr.read().decode()
    assert code == 0, err
    assert "Traceback" not in err and "internal error" not in err


def test_json_output_is_parseable_with_rounded_floats() -> None:
    res = run_cli(["run", str(CASES / "licence_runway.yaml"), "--json"])
    doc = json.loads(res.stdout)
    assert doc["objective"] == 2612.0
