"""Percent traps and silent defaults are named at their line (issue: version 2 outputs).

A tariff or spot premium above 1 is valid (a rate of 145% exists) but usually meant as a
percent: a warning at its line gives the reading; above 10 it is an error. A supplier
whose country has no entry in `countries` silently gets risk 0: a warning says so.
"""

from __future__ import annotations

from pathlib import Path

from optimizer.io.load import load_scenario
from tests.conftest import run_cli

BASE = """name: traps
horizon: {periods: 1}
materials:
  m: {demand: 10, shortage_cost: 1000}
countries:
  CN: {tariff: TARIFF, risk: 0.9}
suppliers:
  cn:
    country: CN
    offers:
      m: {price: 10, capacity: 20}
  vn:
    country: VN
    offers:
      m: {price: 12, capacity: 20}
spot_premium: PREMIUM
"""


def write(tmp_path: Path, tariff: str = "0.1", premium: str = "0.5") -> Path:
    path = tmp_path / "traps.yaml"
    path.write_text(BASE.replace("TARIFF", tariff).replace("PREMIUM", premium))
    return path


def test_tariff_above_one_warns_with_the_percent_reading(tmp_path: Path) -> None:
    path = write(tmp_path, tariff="3.2")
    warnings = [str(w) for w in load_scenario(path).warnings]
    assert f"{path}:6: countries.CN.tariff: a tariff of 3.2 is read as 320% (fractions are " \
        "fractions); if you meant 3.2%, write 0.032" in warnings
    res = run_cli(["validate", str(path)])
    assert res.exit_code == 0
    assert "read as 320%" in res.stderr and "OK" in res.stdout


def test_tariff_above_ten_is_an_error(tmp_path: Path) -> None:
    res = run_cli(["validate", str(write(tmp_path, tariff="32"))])
    assert res.exit_code == 2
    assert "countries.CN.tariff" in res.stderr


def test_spot_premium_above_one_warns_and_above_ten_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, premium="5")
    warnings = [str(w) for w in load_scenario(path).warnings]
    assert any("spot_premium: a premium of 5 is read as 500%" in w for w in warnings)
    res = run_cli(["validate", str(write(tmp_path, premium="50"))])
    assert res.exit_code == 2
    assert "spot_premium" in res.stderr


def test_a_country_without_an_entry_warns_at_the_supplier(tmp_path: Path) -> None:
    path = write(tmp_path)
    warnings = [str(w) for w in load_scenario(path).warnings]
    assert warnings == [
        f"{path}:13: suppliers.vn.country: country 'VN' has no entry in `countries`: this "
        "supplier's risk and tariff default to 0"
    ]


def test_run_prints_warnings_on_stderr_and_solves(tmp_path: Path) -> None:
    res = run_cli(["run", str(write(tmp_path, tariff="1.5")), "--json"])
    assert res.exit_code == 0
    assert "warning:" in res.stderr and "read as 150%" in res.stderr
    assert res.stdout.lstrip().startswith("{")
