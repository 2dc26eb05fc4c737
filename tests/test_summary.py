"""summary.json has one form in memory, `RunSummary` (issue 12, point 3).

A run builds it, writes it, and `sourcing report` reads a run folder back into
the same objects; the readers (console, reports, analyses) use its attributes.
The figures are those worked out by hand at the top of tests/cases/landed_cost.yaml.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from optimizer.app.jobs import Job, JobResult, run_job
from optimizer.io.run_folder import read_run
from optimizer.reports.folder import run_files, write_folder
from optimizer.results.plan import PENALTY_KEYS, SPEND_KEYS, cost_items
from optimizer.schema.summary import PenaltyCosts, RunSummary, SpendCosts
from tests.conftest import CASES

LANDED = CASES / "landed_cost.yaml"


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> tuple[JobResult, Path]:
    """landed_cost solved as `sourcing run` solves it, and its run folder."""
    result = run_job(Job(str(LANDED)))
    assert result.ok, result.message
    assert result.run is not None and result.summary is not None
    out = tmp_path_factory.mktemp("summary") / "run"
    files = run_files(result.run.plan, result.summary, result.resolved_yaml or "")
    write_folder(out, files, False)
    return result, out


def test_a_run_makes_a_run_summary_with_the_hand_worked_figures(
    landed: tuple[JobResult, Path],
) -> None:
    """us_mp delivers 10 in period 1 at landed 120 * 1.1 + 10 = 142 with 5 days of delay
    (2.5 per unit); cn_baotou 10 in period 2 at 100 * 1.25 + 2 = 127 with 30 days (15)."""
    doc = landed[0].summary
    assert isinstance(doc, RunSummary)
    assert doc.costs.spend.purchase == pytest.approx(10 * 142 + 10 * 127)
    assert doc.costs.penalties.delay == pytest.approx(10 * 2.5 + 10 * 15)
    assert doc.costs.penalties.shortage == 0.0
    assert doc.spend == pytest.approx(2690)
    assert doc.penalties == pytest.approx(175)
    assert doc.total_cost == pytest.approx(2865)
    assert doc.objective == pytest.approx(2865)
    ndpr = doc.materials["ndpr_oxide"]
    assert ndpr.volume == pytest.approx(20)
    assert ndpr.planned_cost == pytest.approx(2690)
    assert ndpr.average_unit_cost == pytest.approx(2690 / 20)
    assert ndpr.share_by_country == pytest.approx({"CN": 0.5, "US": 0.5})
    assert ndpr.share_by_supplier == pytest.approx({"cn_baotou": 0.5, "us_mp": 0.5})
    assert ndpr.service_level == 1.0
    assert ndpr.end_position.closing == 0.0
    assert [s.name for s in doc.scenarios] == ["base"]
    assert doc.scenarios[0].probability == 1.0
    assert doc.table_hashes is not None
    assert sorted(doc.table_hashes) == ["inventory.csv", "orders.csv", "plan.csv"]


def test_a_run_folder_reads_back_into_the_summary_the_run_made(
    landed: tuple[JobResult, Path],
) -> None:
    result, out = landed
    assert read_run(out).summary == result.summary


def test_summary_json_is_the_summary_written_as_it_reads(landed: tuple[JobResult, Path]) -> None:
    """Reading summary.json and writing it again gives the same bytes (one form)."""
    text = (landed[1] / "summary.json").read_text()
    again = json.dumps(read_run(landed[1]).summary.document(), indent=2) + "\n"
    assert again == text
    doc = json.loads(text)
    assert list(doc)[:3] == ["scenario", "title", "file"]
    assert list(doc)[-2:] == ["versions", "table_hashes"]  # extra: only when a run has it
    assert "extra" not in doc


def test_optional_results_are_written_only_when_present(
    landed: tuple[JobResult, Path],
) -> None:
    summary = landed[0].summary
    assert summary is not None
    bare = summary.model_copy(update={"table_hashes": None})
    assert "table_hashes" not in bare.document()
    more = summary.model_copy(update={"extra": {"evaluation": {"draws": 100}}})
    assert more.document()["extra"] == {"evaluation": {"draws": 100}}
    assert list(more.document())[-1] == "extra"


def test_cost_items_follow_the_models_fields(landed: tuple[JobResult, Path]) -> None:
    """The item names of `SpendCosts` and `PenaltyCosts` are SPEND_KEYS and PENALTY_KEYS."""
    assert tuple(SpendCosts.model_fields) == SPEND_KEYS
    assert tuple(PenaltyCosts.model_fields) == PENALTY_KEYS
    summary = landed[0].summary
    assert summary is not None
    items = cost_items(summary.costs)
    assert list(items) == [*SPEND_KEYS, *PENALTY_KEYS]
    assert items["purchase"] == pytest.approx(2690)
    assert items["delay"] == pytest.approx(175)
    assert sum(items.values()) == pytest.approx(2865)
