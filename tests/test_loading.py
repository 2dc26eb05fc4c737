"""The YAML loader: safe reading, strict scalars, limits (RELIABILITY §2 and §4a rows 1-8,
10-11, 21-25) and the round trip through `dump_yaml`.

Every rejection is checked through `sourcing validate` (exit code 2) and the
message `FILE:LINE: field.path: ...`, with the line known by construction.
"""

from __future__ import annotations

import codecs
import os
import time
from pathlib import Path

import pytest
import yaml

import optimizer.io.yaml_reader as loading
from optimizer.io.load import content_hash, load_scenario, resolved_data
from optimizer.io.yaml_reader import dump_yaml, parse_yaml
from tests.test_loading_helpers import MINIMAL, assert_rejected, line_of, problems, write

# --- row 1: missing, unreadable, directory ----------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    msg = assert_rejected(tmp_path / "nope.yaml", None, "", "cannot read: no such file")
    assert msg == f"{tmp_path / 'nope.yaml'}: cannot read: no such file"


def test_directory(tmp_path: Path) -> None:
    assert_rejected(tmp_path, None, "", "cannot read", "directory")


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file the user may not read (simulated: root reads anything, so chmod 0 would
    prove nothing when the tests run as root)."""
    import optimizer.io.regular_file as regular_file

    path = write(tmp_path, MINIMAL)
    real_open = os.open

    def refuse(file: object, flags: int, *args: object) -> int:
        if Path(str(file)) == path:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(regular_file.os, "open", refuse)
    assert_rejected(path, None, "", "cannot read: Permission denied")


# --- row 2: empty, comment-only, list or scalar at the top ------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "file is empty"),
        ("# only a comment\n\n", "file is empty"),
        ("- name: t\n- name: u\n", "top level must be a mapping"),
        ("just text\n", "top level must be a mapping"),
        ("42\n", "top level must be a mapping"),
    ],
    ids=["empty", "comment-only", "list", "text", "number"],
)
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, words: str) -> None:
    assert_rejected(write(tmp_path, text), 1, "", words)


# --- row 3: several documents -----------------------------------------------------------


def test_second_document_is_an_error_at_its_separator(tmp_path: Path) -> None:
    text = "---\n" + MINIMAL + "---  # <-\nname: u\n"
    assert_rejected(write(tmp_path, text), line_of(text), "", "second YAML document")


# --- rows 4 and 5: encodings, NUL bytes, BOMs -------------------------------------------


def test_latin1_bytes_rejected_with_line_and_column(tmp_path: Path) -> None:
    text = MINIMAL.replace("name: t\n", "name: t\ntitle: Caf\xe9 Nord  # <-\n")
    path = write(tmp_path, text.encode("latin-1"))
    msg = assert_rejected(path, line_of(text), "", "not valid UTF-8", "byte 0xe9")
    assert "column 11" in msg  # "title: Caf" is 10 characters


def test_nul_byte_rejected_with_line(tmp_path: Path) -> None:
    text = MINIMAL + "title: a\x00b  # <-\n"
    assert_rejected(write(tmp_path, text), line_of(text), "", "NUL byte")


def test_utf16_without_bom_is_explained(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.encode("utf-16-le"))
    assert_rejected(path, 1, "", "NUL byte", "UTF-16")


@pytest.mark.parametrize(
    ("bom", "encoding"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ],
    ids=["utf8-bom", "utf16le-bom", "utf16be-bom"],
)
def test_byte_order_marks_accepted(tmp_path: Path, bom: bytes, encoding: str) -> None:
    text = MINIMAL.replace("name: t", "name: t\ntitle: Überseehafen – Ø")
    loaded = load_scenario(write(tmp_path, bom + text.encode(encoding)))
    assert loaded.scenario.name == "t"
    assert loaded.scenario.title == "Überseehafen – Ø"


def test_utf16_error_lines_count_text_lines(tmp_path: Path) -> None:
    text = MINIMAL + "title: x\nbad: [  # <-\n"
    path = write(tmp_path, codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert_rejected(path, line_of(text) + 1, "", "invalid YAML")


def test_control_character_rejected_with_line(tmp_path: Path) -> None:
    text = MINIMAL + 'title: "bell \x07"  # <-\n'
    assert_rejected(write(tmp_path, text), line_of(text), "", "invalid YAML", "control")


# --- row 6: tabs, unclosed quotes, bad indentation --------------------------------------


def test_tab_indentation(tmp_path: Path) -> None:
    text = MINIMAL + "policy:\n\tmin_suppliers: 2  # <-\n"
    msg = assert_rejected(write(tmp_path, text), line_of(text), "", "invalid YAML", "tab")
    assert "column 1" in msg


def test_unclosed_quote_names_where_it_started(tmp_path: Path) -> None:
    text = MINIMAL.replace("name: t", 'name: "t  # <-')
    end = len(text.splitlines()) + 1  # the scanner reaches the end of the file
    msg = assert_rejected(write(tmp_path, text), end, "", "invalid YAML")
    assert f"started on line {line_of(text)}" in msg


def test_bad_indentation(tmp_path: Path) -> None:
    text = "name: t\nhorizon:\n  periods: 2\n   period_days: 30  # <-\n"
    assert_rejected(write(tmp_path, text), line_of(text), "", "invalid YAML", "indentation")


# --- row 7: duplicate keys, naming both lines -------------------------------------------


def test_duplicate_top_level_key(tmp_path: Path) -> None:
    text = MINIMAL + "name: u  # <-\n"
    assert_rejected(
        write(tmp_path, text), line_of(text), "name", "duplicate key 'name'", "first on line 1"
    )


def test_duplicate_supplier_id(tmp_path: Path) -> None:
    text = MINIMAL + "  s:  # <-\n    country: AU\n    offers: {m: {price: 1, capacity: 1}}\n"
    assert_rejected(
        write(tmp_path, text),
        line_of(text),
        "suppliers.s",
        "duplicate key 's'",
        f"first on line {line_of(MINIMAL, '  s:')}",
    )


def test_duplicate_key_in_flow_mapping(tmp_path: Path) -> None:
    text = MINIMAL.replace("{price: 5, capacity: 20}", "{price: 5, capacity: 20, price: 6}  # <-")
    assert_rejected(write(tmp_path, text), line_of(text), "suppliers.s.offers.m.price", "duplicate")


def test_all_duplicates_reported_at_once(tmp_path: Path) -> None:
    text = MINIMAL.replace("country: CN", "country: CN\n    country: AU") + "name: u\n"
    found = problems(write(tmp_path, text))
    assert [p.path for p in found] == ["suppliers.s.country", "name"]


# --- row 8: YAML 1.1 booleans stay text (the Norway problem) ----------------------------


def test_norway_country_value_and_key_stay_text(tmp_path: Path) -> None:
    text = MINIMAL.replace("country: CN", "country: NO") + (
        "countries:\n  NO: {risk: 0.2}\n  'ON': {risk: 0.1}\n  YES: {risk: 0.3}\n"
        "policy:\n  max_country_share: {NO: 0.8}\n"
        "title: yes\ndescription: off\n"
    )
    sc = load_scenario(write(tmp_path, text)).scenario
    assert sc.suppliers["s"].country == "NO"
    assert list(sc.countries) == ["NO", "ON", "YES"]
    assert sc.policy.max_country_share == {"NO": 0.8}
    assert (sc.title, sc.description) == ("yes", "off")
    assert sc.supplier_risk("s") == 0.2


def test_yaml_1_1_scalars_stay_text() -> None:
    data, _, _ = parse_yaml("a: NO\nb: on\nc: y\nd: 012\ne: 1:30\nf: 0x1F\ng: 2025-01-01\n")
    assert data == {
        "a": "NO",
        "b": "on",
        "c": "y",
        "d": "012",
        "e": "1:30",
        "f": "0x1F",
        "g": "2025-01-01",
    }


def test_yaml_1_2_numbers_and_booleans() -> None:
    data, _, _ = parse_yaml(
        "a: 1e3\nb: 6e1\nc: -2.5\nd: .5\ne: 1_000\nf: true\ng: False\nh: null\ni: ~\nj:\n"
        "k: '12'\nl: !!str 12\nm: !!float 3\n"
    )
    assert data == {
        "a": 1000.0,
        "b": 60.0,
        "c": -2.5,
        "d": 0.5,
        "e": 1000,
        "f": True,
        "g": False,
        "h": None,
        "i": None,
        "j": None,
        "k": "12",
        "l": "12",
        "m": 3.0,
    }


# --- rows 10 and 11: 012, 08, 1:30 and 1e3 ----------------------------------------------


def test_exponent_reads_as_number(tmp_path: Path) -> None:
    text = MINIMAL.replace("demand: 10", "demand: 1e3").replace("capacity: 20", "capacity: 2E1")
    sc = load_scenario(write(tmp_path, text)).scenario
    assert sc.materials["m"].demand == 1000.0
    assert sc.suppliers["s"].offers["m"].capacity == 20.0


@pytest.mark.parametrize(
    ("value", "hint"),
    [("012", "leading zero"), ("08", "leading zero"), ("1:30", "base 60"), ("1,000", "1000")],
)
def test_ambiguous_numbers_rejected_with_hint(tmp_path: Path, value: str, hint: str) -> None:
    block = f"m:\n    shortage_cost: 1000\n    demand: {value}  # <-"
    text = MINIMAL.replace("m: {demand: 10, shortage_cost: 1000}", block)
    assert_rejected(write(tmp_path, text), line_of(text), "materials.m.demand", hint, f"'{value}'")


# --- row 21: keys that are not text -----------------------------------------------------


@pytest.mark.parametrize("entry", ["? [a, b]  # <-\n: 1", "{x: 1}: 2  # <-", "? {a: 1}  # <-\n: 2"])
def test_non_text_keys_rejected(tmp_path: Path, entry: str) -> None:
    text = MINIMAL + entry + "\n"
    assert_rejected(write(tmp_path, text), line_of(text), "", "keys must be plain text")


def test_scalar_keys_are_kept_as_written() -> None:
    data, _, _ = parse_yaml("2024: a\ntrue: b\nNO: c\n1.5: d\n~: e\n")
    assert data == {"2024": "a", "true": "b", "NO": "c", "1.5": "d", "~": "e"}


# --- row 22: tags are refused, never executed -------------------------------------------


def test_python_tag_refused_and_not_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = MINIMAL + f'title: !!python/object/apply:os.system ["touch {marker}"]  # <-\n'
    assert_rejected(write(tmp_path, text), line_of(text), "", "not allowed", "never executed")
    assert not marker.exists()


@pytest.mark.parametrize(
    "value",
    [
        "!!python/name:os.system",
        "!!python/object:collections.OrderedDict {}",
        "!custom 5",
        "!!binary aGVsbG8=",
        "!!timestamp 2025-01-01",
        "!!set {a, b}",
        "!!omap [a: 1]",
    ],
)
def test_other_tags_refused(tmp_path: Path, value: str) -> None:
    text = MINIMAL + f"title: {value}  # <-\n"
    assert_rejected(write(tmp_path, text), line_of(text), "", "tag", "not allowed")


def test_tag_on_key_refused(tmp_path: Path) -> None:
    text = MINIMAL + "!!python/name:os.system title: x  # <-\n"
    assert_rejected(write(tmp_path, text), line_of(text), "", "tag", "not allowed")


def test_plain_standard_tags_allowed() -> None:
    data, _, _ = parse_yaml("a: !!str NO\nb: !!int 5\nc: !!map {x: 1}\nd: !!seq [1]\ne: ! 5\n")
    assert data == {"a": "NO", "b": 5, "c": {"x": 1}, "d": [1], "e": "5"}


# --- row 23: anchors, aliases and billion laughs -----------------------------------------


def test_alias_refused(tmp_path: Path) -> None:
    text = MINIMAL.replace("m: {price: 5, capacity: 20}", "m: &o {price: 5, capacity: 20}  # <-")
    text += "  t:\n    country: AU\n    offers: {m: *o}\n"
    assert_rejected(write(tmp_path, text), line_of(text), "", "anchors and aliases")


def billion_laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 "lol"']
    for i in range(1, levels + 1):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_refused_quickly(tmp_path: Path) -> None:
    path = write(tmp_path, billion_laughs())
    start = time.perf_counter()
    assert_rejected(path, 1, "", "anchors and aliases")
    assert time.perf_counter() - start < 1.0


# --- row 24: nesting ---------------------------------------------------------------------


def test_ten_thousand_brackets_no_recursion_error(tmp_path: Path) -> None:
    path = write(tmp_path, "name: " + "[" * 10_000 + "]" * 10_000 + "\n")
    start = time.perf_counter()
    assert_rejected(path, 1, "", "nesting")
    assert time.perf_counter() - start < 5.0


def test_deep_block_nesting_rejected(tmp_path: Path) -> None:
    text = "".join(f"{'  ' * i}k{i}:\n" for i in range(60)) + f"{'  ' * 60}x: 1\n"
    msg = assert_rejected(write(tmp_path, text), loading.MAX_DEPTH + 1, "", "nesting deeper")
    assert str(loading.MAX_DEPTH) in msg


def test_pure_python_parser_also_stops_deep_nesting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without libyaml the parser is PyYAML's own; the depth cap still applies."""
    monkeypatch.setattr(loading, "_Parser", yaml.SafeLoader)
    with pytest.raises(loading._YamlProblem, match="nesting deeper"):
        parse_yaml("a: " + "[" * 10_000 + "]" * 10_000 + "\n")


