"""Options checked at parse time, --debug, logging of warnings, and the model files."""

from __future__ import annotations

import json
from pathlib import Path

import pulp
import pytest

from tests.conftest import CASES, run_cli


@pytest.mark.parametrize(
    "args",
    [
        ["--solver", "foo"],
        ["--solver", "pulp:NO_SUCH_SOLVER"],
        ["--decompose", "sometimes"],
    ],
)
def test_a_bad_choice_is_exit_2_before_any_file_is_read(args: list[str]) -> None:
    res = run_cli(["run", "no/such/file.yaml", *args])
    assert res.exit_code == 2
    assert "no/such/file.yaml" not in res.output  # the file was never opened
    assert args[0] in res.output


def test_the_solver_help_lists_the_choices() -> None:
    res = run_cli(["run", "--help"])
    assert res.exit_code == 0
    for name in ("highs", "highs-ipm", "cbc", "pulp:NAME"):
        assert name in res.output


def test_pulp_solver_runs_through_the_command_line() -> None:
    """country_cap.yaml: purchase 12,600 (worked out in the file's header)."""
    res = run_cli(["run", str(CASES / "country_cap.yaml"), "--solver", "pulp:HiGHS", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["solver"]["name"] == "pulp:HiGHS"
    assert doc["costs"]["spend"]["purchase"] == pytest.approx(12_600)


def test_write_lp_and_mps_write_the_model(tmp_path: Path) -> None:
    lp, mps = tmp_path / "model.lp", tmp_path / "model.mps"
    res = run_cli(
        ["run", str(CASES / "country_cap.yaml"), "--write-lp", str(lp), "--write-mps", str(mps)],
    )
    assert res.exit_code == 0, res.output
    assert lp.read_text().startswith("\\* sourcing *\\")
    _, prob = pulp.LpProblem.fromMPS(str(mps))
    prob.solve(pulp.HiGHS(msg=False))
    # purchase 12,600 is the whole objective: no delays, holding or penalties in the file
    assert pulp.value(prob.objective) == pytest.approx(12_600)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.lp", "model.mps"]


def test_write_lp_takes_one_scenario(tmp_path: Path) -> None:
    case = str(CASES / "country_cap.yaml")
    res = run_cli(["run", case, case, "--write-lp", str(tmp_path / "m.lp")])
    assert res.exit_code == 2
    assert "one scenario" in res.output


def test_debug_shows_the_traceback_of_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    import optimizer.cli.files as files

    def broken(path: Path, as_json: bool) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(files, "_validate_one", broken)
    case = str(CASES / "country_cap.yaml")
    quiet = run_cli(["validate", case])
    assert quiet.exit_code == 1
    assert "internal error: RuntimeError: boom" in quiet.output
    assert "Traceback" not in quiet.output and "--debug" in quiet.output
    loud = run_cli(["--debug", "validate", case])
    assert loud.exit_code == 1
    assert "Traceback" in loud.output


def test_warnings_go_to_stderr_through_logging(tmp_path: Path) -> None:
    """A tariff of 2 (200%) is legal but suspicious: a warning on stderr, exit 0."""
    text = (CASES / "country_cap.yaml").read_text()
    path = tmp_path / "case.yaml"
    path.write_text(text.replace("CN: {tariff: 0.0, risk: 0.9}", "CN: {tariff: 2, risk: 0.9}"))
    res = run_cli(["validate", str(path)])
    assert res.exit_code == 0, res.output
    assert "warning:" in res.stderr and "tariff" in res.stderr
    assert "warning:" not in res.stdout


def test_schema_of_summary_is_the_run_summary_model() -> None:
    res = run_cli(["schema", "--of", "summary"])
    assert res.exit_code == 0
    doc = json.loads(res.stdout)
    assert doc["title"] == "RunSummary"
    assert {"costs", "materials", "solver", "versions"} <= set(doc["properties"])
