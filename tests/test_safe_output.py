"""`--out` and `--force` never destroy what sourcing did not write (issue 13).

`--force` used to delete whatever folder it was given: the working
directory, the folder of the scenario being solved, a parent of the working
directory; a symlinked `--out` was replaced by a real folder (the link's
target kept the old results) and a temporary symlink was left behind. Now a
folder is replaced only when it holds a valid `.sourcing-run` marker, and
some folders never are (`optimizer.safe_output`).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import optimizer.reports.folder as report
from optimizer.reports.folder import TMP_PREFIX
from optimizer.reports.safe_output import MARKER, OutputRefused, marker_text, read_marker
from tests.conftest import CASES, run_cli

CASE = CASES / "country_cap.yaml"
OTHER = CASES / "landed_cost.yaml"


def user_folder(path: Path) -> dict[str, bytes]:
    """A folder of the user's own files (a scenario, notes, a sub-folder)."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "notes.txt").write_text("mine\n")
    (path / "sub").mkdir(exist_ok=True)
    (path / "sub" / "data.csv").write_text("a,b\n1,2\n")
    return tree(path)


def tree(path: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(path)): p.read_bytes() if p.is_file() else b"<dir>"
        for p in sorted(path.rglob("*"))
    }


def commands(scenario: Path, out: str) -> dict[str, list[str]]:
    """Every command that writes an --out folder."""
    return {
        "run": ["run", str(scenario), "--out", out],
        "compare": ["compare", str(scenario), str(OTHER), "--out", out],
        "frontier": ["frontier", str(scenario), "--shares", "1,0.6", "--out", out],
        "stress": ["stress", str(scenario), "--under", str(OTHER), "--out", out],
    }


@pytest.mark.parametrize("command", ["run", "compare", "frontier", "stress"])
def test_force_never_replaces_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """`cd my-scenarios && sourcing run scen.yaml --out . --force` removed scen.yaml."""
    work = tmp_path / "my-scenarios"
    before = user_folder(work)
    shutil.copy(CASE, work / "scen.yaml")
    (work / MARKER).write_text(marker_text("run"))  # even a folder that looks like ours
    before = tree(work)
    monkeypatch.chdir(work)
    for out in (".", str(work), "sub/.."):
        res = run_cli([*commands(Path("scen.yaml"), out)[command], "--force"])
        assert res.exit_code == 2, res.output
        assert "is the working directory" in res.stderr
        assert "never writes over it" in res.stderr
    assert tree(work) == before


def test_force_never_replaces_a_parent_of_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = user_folder(tmp_path / "top")
    (tmp_path / "top" / MARKER).write_text(marker_text("run"))
    before = tree(tmp_path / "top")
    monkeypatch.chdir(tmp_path / "top" / "sub")
    for out in ("..", str(tmp_path / "top"), str(tmp_path)):
        res = run_cli(["run", str(CASE), "--out", out, "--force"])
        assert res.exit_code == 2, res.output
        assert "holds the working directory" in res.stderr
    assert tree(tmp_path / "top") == before


@pytest.mark.parametrize("where", ["scenario", "parent"])
def test_force_never_replaces_a_folder_holding_an_input(tmp_path: Path, where: str) -> None:
    """The scenario itself, or a file of its `extends` chain, inside --out."""
    out = tmp_path / "out"
    user_folder(out)
    (out / MARKER).write_text(marker_text("run"))
    if where == "scenario":
        scenario = out / "sub" / "scen.yaml"
        shutil.copy(CASE, scenario)
    else:
        shutil.copy(CASE, out / "sub" / "base.yaml")
        scenario = tmp_path / "child.yaml"
        scenario.write_text("extends: out/sub/base.yaml\nname: child\n")
    before = tree(out)
    for command, args in commands(scenario, str(out)).items():
        res = run_cli([*args, "--force"])
        assert res.exit_code == 2, (command, res.output)
        assert "holds an input of this command" in res.stderr, command
    assert tree(out) == before


