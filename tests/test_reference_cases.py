"""The reference implementation reproduces every hand-computed case in tests/cases/.

Each case file carries its hand working as comments; the figures are in
tests/cases/expected.yaml. A disagreement means the case or the reference is
wrong: find out which, do not copy numbers.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

CASES = Path(__file__).with_name("cases")
EXPECTED = yaml.safe_load((CASES / "expected.yaml").read_text(encoding="utf-8"))
CASE_FILES = sorted(p for p in CASES.glob("*.yaml") if p.name != "expected.yaml")
ID = re.compile(r"^[A-Za-z0-9_-]+$")


from tests import reference as ref  # noqa: E402


def _load(name: str) -> dict:
    return yaml.safe_load((CASES / f"{name}.yaml").read_text(encoding="utf-8"))


def test_every_case_has_expected_figures_and_vice_versa():
    assert {p.stem for p in CASE_FILES} == set(EXPECTED)
    assert len(CASE_FILES) >= 10


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_case_file_is_well_formed(path: Path):
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f"# {path.stem}:"), "hand working first, headed by the case name"
    data = yaml.safe_load(text)
    assert data["name"] == path.stem
    ids = [data["name"], *data["materials"], *data["suppliers"]]
    ids += [s["country"] for s in data["suppliers"].values()]
    ids += [d["name"] for d in data.get("disruptions", []) + data.get("risks", [])]
    assert all(isinstance(i, str) and ID.match(i) for i in ids), ids

    def no_booleans(node):  # YAML 1.1 booleans (NO, yes, on ...) must not sneak in
        if isinstance(node, dict):
            for k, v in node.items():
                no_booleans(k)
                no_booleans(v)
        elif isinstance(node, list):
            for v in node:
                no_booleans(v)
        else:
            assert not isinstance(node, bool), f"boolean in {path.name}"

    no_booleans(data)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reference_reproduces_hand_figures(name: str):
    expected = EXPECTED[name]
    result = ref.solve_reference(_load(name))
    assert result.status == expected["status"]
    if expected["status"] != "optimal":
        assert result.objective is None
        return
    assert result.objective == pytest.approx(expected["objective"], rel=1e-9)
    plan = {
        (row["supplier"], row["material"], int(row["period"])): float(row["quantity"])
        for row in expected["plan"]
    }
    assert len(plan) == len(expected["plan"]), "duplicate plan rows"
    assert set(result.x) == set(plan)
    for key, quantity in plan.items():
        assert result.x[key] == pytest.approx(quantity, rel=1e-9, abs=1e-9), key
    if "shortage" in expected:
        assert result.expected_shortage == pytest.approx(expected["shortage"], abs=1e-9)