# --- row 25: size cap --------------------------------------------------------------------


def test_large_file_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as fh:  # sparse: no need to write 32 MB
        fh.truncate(loading.MAX_FILE_BYTES + 1)
    start = time.perf_counter()
    assert_rejected(path, None, "", "too large", f"{loading.MAX_FILE_BYTES:,}")
    assert time.perf_counter() - start < 1.0


def test_size_cap_is_checked_on_the_bytes_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loading, "MAX_FILE_BYTES", 100)
    assert_rejected(write(tmp_path, MINIMAL + "# pad\n" * 20), None, "", "too large")


# --- lines of keys and list items --------------------------------------------------------


def test_lines_of_keys_and_list_items() -> None:
    text = "a:\n  b: 1\n  c:\n    - x\n    - {d: 2}\ne: [1,\n  2]\n"
    _, lines, _ = parse_yaml(text)
    assert lines[("a",)] == 1
    assert lines[("a", "b")] == 2
    assert lines[("a", "c", 0)] == 4
    assert lines[("a", "c", 1, "d")] == 5
    assert lines[("e", 1)] == 7


# --- round trip and content hash ---------------------------------------------------------

FULL = """\
name: full-1
title: "Everything: every field set"
description: |
  Two materials, three suppliers (one in Norway), a policy and disruptions.
currency: EUR
quantity_unit: kg
horizon: {periods: 3, period_days: 28, start: 2025-06-01}
materials:
  ndpr:
    demand: [10, 20, 30]
    shortage_cost: 1e6
    initial_inventory: 5
    inbound: [1, 2]
    holding_cost: 2.5
    safety_stock: 3
    safety_stock_penalty: 100
  dy: {demand: 1, shortage_cost: 5000}
countries:
  CN: {tariff: 0.25, risk: 0.9}
  NO: {risk: 0.1}
suppliers:
  cn-1:
    country: CN
    freight: 10
    lead_time_days: 35
    license_delay_days: 63
    offers:
      ndpr: {price: [50, 55, 60], capacity: 100, min_order: 5}
      dy: {price: 300, capacity: [1, 2, 3]}
  no_1:
    country: NO
    risk: 0.05
    tariff: 0
    fixed_cost: 1000
    max_share: 0.7
    offers:
      ndpr: {price: 80, capacity: 20}
  "012":
    country: YES
    offers:
      dy: {price: 400, capacity: 1}
policy:
  delay_cost_per_day: 0.5
  max_supplier_share: 0.8
  min_suppliers: 2
  min_supplier_share: 0.2
  max_country_share: {CN: 0.6, NO: 1}
  max_average_risk: 0.7
  share_basis: period
disruptions:
  - name: slowdown
    probability: 0.3
    effects:
      - {country: CN, materials: [dy], availability: 0.4, price_factor: 1.5, from_period: 2}
  - name: no-outage
    probability: 0.1
    effects: [{supplier: no_1, availability: 0, to_period: 2}]
spot_premium: 0.75
objective: {risk_measure: cvar, cvar_alpha: 0.95, cvar_weight: 2}
"""


