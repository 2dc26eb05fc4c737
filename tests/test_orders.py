"""The order schedule (orders.csv): order days, arrival days, dates, orders to place
today, licences, reservations, sorting.

Hand-checked on tests/cases/licence_runway.yaml (periods of 30 days):
cn_baotou waits 20 + 63 = 83 days, so its arrivals in periods 3 and 4 are
ordered on days (3-1)*30 - 83 = -23 -> 0 (place today) and (4-1)*30 - 83 = 7,
arriving on days 0 + 83 = 83 (in period 3: days 60-90) and 7 + 83 = 90;
au_lynas waits 10 days: periods 1 and 2 -> -10 -> 0 (today), arriving on day 10,
and 20, arriving on day 30.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from optimizer.app.pipeline import run_scenario
from optimizer.io.load import load_scenario
from optimizer.io.run_folder import read_run
from optimizer.reports.orders import order_date, order_schedule, schedule_from_table
from optimizer.schema.tables import ORDER_COLUMNS
from optimizer.solve.status import SolverOptions
from tests.conftest import CASES, run_cli

RUNWAY = (CASES / "licence_runway.yaml").read_text()


def schedule_of(path: Path) -> pd.DataFrame:
    plan = run_scenario(load_scenario(path).scenario, SolverOptions(solver="highs")).plan
    return order_schedule(plan)


def rows(df: pd.DataFrame, *columns: str) -> list[tuple[object, ...]]:
    return [tuple(r) for r in df[list(columns)].itertuples(index=False)]


def test_licence_runway_order_days_overdue_and_licences() -> None:
    df = schedule_of(CASES / "licence_runway.yaml")
    assert list(df.columns) == ORDER_COLUMNS
    # Sorted by order day, then supplier, material, arrival period.
    assert rows(df, "supplier", "arrival_period", "order_day", "arrival_day", "order_now") == [
        ("au_lynas", 1, 0.0, 10.0, "yes"),
        ("cn_baotou", 3, 0.0, 83.0, "yes"),
        ("cn_baotou", 4, 7.0, 90.0, "no"),
        ("au_lynas", 2, 20.0, 30.0, "no"),
    ]
    assert set(df["kind"]) == {"order"}
    assert rows(df, "supplier", "licence_needed") == [
        ("au_lynas", "no"),
        ("cn_baotou", "yes"),
        ("cn_baotou", "yes"),
        ("au_lynas", "no"),
    ]
    assert rows(df, "quantity", "unit_landed_cost", "line_total") == [
        (1.0, 300.0, 300.0),
        (10.0, 100.0, 1000.0),
        (10.0, 100.0, 1000.0),
        (1.0, 300.0, 300.0),
    ]
    assert set(df["country"]) == {"AU", "CN"}
    assert set(df["material"]) == {"ndpr_oxide"}
    assert list(df["order_date"]) == ["", "", "", ""]  # no horizon.start


def test_dates_from_horizon_start_across_the_year_end(tmp_path: Path) -> None:
    path = tmp_path / "dated.yaml"
    path.write_text(
        RUNWAY.replace("name: licence_runway", "name: dated_runway").replace(
            "  period_days: 30\n", "  period_days: 30\n  start: 2025-12-20\n"
        )
    )
    df = schedule_of(path)
    # day 0 = 2025-12-20; day 7 = 2025-12-27; day 20 = 2026-01-09; day 83 = 2026-03-13.
    assert rows(df, "supplier", "arrival_period", "order_date", "arrival_date") == [
        ("au_lynas", 1, "2025-12-20", "2025-12-30"),
        ("cn_baotou", 3, "2025-12-20", "2026-03-13"),
        ("cn_baotou", 4, "2025-12-27", "2026-03-20"),
        ("au_lynas", 2, "2026-01-09", "2026-01-19"),
    ]


def test_order_date_rounds_a_part_day_down() -> None:
    start = dt.date(2025, 4, 1)
    assert order_date(start, 0.0) == "2025-04-01"
    assert order_date(start, 12.7) == "2025-04-13"  # early rather than late
    assert order_date(start, 29.999999999999) == "2025-05-01"  # float noise, not a day early
    assert order_date(None, 12.0) == ""


def test_schedule_from_plan_rows_with_part_days() -> None:
    """period_days 30.5: (2-1)*30.5 - 10 = 20.5, arriving on day 30.5; (1-1)*30.5 - 0 = 0
    is on time (not to be placed before day 0)."""
    scenario = load_scenario(CASES / "licence_runway.yaml").scenario
    scenario = scenario.model_copy(
        update={"horizon": scenario.horizon.model_copy(update={"period_days": 30.5})}
    )
    plan_rows = pd.DataFrame(
        {
            "material": ["ndpr_oxide", "ndpr_oxide"],
            "supplier": ["au_lynas", "cn_baotou"],
            "country": ["AU", "CN"],
            "period": [2, 1],
            "quantity": [1.0, 2.0],
            "landed_unit_cost": [300.0, 100.0],
            "delay_days": [10.0, 0.0],
        }
    )
    df = schedule_from_table(plan_rows, scenario)
    assert rows(df, "supplier", "order_day", "arrival_day", "order_now") == [
        ("cn_baotou", 0.0, 0.0, "no"),
        ("au_lynas", 20.5, 30.5, "no"),
    ]


def test_run_writes_orders_csv_and_the_folder_reader_recomputes_it(tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = run_cli(["run", str(CASES / "licence_runway.yaml"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    text = (out / "orders.csv").read_text()
    lines = text.splitlines()
    assert lines[0] == ",".join(ORDER_COLUMNS)
    # whole days as integers, quantities to 6 decimals, money to the cent
    assert lines[1] == "au_lynas,AU,ndpr_oxide,order,0,,10,,1,1.000000,300.00,300.00,no,yes,,"
    assert lines[2] == (
        "cn_baotou,CN,ndpr_oxide,order,0,,83,,3,10.000000,100.00,1000.00,yes,yes,,"
    )
    assert len(lines) == 5
    # The schedule read back is the one written; a folder without it is refused, named.
    assert read_run(out).orders["supplier"].tolist()[:2] == ["au_lynas", "cn_baotou"]
    (out / "orders.csv").unlink()
    res = run_cli(["report", str(out)])
    assert res.exit_code == 2
    assert res.stderr == f"{out}: not a complete run folder; missing orders.csv\n"


@pytest.mark.parametrize("name", ["2025/rare-earths-baseline.yaml"])
def test_shipped_baseline_has_a_start_date(name: str) -> None:
    from tests.conftest import SCENARIOS

    horizon = load_scenario(SCENARIOS / name).scenario.horizon
    assert horizon.start == dt.date(2025, 4, 1)


def test_orders_csv_bytes_do_not_depend_on_the_order_in_the_file(tmp_path: Path) -> None:
    """DESIGN §6: suppliers listed the other way round give the same orders.csv."""
    head, suppliers = RUNWAY.split("suppliers:\n")
    cn, au = suppliers.split("  au_lynas:\n")
    swapped = tmp_path / "swapped.yaml"
    swapped.write_text(f"{head}suppliers:\n  au_lynas:\n{au}{cn}")
    outs = []
    for i, path in enumerate([CASES / "licence_runway.yaml", swapped]):
        out = tmp_path / f"run{i}"
        res = run_cli(["run", str(path), "--out", str(out)])
        assert res.exit_code == 0, res.output
        outs.append((out / "orders.csv").read_bytes())
    assert outs[0] == outs[1]
