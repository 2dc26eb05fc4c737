"""`sourcing survive`: time to survive per stopped supplier and country, against the time
to recover (tests/cases/survive.yaml, working at the top of the file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from optimizer.analysis.survive import nodes_of, survive, time_to_survive, wide
from optimizer.app.executor import Serial
from optimizer.io.load import load_scenario
from tests.conftest import CASES, pipeline, run_cli

CASE = CASES / "survive.yaml"


def test_nodes_are_the_plan_every_supplier_and_every_country() -> None:
    nodes = nodes_of(load_scenario(CASE).scenario)
    assert [(n.name, n.kind) for n in nodes] == [
        ("plan", "plan"),
        ("au_lynas", "supplier"),
        ("cn_baotou", "supplier"),
        ("AU", "country"),
        ("CN", "country"),
    ]
    assert {n.name: n.recovery_days for n in nodes}["CN"] == 120.0


def test_time_to_survive_by_hand(solver: str) -> None:
    report = survive(CASE, pipeline(solver), Serial())
    table = report.table.set_index("node")
    assert table.loc["cn_baotou", "tts_days"] == pytest.approx(75.0)
    assert table.loc["cn_baotou", "shortage"] == pytest.approx(13.0)
    assert bool(table.loc["cn_baotou", "at_risk"])
    assert table.loc["CN", "tts_days"] == pytest.approx(75.0)
    for node in ("plan", "au_lynas", "AU"):
        assert bool(table.loc[node, "beyond_horizon"]), node
        assert not bool(table.loc[node, "at_risk"]), node
    assert report.at_risk() == ["CN", "cn_baotou"]
    assert table.loc["plan", "total_cost"] == pytest.approx(170.0)
    assert table.loc["au_lynas", "total_cost"] == pytest.approx(170.0)
    assert table.loc["cn_baotou", "total_cost"] == pytest.approx(13080.0)
    assert list(wide(report)["node"]) == ["plan", "au_lynas", "cn_baotou", "AU", "CN"]


def test_time_to_survive_within_a_period() -> None:
    import pandas as pd

    inv = pd.DataFrame(
        {
            "material": ["m"] * 3,
            "period": [1, 2, 3],
            "demand": [10.0, 10.0, 10.0],
            "shortage": [0.0, 2.5, 10.0],
        }
    )
    assert time_to_survive(inv, 30.0) == {"m": pytest.approx(30.0 + 30.0 * 0.75)}


def test_cli_table_json_and_files(tmp_path: Path) -> None:
    res = run_cli(["survive", str(CASE)])
    assert res.exit_code == 0, res.output
    assert "cn_baotou" in res.stdout and "75" in res.stdout and "beyond" in res.stdout
    assert "At risk (run dry before they recover): CN, cn_baotou" in res.stdout
    res = run_cli(["survive", str(CASE), "--json"])
    doc = json.loads(res.stdout)
    assert doc["at_risk"] == ["CN", "cn_baotou"]
    out = tmp_path / "surv"
    res = run_cli(["survive", str(CASE), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "survive.csv").read_text().splitlines()[0].startswith("node,kind,material")
    html = (out / "survive.html").read_text()
    assert "<svg" in html and "<script" not in html


def test_run_folder_and_run_survive(tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = run_cli(["run", str(CASE), "--out", str(out), "--survive"])
    assert res.exit_code == 0, res.output
    assert (out / "survive.csv").is_file()
    assert 'id="survive-table"' in (out / "report.html").read_text()
    res = run_cli(["survive", str(out), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["at_risk"] == ["CN", "cn_baotou"]
    res = run_cli(["run", str(CASE), "--survive"])
    assert res.exit_code == 2 and "--survive needs --out" in res.output