def test_round_trip_full_scenario(tmp_path: Path) -> None:
    first = load_scenario(write(tmp_path, FULL))
    text = dump_yaml(first.resolved_data())
    second = load_scenario(write(tmp_path, text, "again.yaml"))
    # the resolved scenario is a fixed point: every default it fills in reads back the same
    assert second.resolved_data() == first.resolved_data()
    assert second.content_hash() == first.content_hash()
    assert second.scenario.suppliers["no_1"].country == "NO"
    assert "012" in second.scenario.suppliers


def test_dumped_text_reads_the_same_in_yaml_1_1(tmp_path: Path) -> None:
    """`scenario.resolved.yaml` is read by other tools too: NO and 012 are quoted."""
    data = load_scenario(write(tmp_path, FULL)).resolved_data()
    assert yaml.safe_load(dump_yaml(data)) == data


def test_dump_never_writes_aliases() -> None:
    shared = [1, 2]
    text = dump_yaml({"a": shared, "b": shared})
    assert "&" not in text and "*" not in text
    assert parse_yaml(text)[0] == {"a": [1, 2], "b": [1, 2]}


def test_round_trip_shipped_scenarios(tmp_path: Path) -> None:
    shipped = sorted((Path(__file__).parent.parent / "scenarios").rglob("*.yaml"))
    if not shipped:
        pytest.skip("no shipped scenarios")
    for path in shipped:
        first = load_scenario(path)
        again = load_scenario(write(tmp_path, dump_yaml(resolved_data(first.scenario))))
        assert resolved_data(again.scenario) == resolved_data(first.scenario), path
        assert content_hash(again.scenario) == content_hash(first.scenario), path


