"""`extends` (DESIGN §3): deep merge, `null` deletes, lists replaced, chains, cycles,
missing parents, and error lines that point into the file that set the value.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.io.extends import merge
from optimizer.io.load import load_scenario
from tests.test_loading_helpers import MINIMAL, assert_rejected, line_of, problems, write

BASE = """\
name: base
title: The base
horizon: {periods: 2, period_days: 30}
materials:
  m: {demand: 10, shortage_cost: 1000, inbound: [1, 2]}
  n: {demand: 5, shortage_cost: 500}
suppliers:
  s:
    country: CN
    risk: 0.9
    freight: 100
    offers:
      m: {price: 5, capacity: 20}
      n: {price: 7, capacity: 10}
  t:
    country: AU
    offers:
      m: {price: 9, capacity: 5}
policy: {max_supplier_share: 0.8, min_suppliers: 2}
disruptions:
  - name: slow
    probability: 0.2
    effects: [{country: CN, availability: 0.5}]
  - name: stop
    probability: 0.1
    effects: [{supplier: s, availability: 0}]
"""


def test_merge_rules() -> None:
    parent = {"a": {"x": 1, "y": [1, 2], "z": {"k": 1}}, "b": 2, "c": 3}
    child = {"a": {"x": 5, "y": [9], "z": {"j": 2}}, "b": None, "d": {"e": None, "f": 1}}
    assert merge(parent, child) == {
        "a": {"x": 5, "y": [9], "z": {"k": 1, "j": 2}},
        "c": 3,
        "d": {"f": 1},
    }
    assert parent == {"a": {"x": 1, "y": [1, 2], "z": {"k": 1}}, "b": 2, "c": 3}


def test_deep_merge_null_delete_and_list_replace(tmp_path: Path) -> None:
    write(tmp_path, BASE, "base.yaml")
    child = """\
extends: base.yaml
name: child
title: null
materials:
  m: {demand: 12, inbound: [4]}
suppliers:
  s:
    freight: null
    offers:
      m: {capacity: 30}
  t: null
policy: {min_suppliers: null}
disruptions:
  - name: only
    probability: 0.5
    effects: [{country: CN, availability: 0.1}]
