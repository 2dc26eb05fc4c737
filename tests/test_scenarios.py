"""Every shipped scenario validates, solves to a checked optimum on both solvers, agrees
with the independent reference implementation, and the README's figures match."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from optimizer.app.pipeline import RunResult, run_scenario
from optimizer.io.load import load_scenario
from optimizer.io.run_folder import summary_problems
from optimizer.reports.csv_files import table_hashes
from optimizer.reports.summary import summary
from optimizer.schema.summary import RunSummary
from optimizer.solve.status import SolverOptions
from tests.conftest import HEAVY_SCENARIOS, ROOT, SCENARIOS
from tests.reference import solve_reference

FILES = sorted(str(p.relative_to(SCENARIOS)) for p in SCENARIOS.rglob("*.yaml"))
LIGHT = [f for f in FILES if Path(f).name not in HEAVY_SCENARIOS]
_SOLVED: dict[tuple[str, str], RunResult] = {}


def solved(name: str, solver: str = "highs") -> RunResult:
    key = (name, solver)
    if key not in _SOLVED:
        scenario = load_scenario(SCENARIOS / name).scenario
        _SOLVED[key] = run_scenario(scenario, SOLVER_OPTIONS[solver])
    return _SOLVED[key]


SOLVER_OPTIONS = {"highs": SolverOptions(solver="highs"), "cbc": SolverOptions(solver="cbc")}


def test_there_are_shipped_scenarios() -> None:
    assert "dec2026-baseline.yaml" in FILES
    assert "2025/rare-earths-baseline.yaml" in FILES
    assert len(FILES) >= 20


@pytest.mark.parametrize("name", [f for f in FILES if Path(f).name in HEAVY_SCENARIOS])
def test_heavy_scenario_solves_to_a_checked_optimum(name: str) -> None:
    run = solved(name)
    assert run.plan.status == "optimal"
    assert run.check.ok, run.check.violations


@pytest.mark.parametrize("name", LIGHT)
def test_scenario_solves_and_matches_reference(name: str, solver: str) -> None:
    run = solved(name, solver)
    assert run.plan.status == "optimal"
    assert run.check.ok, run.check.violations
    loaded = load_scenario(SCENARIOS / name)
    ref = solve_reference(loaded.resolved_data())
    assert ref.status == "optimal"
    assert run.plan.objective == pytest.approx(ref.objective, rel=1e-6)


def test_scenarios_start_with_schema_line_and_question() -> None:
    for name in FILES:
        lines = (SCENARIOS / name).read_text().splitlines()
        schema = "../" * (name.count("/") + 1) + "scenario.schema.json"
        assert lines[0] == f"# yaml-language-server: $schema={schema}", name
        assert any("?" in line for line in lines[:12] if line.startswith("#")), name


def _readme_rows() -> dict[str, list[str]]:
    """Every row of the README's scenario tables (the December 2026 library and the 2025
    one), keyed by the file's path under scenarios/ without .yaml."""
    text = (ROOT / "README.md").read_text()
    rows = {}
    for part in text.split("<!-- scenario-table:start -->")[1:]:
        block = part.split("<!-- scenario-table:end -->")[0]
        for line in block.strip().splitlines()[2:]:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            rows[re.sub(r"[`\[\]]|\(.*\)", "", cells[0]).strip()] = cells[1:]
    return rows


def _millions(text: str) -> float:
    return float(text.replace(",", ""))