def test_force_never_replaces_the_run_folder_being_stressed(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    assert run_cli(["run", str(CASE), "--out", str(run_dir)]).exit_code == 0
    before = tree(run_dir)
    res = run_cli(["stress", str(run_dir), "--under", str(OTHER), "--out", str(run_dir), "--force"]
    )
    assert res.exit_code == 2
    assert "holds an input of this command" in res.stderr
    assert tree(run_dir) == before


def test_force_never_replaces_home_or_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    before = user_folder(home)
    monkeypatch.setenv("HOME", str(home))
    res = run_cli(["run", str(CASE), "--out", str(home), "--force"])
    assert res.exit_code == 2
    assert "is your home folder" in res.stderr
    assert tree(home) == before
    res = run_cli(["run", str(CASE), "--out", "/", "--force"])
    assert res.exit_code == 2
    assert "is the root folder" in res.stderr


@pytest.mark.parametrize("force", [False, True])
def test_a_folder_of_other_files_is_never_replaced(tmp_path: Path, force: bool) -> None:
    out = tmp_path / "results"
    before = user_folder(out)
    extra = ["--force"] if force else []
    for command, args in commands(CASE, str(out)).items():
        res = run_cli([*args, *extra])
        assert res.exit_code == 2, (command, res.output)
        assert "holds files that sourcing did not write" in res.stderr
        # the message must not lead to destroying them: no "use --force", no "delete"
        if not force:
            assert "--force to" not in res.stderr
        assert not any(w in res.stderr for w in ("delete", "remove", "rm "))
    assert tree(out) == before
    assert not list(tmp_path.glob(f"{TMP_PREFIX}*"))


@pytest.mark.parametrize(
    "marker",
    [
        b"",
        b"not json",
        b'{"format": "something-else", "version": 1}',
        b'{"format": "sourcing-output-folder", "version": "1"}',
        b'{"format": "sourcing-output-folder", "version": 0}',
        b'["sourcing-output-folder", 1]',
        b"x" * 5000,
    ],
)
def test_only_a_valid_marker_counts(tmp_path: Path, marker: bytes) -> None:
    out = tmp_path / "results"
    user_folder(out)
    (out / MARKER).write_bytes(marker)
    before = tree(out)
    res = run_cli(["run", str(CASE), "--out", str(out), "--force"])
    assert res.exit_code == 2
    assert tree(out) == before


def test_a_marker_that_is_a_link_or_a_folder_does_not_count(tmp_path: Path) -> None:
    real_marker = tmp_path / "elsewhere"
    real_marker.write_text(marker_text("run"))
    for kind in ("link", "folder"):
        out = tmp_path / kind
        user_folder(out)
        if kind == "link":
            (out / MARKER).symlink_to(real_marker)
        else:
            (out / MARKER).mkdir()
        assert read_marker(out) is None
        res = run_cli(["run", str(CASE), "--out", str(out), "--force"])
        assert res.exit_code == 2


def test_every_output_folder_carries_the_marker_of_its_command(tmp_path: Path) -> None:
    for command, args in commands(CASE, str(tmp_path / "{}")).items():
        out = tmp_path / command
        args = [a.replace("{}", command) for a in args]
        res = run_cli(args)
        assert res.exit_code == 0, (command, res.output)
        doc = json.loads((out / MARKER).read_text())
        assert doc == {"format": "sourcing-output-folder", "version": 1, "kind": command}
        # ...and so it can be replaced with --force (and only with it)
        assert run_cli(args).exit_code == 2
        res = run_cli([*args, "--force"])
        assert res.exit_code == 0, (command, res.output)


def test_an_empty_folder_is_written_without_force(tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    assert run_cli(["run", str(CASE), "--out", str(out)]).exit_code == 0
    assert (out / "plan.csv").exists()


def test_out_that_is_a_file_or_a_link_loop_is_refused(tmp_path: Path) -> None:
    a_file = tmp_path / "plan.txt"
    a_file.write_text("keep")
    res = run_cli(["run", str(CASE), "--out", str(a_file), "--force"])
    assert res.exit_code == 2
    assert "exists and is not a folder" in res.stderr
    assert a_file.read_text() == "keep"
    (tmp_path / "l1").symlink_to(tmp_path / "l2")
    (tmp_path / "l2").symlink_to(tmp_path / "l1")
    res = run_cli(["run", str(CASE), "--out", str(tmp_path / "l1"), "--force"])
    assert res.exit_code == 2
    assert "symbolic link loops" in res.stderr
    assert (tmp_path / "l1").is_symlink() and (tmp_path / "l2").is_symlink()


def test_symlinked_out_is_resolved_never_half_replaced(tmp_path: Path) -> None:
    """The link's target gets the new results; the link stays a link; no temporary link left."""
    target = tmp_path / "store" / "run"
    link = tmp_path / "latest"
    assert run_cli(["run", str(CASE), "--out", str(target)]).exit_code == 0
    link.symlink_to(target)
    old_summary = (target / "summary.json").read_text()
    res = run_cli(["run", str(OTHER), "--out", str(link)])
    assert res.exit_code == 2  # an earlier run is there: --force needed
    res = run_cli(["run", str(OTHER), "--out", str(link), "--force"])
    assert res.exit_code == 0, res.output
    assert link.is_symlink() and link.resolve() == target.resolve()
    new_summary = (target / "summary.json").read_text()
    assert new_summary != old_summary and '"scenario": "landed_cost"' in new_summary
    assert (link / "summary.json").read_text() == new_summary
    for parent in (tmp_path, target.parent):
        assert not [p for p in parent.iterdir() if p.name.startswith(TMP_PREFIX)]
    # a link to a folder of other files is refused like the folder itself
    other = tmp_path / "mine"
    before = user_folder(other)
    (tmp_path / "to-mine").symlink_to(other)
    res = run_cli(["run", str(CASE), "--out", str(tmp_path / "to-mine"), "--force"])
    assert res.exit_code == 2
    assert tree(other) == before


def test_stale_temporary_links_are_swept(tmp_path: Path) -> None:
    """Older versions left `.sourcing-tmp-*` links when replacing a symlinked --out."""
    target = tmp_path / "target"
    target.mkdir()
    (target / "keep.txt").write_text("keep")
    stale = tmp_path / f"{TMP_PREFIX}12345-old-abc"
    stale.symlink_to(target)
    report.sweep_stale(tmp_path)
    assert not stale.is_symlink()
    assert (target / "keep.txt").read_text() == "keep"  # the link's target is left alone


def test_a_folder_swapped_in_after_the_check_is_put_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The marker is checked again on the folder that was moved aside; not ours: swap back."""
    out = tmp_path / "out"
    before = user_folder(out)  # what is there when the move happens (no marker)
    new = tmp_path / f"{TMP_PREFIX}{os.getpid()}-new"
    new.mkdir()
    (new / MARKER).write_text(marker_text("run"))
    (new / "plan.csv").write_text("x\n")
    calls = []
    real_check = report.check_target

    def check_passes_once(*args: object, **kwargs: object) -> Path:
        calls.append(1)
        if len(calls) == 1:  # the check before the move saw a folder of ours (a race)
            return out
        return real_check(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(report, "check_target", check_passes_once)
    with pytest.raises(OutputRefused):
        report._move_into_place(new, out, out, True, [])
    assert tree(out) == before
    assert (new / "plan.csv").exists()  # the new folder is still the temporary one


def test_help_describes_what_force_replaces() -> None:
    res = run_cli(["run", "--help"])
    assert "sourcing wrote" in res.output