"""
    sc = load_scenario(write(tmp_path, child, "child.yaml")).scenario
    assert sc.name == "child"
    assert sc.title is None
    assert sc.materials["m"].demand == 12
    assert sc.materials["m"].shortage_cost == 1000  # kept from the parent
    assert sc.materials["m"].inbound == [4]  # list replaced, not merged
    assert set(sc.materials) == {"m", "n"}
    assert sc.suppliers["s"].freight == 0  # deleted -> default
    assert sc.suppliers["s"].risk == 0.9
    assert sc.suppliers["s"].offers["m"].capacity == 30
    assert sc.suppliers["s"].offers["m"].price == 5
    assert set(sc.suppliers) == {"s"}
    assert sc.policy.max_supplier_share == 0.8
    assert sc.policy.min_suppliers is None
    assert [d.name for d in sc.disruptions] == ["only"]


def test_null_in_a_new_subtree_also_deletes(tmp_path: Path) -> None:
    write(tmp_path, BASE, "base.yaml")
    child = "extends: base.yaml\npolicy: {min_supplier_share: null}\n"
    sc = load_scenario(write(tmp_path, child, "child.yaml")).scenario
    assert sc.policy.min_supplier_share == 0.1  # default, not "null is not a number"


def test_chain_of_three(tmp_path: Path) -> None:
    write(tmp_path, BASE, "a.yaml")
    write(
        tmp_path,
        "extends: a.yaml\nname: b\nspot_premium: 0.7\nhorizon: {periods: 3}\n"
        "materials: {m: {inbound: []}}\n",
        "b.yaml",
    )
    # a relative `extends` is relative to the file that says it
    write(tmp_path, "extends: ../b.yaml\nname: c\nhorizon: {period_days: 7}\n", "sub/c.yaml")
    loaded = load_scenario(tmp_path / "sub" / "c.yaml")
    sc = loaded.scenario
    assert (sc.name, sc.spot_premium, sc.horizon.periods, sc.horizon.period_days) == (
        "c",
        0.7,
        3,
        7,
    )
    assert [Path(s.name).name for s in loaded.sources] == ["c.yaml", "b.yaml", "a.yaml"]


def test_resolved_data_has_no_extends(tmp_path: Path) -> None:
    write(tmp_path, BASE, "base.yaml")
    loaded = load_scenario(write(tmp_path, "extends: base.yaml\n", "child.yaml"))
    assert "extends" not in loaded.resolved_data()
    parent = load_scenario(tmp_path / "base.yaml").resolved_data()
    # a variant describes itself: the parent's title and description are not inherited
    assert "title" not in loaded.resolved_data() and "title" in parent
    parent.pop("title")
    parent.pop("description", None)
    assert loaded.resolved_data() == parent


def test_cycle_names_the_chain(tmp_path: Path) -> None:
    write(tmp_path, "extends: b.yaml\nname: a\n", "a.yaml")
    b = write(tmp_path, "name: b\nextends: ./a.yaml  # <-\n", "b.yaml")
    msg = assert_rejected(tmp_path / "a.yaml", 2, "extends", "extends cycle", file=b)
    assert f"{tmp_path / 'a.yaml'} -> {tmp_path / 'b.yaml'} -> {tmp_path / 'a.yaml'}" in msg


def test_file_extending_itself(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "extends: s.yaml  # <-\n")
    assert_rejected(path, line_of(MINIMAL + "extends: s.yaml  # <-\n"), "extends", "cycle")


def test_missing_parent_names_the_chain(tmp_path: Path) -> None:
    write(tmp_path, "extends: b.yaml\nname: a\n", "a.yaml")
    b = write(tmp_path, "# b\nextends: gone.yaml\n", "b.yaml")
    msg = assert_rejected(tmp_path / "a.yaml", 2, "extends", "parent file not found", file=b)
    chain = f"{tmp_path / 'a.yaml'} -> {tmp_path / 'b.yaml'} -> {tmp_path / 'gone.yaml'}"
    assert chain in msg


@pytest.mark.parametrize("value", ["5", "''", "[a.yaml]", "{a: 1}"])
def test_extends_must_be_a_path(tmp_path: Path, value: str) -> None:
    text = MINIMAL + f"extends: {value}  # <-\n"
    assert_rejected(write(tmp_path, text), line_of(text), "extends", "must be the path")


def test_error_in_parent_points_into_parent(tmp_path: Path) -> None:
    base_text = BASE.replace("freight: 100", "freight: -100  # <-")
    base = write(tmp_path, base_text, "base.yaml")
    child = write(tmp_path, "extends: base.yaml\nname: child\n", "child.yaml")
    assert_rejected(
        child, line_of(base_text), "suppliers.s.freight", "must be >= 0", "-100", file=base
    )


def test_error_in_child_points_into_child(tmp_path: Path) -> None:
    write(tmp_path, BASE, "base.yaml")
    text = "extends: base.yaml\nsuppliers:\n  s:\n    freight: -1  # <-\n"
    child = write(tmp_path, text, "child.yaml")
    assert_rejected(child, line_of(text), "suppliers.s.freight", "must be >= 0")


def test_child_overriding_a_bad_parent_value_is_valid(tmp_path: Path) -> None:
    write(tmp_path, BASE.replace("freight: 100", "freight: -100"), "base.yaml")
    child = write(tmp_path, "extends: base.yaml\nsuppliers: {s: {freight: 1}}\n", "c.yaml")
    assert load_scenario(child).scenario.suppliers["s"].freight == 1


def test_errors_in_both_files_reported_at_once(tmp_path: Path) -> None:
    base_text = BASE.replace("risk: 0.9", "risk: 90  # <-")
    base = write(tmp_path, base_text, "base.yaml")
    text = "extends: base.yaml\nmaterials:\n  n: {demand: -5}  # <-\n"
    child = write(tmp_path, text, "child.yaml")
    found = problems(child)
    assert [(p.file, p.line, p.path) for p in found] == [
        (str(base), line_of(base_text), "suppliers.s.risk"),
        (str(child), line_of(text), "materials.n.demand"),
    ]


def test_missing_field_in_replaced_list_points_into_child(tmp_path: Path) -> None:
    """The parent's list is replaced whole: its items say nothing about the child's."""
    write(tmp_path, BASE, "base.yaml")
    text = "extends: base.yaml\ndisruptions:\n  - probability: 0.1  # <-\n    effects: [{}]\n"
    child = write(tmp_path, text, "child.yaml")
    assert_rejected(child, line_of(text), "disruptions[0].name", "required field is missing")


def test_deleted_required_field_points_at_the_null(tmp_path: Path) -> None:
    write(tmp_path, BASE, "base.yaml")
    text = "extends: base.yaml\nmaterials:\n  m:\n    shortage_cost: null  # <-\n"
    child = write(tmp_path, text, "child.yaml")
    assert_rejected(child, line_of(text), "materials.m.shortage_cost", "required field")


def test_reference_error_after_delete_points_into_parent(tmp_path: Path) -> None:
    """The child deletes supplier t; the parent's offer of an unknown material stays."""
    base_text = BASE.replace("m: {price: 9, capacity: 5}", "x: {price: 9, capacity: 5}  # <-")
    base = write(tmp_path, base_text, "base.yaml")
    child = write(tmp_path, "extends: base.yaml\nmaterials: {n: null}\n", "child.yaml")
    found = problems(child)
    where = {(p.file, p.line, p.path) for p in found}
    assert (str(base), line_of(base_text), "suppliers.t.offers.x") in where
    assert (str(base), line_of(BASE, "n: {price: 7"), "suppliers.s.offers.n") in where


def test_syntax_error_in_parent_names_parent(tmp_path: Path) -> None:
    base = write(tmp_path, BASE + "oops: [\n", "base.yaml")
    child = write(tmp_path, "extends: base.yaml\n", "child.yaml")
    end = BASE.count("\n") + 2  # the line after `oops: [`
    assert_rejected(child, end, "", "invalid YAML", file=base)


def test_parent_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "dir.yaml").mkdir()
    text = MINIMAL + "extends: dir.yaml  # <-\n"
    assert_rejected(write(tmp_path, text), line_of(text), "extends", "is a directory")