def headline(run: RunResult) -> list[str]:
    """The README row of a scenario: the same figures, formatted as printed there."""
    plan = run.plan
    mats = plan.materials
    volume = sum(k["volume"] for k in mats.values())
    china = sum(k["volume"] * k["share_by_country"].get("CN", 0.0) for k in mats.values())
    return [
        f"{plan.total_cost / 1e6:.1f}",
        f"{plan.spend / 1e6:.1f}",
        f"{plan.penalties / 1e6:.1f}",
        f"{plan.cvar['cvar'] / 1e6:.1f}",
        f"{100 * china / volume:.0f}%",
        f"{100 * mats['dy_oxide']['share_by_country'].get('CN', 0.0):.0f}%",
        f"{mats['ndfeb_magnet']['expected_shortage']:.1f}",
        f"{mats['dy_oxide']['expected_shortage']:.2f}",
        f"{mats['tb_oxide']['expected_shortage']:.2f}",
        f"{mats['ndfeb_magnet']['end_position']['closing']:.0f}",
    ]


@pytest.mark.parametrize("name", FILES)
def test_snapshot_readme_table_matches_the_solved_scenarios(name: str) -> None:
    rows = _readme_rows()
    stem = name.removesuffix(".yaml")
    assert stem in rows, f"README table has no row for {stem}"
    assert rows[stem][: len(headline(solved(name)))] == headline(solved(name))


@pytest.mark.parametrize("name", FILES)
def test_stock_is_used_before_demand_goes_unmet(name: str) -> None:
    """DESIGN §4 version 2: in no scenario and period is demand left unmet while stock is
    left at the end of the period (within the checker's tolerance)."""
    inv = solved(name).plan.inventory
    tol = 1e-6 * inv["demand"].clip(lower=1.0)
    both = inv[(inv["shortage"] > tol) & (inv["closing"] > tol)]
    assert both.empty, both[["scenario", "material", "period", "shortage", "closing"]]


@pytest.mark.parametrize("name", FILES)
def test_plan_hands_over_its_end_stock_wherever_capacity_allows(name: str) -> None:
    """The undisrupted plan ends at or above each material's end stock, unless no plan can
    without leaving more demand unmet, running further below the safety stock on the way, or
    buying at a price above the end-stock penalty: where it ends below, a plan that weighs
    the end stock a hundred times more ends no higher, or only in one of those ways."""
    run = solved(name)
    low = {
        m: k["end_position"]["closing"]
        for m, k in run.plan.materials.items()
        if k["end_position"]["below_end_stock"] > 1e-6
    }
    low_end = {m: run.plan.materials[m]["end_position"]["end_stock"] for m in low}
    if not low:
        return
    scenario = load_scenario(SCENARIOS / name).scenario
    heavier = {
        m: mat.model_copy(update={"end_stock_penalty": 100 * mat.penalty_below_end_stock})
        for m, mat in scenario.materials.items()
    }
    # CBC: the same optimum, and several times faster than HiGHS on the MILPs of the robust files
    again = run_scenario(
        scenario.model_copy(update={"materials": heavier}), SolverOptions(solver="cbc")
    )
    def below(inv: pd.DataFrame, m: str) -> float:
        """The undisrupted plan's shortfall under the safety stock, summed over periods."""
        w0 = inv[(inv["material"] == m) & (inv["scenario"] == "base")]
        return float(w0["below_safety_stock"].sum())

    raised = 0.0  # the end-stock penalty the heavier plan saves, at the file's own penalties
    for m, closing in low.items():
        now = again.plan.materials[m]
        higher = now["end_position"]["closing"] > closing + 1e-6
        more_short = now["expected_shortage"] > run.plan.materials[m]["expected_shortage"] + 1e-6
        more_below = below(again.plan.inventory, m) > below(run.plan.inventory, m) + 1e-6
        if higher and not (more_short or more_below):
            gain = min(now["end_position"]["closing"], low_end[m]) - closing
            raised += gain * scenario.materials[m].penalty_below_end_stock
    # what it saves is less than the money it spends to hold that stock (a source priced
    # above the penalty, as the pool's list price in dec2026-pooled-stock)
    if raised > 0:
        assert again.plan.spend - run.plan.spend >= raised * (1 - 1e-6), raised