def test_content_hash_ignores_key_order_and_formatting(tmp_path: Path) -> None:
    reordered = """\
suppliers:
  s:
    offers:
      m:
        capacity: 20.0
        price: 5
    country: CN
materials: {m: {shortage_cost: 1000, demand: 10}}
horizon:
  periods: 2   # same as before
name: t
"""
    a = load_scenario(write(tmp_path, MINIMAL, "a.yaml"))
    b = load_scenario(write(tmp_path, reordered, "b.yaml"))
    assert a.content_hash() == b.content_hash()
    c = load_scenario(write(tmp_path, MINIMAL.replace("price: 5", "price: 6"), "c.yaml"))
    assert c.content_hash() != a.content_hash()


def test_defaults_written_explicitly_hash_the_same(tmp_path: Path) -> None:
    explicit = MINIMAL.replace("horizon: {periods: 2}", "horizon: {periods: 2, period_days: 30}")
    a = load_scenario(write(tmp_path, MINIMAL, "a.yaml"))
    b = load_scenario(write(tmp_path, explicit, "b.yaml"))
    assert a.content_hash() == b.content_hash()


# --- scale -------------------------------------------------------------------------------


def many_suppliers(n: int) -> str:
    out = ["name: big", "horizon: {periods: 12}", "materials:"]
    out += [f"  m{k}: {{demand: 100, shortage_cost: 100000}}" for k in range(5)]
    out += ["countries:", "  CN: {tariff: 0.1, risk: 0.9}", "  AU: {risk: 0.2}", "suppliers:"]
    prices = ", ".join(str(100 + k) for k in range(12))
    for i in range(n):
        out += [
            f"  s{i}:",
            f"    country: {'CN' if i % 3 else 'AU'}",
            f"    lead_time_days: {i % 60}",
            "    offers:",
            f"      m{i % 5}: {{price: {100 + i % 50}, capacity: {10 + i % 7}}}",
            f"      m{(i + 1) % 5}:",
            f"        price: [{prices}]",
            "        capacity: 5",
        ]
    return "\n".join(out) + "\n"


def test_errors_deep_in_a_large_file_are_still_located(tmp_path: Path) -> None:
    """(Loading 50,000 suppliers is tested once, in test_large_input.py.)"""
    text = many_suppliers(5_000).replace("lead_time_days: 7\n", "lead_time_days: -7  # <-\n", 1)
    assert_rejected(
        write(tmp_path, text), line_of(text), "suppliers.s7.lead_time_days", "must be >= 0"
    )


def test_windows_line_endings_keep_line_numbers(tmp_path: Path) -> None:
    text = MINIMAL + "policy:\n  min_suppliers: -2  # <-\n"
    path = write(tmp_path, text.replace("\n", "\r\n").encode())
    assert_rejected(path, line_of(text), "policy.min_suppliers", "must be >= 0")