@pytest.mark.parametrize("name", FILES)
def test_the_summary_of_every_shipped_scenario_validates(name: str) -> None:
    """The summary a run writes is valid JSON (no NaN or infinity) and reads back, strictly,
    into the `RunSummary` it was written from; its figures are the plan's."""
    run = solved(name)
    made = summary(run.plan, run.facts(), file=name, table_hashes=table_hashes(run.plan))
    text = json.dumps(made.document(), indent=2)

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in the summary of {name}")

    assert summary_problems(json.loads(text, parse_constant=refuse)) == []
    assert RunSummary.model_validate_json(text, strict=True) == made
    assert made.total_cost == pytest.approx(run.plan.spend + run.plan.penalties, rel=1e-9)
    volumes = {m: k["volume"] for m, k in run.plan.materials.items()}
    assert {m: k.volume for m, k in made.materials.items()} == pytest.approx(volumes)


def test_every_number_in_a_shipped_file_has_its_comment() -> None:
    """Every number is cited or marked as an estimate: a comment on its line, or a comment
    line just above it (for a block of values with one source)."""
    missing = []
    for name in FILES:
        lines = (SCENARIOS / name).read_text().splitlines()
        block: int | None = None  # indent of a text block (`description: >-`) being skipped
        for i, line in enumerate(lines):
            indent = len(line) - len(line.lstrip())
            if block is not None and (indent > block or not line.strip()):
                continue
            block = None
            code = line.split("#")[0]
            text_field = re.match(r"(\s*)(name|title|description|start):(\s*[>|])?", code)
            if text_field and text_field.group(3):
                block = indent
            if line.lstrip().startswith("#") or text_field:
                continue
            if re.search(r"(:\s*|-\s+|\[|,\s*)-?\d", code) and "#" not in line:
                above = lines[i - 1].strip() if i else ""
                if not above.startswith("#"):
                    missing.append(f"{name}:{i + 1}: {line.strip()}")
    assert not missing, "\n".join(missing)


def test_snapshot_readme_answers_for_december_2026() -> None:
    """The figures of the README's December 2026 answers that the table does not carry."""
    from optimizer.analysis.survive import survive
    from optimizer.app.executor import Serial
    from optimizer.reports.orders import order_schedule
    from tests.conftest import pipeline

    base = solved("dec2026-baseline.yaml").plan
    schedule = order_schedule(base)
    now = schedule[schedule["order_now"] == "yes"]
    assert len(now) == 17
    per_order = now[(now["supplier"] == "cn_magnets")]
    assert per_order["quantity"].tolist() == pytest.approx([39.0])
    assert per_order["arrival_period"].tolist() == [5]
    general = now[now["supplier"] == "cn_magnets_gl"]
    assert general["quantity"].tolist() == pytest.approx([15.0])
    assert base.materials["dy_oxide"]["service_level"] == pytest.approx(0.883, abs=5e-4)
    assert base.materials["tb_oxide"]["service_level"] == pytest.approx(0.903, abs=5e-4)
    report = survive(SCENARIOS / "dec2026-baseline.yaml", pipeline(), Serial()).table
    china = report[report["node"] == "CN"].set_index("material")["tts_days"]
    assert china.round().to_dict() == {
        "dy_oxide": 138.0,
        "ndfeb_magnet": 90.0,
        "ndpr_oxide": 170.0,
        "tb_oxide": 131.0,
    }
    lane = (report["node"] == "cn_magnets_gl") & (report["material"] == "ndfeb_magnet")
    general_lane = report[lane]
    assert float(general_lane["tts_days"].iloc[0]) == pytest.approx(116.0, abs=0.5)
    assert bool(general_lane["at_risk"].iloc[0])
    pooled = solved("dec2026-pooled-stock.yaml").plan
    assert pooled.costs["reservation"] / 1e6 == pytest.approx(0.07, abs=0.005)
    assert pooled.costs["called"] / 1e6 == pytest.approx(2.8, abs=0.05)
