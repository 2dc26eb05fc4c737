"""The scenario schema (DESIGN §3): strict fields, fractions, cross-references, ids, and
the committed JSON Schema (RELIABILITY §4a rows 9 and 12-20).

Each bad value is written on a line marked `# <-`; the test asserts that
`sourcing validate` exits 2 and names that file, that line and the field path.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from optimizer.io.load import load_scenario
from optimizer.schema.scenario import Scenario, json_schema, per_period
from optimizer.schema.summary import summary_json_schema
from tests.test_loading_helpers import MINIMAL, assert_rejected, line_of, problems, write

ROOT = Path(__file__).resolve().parent.parent

SUPPLIER_BLOCK = """\
suppliers:
  s:
    country: CN
    offers:
      m: {price: 5, capacity: 20}
"""


def with_supplier_field(field: str) -> str:
    """MINIMAL with one more line in supplier s, marked."""
    return MINIMAL.replace("    country: CN\n", f"    country: CN\n    {field}  # <-\n")


def with_offer_field(field: str) -> str:
    """MINIMAL with the offer of m written as a block and one more field, marked."""
    block = f"m:\n        price: 5\n        capacity: 20\n        {field}  # <-"
    return MINIMAL.replace("m: {price: 5, capacity: 20}", block)


def rejected(tmp_path: Path, text: str, field: str, *fragments: str) -> str:
    return assert_rejected(write(tmp_path, text), line_of(text), field, *fragments)


# --- row 9: yes/no/true where a number is meant -----------------------------------------


@pytest.mark.parametrize("value", ["yes", "no", "true", "on"])
def test_boolean_words_in_a_number_field(tmp_path: Path, value: str) -> None:
    rejected(tmp_path, with_supplier_field(f"freight: {value}"), "suppliers.s.freight", "number")


def test_boolean_in_a_whole_number_field(tmp_path: Path) -> None:
    text = MINIMAL + "policy:\n  min_suppliers: true  # <-\n"
    rejected(tmp_path, text, "policy.min_suppliers", "whole number", "true/false")


def test_fractional_whole_number(tmp_path: Path) -> None:
    text = MINIMAL.replace("horizon: {periods: 2}", "horizon: {periods: 2.5}  # <-")
    rejected(tmp_path, text, "horizon.periods", "whole number", "(got 2.5)")


# --- rows 12 and 16: quoted numbers and percentages -------------------------------------


def test_quoted_number_rejected_with_hint(tmp_path: Path) -> None:
    text = with_offer_field("min_order: '100'")
    rejected(tmp_path, text, "suppliers.s.offers.m.min_order", "remove the quotes", "'100'")


def test_percent_text_rejected_with_hint(tmp_path: Path) -> None:
    text = with_supplier_field('max_share: "50%"')
    rejected(tmp_path, text, "suppliers.s.max_share", "0.5", "50%")


# --- row 13: NaN and infinity -----------------------------------------------------------


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", ".NaN"])
def test_nan_and_infinity_rejected(tmp_path: Path, value: str) -> None:
    text = with_offer_field(f"min_order: {value}")
    rejected(tmp_path, text, "suppliers.s.offers.m.min_order", "finite")


def test_infinity_in_a_per_period_list(tmp_path: Path) -> None:
    text = MINIMAL.replace("m: {demand: 10,", "m: {demand: [1, .inf],  # <-\n     ")
    rejected(tmp_path, text, "materials.m.demand[1]", "finite")


# --- row 14: negative quantities and money ----------------------------------------------


@pytest.mark.parametrize(
    ("text_of", "field"),
    [
        (lambda: with_offer_field("min_order: -1"), "suppliers.s.offers.m.min_order"),
        (lambda: with_supplier_field("freight: -3"), "suppliers.s.freight"),
        (lambda: with_supplier_field("fixed_cost: -1e3"), "suppliers.s.fixed_cost"),
        (lambda: with_supplier_field("lead_time_days: -1"), "suppliers.s.lead_time_days"),
        (
            lambda: MINIMAL.replace("{price: 5, capacity: 20}", "{price: 5, capacity: -5}  # <-"),
            "suppliers.s.offers.m.capacity",
        ),
        (
            lambda: MINIMAL.replace("{price: 5,", "{price: -5,  # <-\n        "),
            "suppliers.s.offers.m.price",
        ),
        (
            lambda: MINIMAL.replace("demand: 10,", "demand: -10,  # <-\n     "),
            "materials.m.demand",
        ),
        (
            lambda: MINIMAL.replace("shortage_cost: 1000}", "shortage_cost: -1}  # <-"),
            "materials.m.shortage_cost",
        ),
    ],
    ids=[
        "min_order",
        "freight",
        "fixed_cost",
        "lead_time",
        "capacity",
        "price",
        "demand",
        "shortage_cost",
    ],
)
def test_negative_values_rejected(tmp_path: Path, text_of: object, field: str) -> None:
    text = text_of()  # type: ignore[operator]
    rejected(tmp_path, text, field, "must be >= 0")


def test_negative_item_of_a_per_period_list(tmp_path: Path) -> None:
    text = MINIMAL.replace("capacity: 20}", "capacity: [20,\n          -1]}  # <-")
    rejected(tmp_path, text, "suppliers.s.offers.m.capacity[1]", "must be >= 0", "(got -1)")


# --- row 15: 50 meaning 50 % -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text_of", "field"),
    [
        (lambda: with_supplier_field("max_share: 50"), "suppliers.s.max_share"),
        (lambda: with_supplier_field("risk: 50"), "suppliers.s.risk"),
        (
            lambda: MINIMAL + "policy:\n  max_supplier_share: 50  # <-\n",
            "policy.max_supplier_share",
        ),
        (
            lambda: MINIMAL + "policy:\n  max_country_share: {CN: 50}  # <-\n",
            "policy.max_country_share.CN",
        ),
        (lambda: MINIMAL + "countries:\n  CN: {risk: 50}  # <-\n", "countries.CN.risk"),
        (
            lambda: (
                MINIMAL + "disruptions:\n  - name: d\n    probability: 50  # <-\n"
                "    effects: [{country: CN}]\n"
            ),
            "disruptions[0].probability",
        ),
        (
            lambda: (
                MINIMAL + "disruptions:\n  - name: d\n    probability: 0.5\n"
                "    effects:\n      - {country: CN, availability: 50}  # <-\n"
            ),
            "disruptions[0].effects[0].availability",
        ),
    ],
    ids=[
        "max_share",
        "risk",
        "policy-share",
        "country-share",
        "country-risk",
        "probability",
        "availability",
    ],
)
def test_percentage_for_fraction_says_did_you_mean(
    tmp_path: Path, text_of: object, field: str
) -> None:
    text = text_of()  # type: ignore[operator]
    rejected(tmp_path, text, field, "fraction between 0 and 1", "did you mean 0.5", "(got 50)")


def test_fraction_above_100_still_explained(tmp_path: Path) -> None:
    text = with_supplier_field("max_share: 150")
    msg = rejected(tmp_path, text, "suppliers.s.max_share", "fraction between 0 and 1")
    assert "did you mean" not in msg


def test_tariff_rate_above_one_allowed_but_percent_caught(tmp_path: Path) -> None:
    ok = load_scenario(write(tmp_path, with_supplier_field("tariff: 1.45"), "ok.yaml"))
    assert ok.scenario.supplier_tariff("s") == 1.45
    rejected(tmp_path, with_supplier_field("tariff: 25"), "suppliers.s.tariff", "did you mean 0.25")


# --- row 17: unknown keys, with the nearest name -----------------------------------------


@pytest.mark.parametrize(
    ("text_of", "field", "hint"),
    [
        (lambda: MINIMAL + "polcy: {}  # <-\n", "polcy", "did you mean 'policy'"),
        (
            lambda: with_supplier_field("lead_time: 3"),
            "suppliers.s.lead_time",
            "did you mean 'lead_time_days'",
        ),
        (
            lambda: with_offer_field("capactiy: 3"),
            "suppliers.s.offers.m.capactiy",
            "did you mean 'capacity'",
        ),
        (
            lambda: MINIMAL.replace(
                "horizon: {periods: 2}", "horizon: {periods: 2, days: 3}  # <-"
            ),
            "horizon.days",
            "allowed: period_days, periods, start",
        ),
        (
            lambda: MINIMAL + "policy:\n  max_supplier_shares: 0.5  # <-\n",
            "policy.max_supplier_shares",
            "did you mean 'max_supplier_share'",
        ),
    ],
    ids=["top", "supplier", "offer", "horizon", "policy"],
)
def test_unknown_key_rejected_with_nearest_name(
    tmp_path: Path, text_of: object, field: str, hint: str
) -> None:
    text = text_of()  # type: ignore[operator]
    rejected(tmp_path, text, field, "unknown key", hint)


# --- row 18: missing fields and null ------------------------------------------------------


def test_missing_field_reported_at_the_mapping(tmp_path: Path) -> None:
    text = MINIMAL.replace("m: {price: 5, capacity: 20}", "m: {price: 5}  # <-")
    rejected(tmp_path, text, "suppliers.s.offers.m.capacity", "required field is missing")


def test_missing_top_level_fields(tmp_path: Path) -> None:
    path = write(tmp_path, "name: t\nhorizon: {periods: 1}\n")
    found = problems(path)
    assert [(p.line, p.path, p.message) for p in found] == [
        (1, "materials", "required field is missing"),
        (1, "suppliers", "required field is missing"),
    ]


def test_null_value_reported_at_its_line(tmp_path: Path) -> None:
    text = MINIMAL.replace("shortage_cost: 1000}", "shortage_cost: null}  # <-")
    rejected(tmp_path, text, "materials.m.shortage_cost", "empty (null)")


def test_empty_value_reported_at_its_line(tmp_path: Path) -> None:
    text = MINIMAL.replace("    country: CN\n", "    country:  # <-\n")
    rejected(tmp_path, text, "suppliers.s.country", "must be text", "(got null)")


# --- row 19: mapping where a list is meant, and the reverse -------------------------------


def test_mapping_where_list_expected(tmp_path: Path) -> None:
    text = MINIMAL + "disruptions:  # <-\n  d: {probability: 0.1}\n"
    rejected(tmp_path, text, "disruptions", "must be a list", "not a mapping")


def test_list_where_mapping_expected(tmp_path: Path) -> None:
    text = MINIMAL.replace("suppliers:\n", "suppliers:  # <-\n  - s:\n", 1).replace(
        "  s:\n    country", "    country"
    )
    rejected(tmp_path, text, "suppliers", "must be a mapping", "not a list")


def test_mapping_where_number_or_list_expected(tmp_path: Path) -> None:
    text = MINIMAL.replace("demand: 10,", "demand: {a: 1},  # <-\n     ")
    rejected(tmp_path, text, "materials.m.demand", "a number or a list", "not a mapping")


def test_scalar_where_mapping_expected(tmp_path: Path) -> None:
    text = MINIMAL.replace("horizon: {periods: 2}", "horizon: 2  # <-")
    rejected(tmp_path, text, "horizon", "must be a mapping", "(got 2)")


# --- row 20: empty supplier list (duplicate ids: see test_loading) ------------------------


def test_empty_suppliers(tmp_path: Path) -> None:
    text = MINIMAL.split("suppliers:")[0] + "suppliers: {}  # <-\n"
    rejected(tmp_path, text, "suppliers", "at least 1 entry")


def test_supplier_without_offers(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "    offers:\n      m: {price: 5, capacity: 20}\n", "    offers: {}  # <-\n"
    )
    rejected(tmp_path, text, "suppliers.s.offers", "at least 1 entry")


# --- per-period lists against horizon.periods ----------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        (
            "demand: 10,",
            "demand: [1, 2, 3],  # <-\n     ",
            "materials.m.demand",
            "2 values, found 3",
        ),
        ("capacity: 20}", "capacity: [20]}  # <-", "suppliers.s.offers.m.capacity", "found 1"),
        (
            "{price: 5,",
            "{price: [1, 2, 3],  # <-\n        ",
            "suppliers.s.offers.m.price",
            "found 3",
        ),
        (
            "shortage_cost: 1000}",
            "shortage_cost: 1000, inbound: [1, 2, 3]}  # <-",
            "materials.m.inbound",
            "only 2 periods",
        ),
    ],
    ids=["demand", "capacity", "price", "inbound"],
)
def test_per_period_lists_checked_against_horizon(
    tmp_path: Path, old: str, new: str, field: str, words: str
) -> None:
    rejected(tmp_path, MINIMAL.replace(old, new), field, words)


def test_shorter_inbound_and_exact_lists_accepted(tmp_path: Path) -> None:
    text = MINIMAL.replace("demand: 10,", "demand: [10, 20], inbound: [5],")
    sc = load_scenario(write(tmp_path, text)).scenario
    assert per_period(sc.materials["m"].demand, 2) == [10.0, 20.0]
    assert per_period(sc.suppliers["s"].offers["m"].capacity, 2) == [20.0, 20.0]


# --- cross-references --------------------------------------------------------------------


def test_offer_for_unknown_material(tmp_path: Path) -> None:
    text = MINIMAL + "      mm: {price: 1, capacity: 1}  # <-\n"
    rejected(tmp_path, text, "suppliers.s.offers.mm", "unknown material 'mm'", "did you mean 'm'")


def disruption(effect: str, probability: float = 0.2, name: str = "d") -> str:
    return f"  - name: {name}\n    probability: {probability}\n    effects:\n      - {effect}\n"


@pytest.mark.parametrize(
    ("effect", "field", "words"),
    [
        ("{supplier: ss, availability: 0}  # <-", "supplier", "unknown supplier 'ss'"),
        ("{country: CN, materials: [m, nn]}  # <-", "materials[1]", "unknown material 'nn'"),
        ("{country: CH}  # <-", "country", "unknown country 'CH'"),
        ("{country: CN, supplier: s}  # <-", "", "names both `country` and `supplier`"),
        ("{availability: 0.5}  # <-", "", "names neither"),
        ("{country: CN, to_period: 3}  # <-", "to_period", "<= horizon.periods (2)"),
        ("{country: CN, from_period: 3}  # <-", "from_period", "<= horizon.periods (2)"),
        ("{country: CN, from_period: 2, to_period: 1}  # <-", "from_period", "<= to_period (1)"),
    ],
    ids=["supplier", "material", "country", "both", "neither", "to", "from", "from>to"],
)
def test_effect_references(tmp_path: Path, effect: str, field: str, words: str) -> None:
    text = MINIMAL + "disruptions:\n" + disruption(effect)
    path = "disruptions[0].effects[0]" + (f".{field}" if field else "")
    rejected(tmp_path, text, path, words)


def test_unknown_supplier_suggests_close_ids(tmp_path: Path) -> None:
    text = (
        MINIMAL.replace("  s:\n", "  cn_baotou:\n")
        + "disruptions:\n"
        + disruption("{supplier: cn_baotuo}  # <-")
    )
    rejected(tmp_path, text, "disruptions[0].effects[0].supplier", "did you mean 'cn_baotou'")


def test_unknown_country_suggests_case_fix(tmp_path: Path) -> None:
    text = MINIMAL + "policy:\n  max_country_share: {cn: 0.5}  # <-\n"
    rejected(tmp_path, text, "policy.max_country_share.cn", "unknown country", "did you mean 'CN'")


def test_country_listed_in_countries_may_be_named(tmp_path: Path) -> None:
    """A child may drop every supplier of a country; its caps and disruptions stay valid."""
    text = MINIMAL + "countries: {AU: {risk: 0.1}}\npolicy: {max_country_share: {AU: 0.5}}\n"
    text += "disruptions:\n" + disruption("{country: AU}")
    assert load_scenario(write(tmp_path, text)).scenario.policy.max_country_share == {"AU": 0.5}


def test_disruption_probabilities_above_one(tmp_path: Path) -> None:
    text = MINIMAL + "disruptions:  # <-\n" + disruption("{country: CN}", 0.6, "a")
    text += disruption("{supplier: s}", 0.5, "b")
    rejected(tmp_path, text, "disruptions", "sum to 1.1, above 1")


def test_duplicate_disruption_names(tmp_path: Path) -> None:
    text = MINIMAL + "disruptions:\n" + disruption("{country: CN}", 0.1, "a")
    text += disruption("{country: CN}", 0.1, "a  # <-")
    rejected(tmp_path, text, "disruptions[1].name", "duplicate name")


def test_disruptions_and_risks_together(tmp_path: Path) -> None:
    text = MINIMAL + "disruptions:\n" + disruption("{country: CN}") + "risks:  # <-\n"
    text += disruption("{country: CN}")
    rejected(tmp_path, text, "risks", "not both")


def test_sampling_without_risks(tmp_path: Path) -> None:
    rejected(tmp_path, MINIMAL + "sampling: {scenarios: 10}  # <-\n", "sampling", "no risks")


def test_too_many_risks_without_sampling(tmp_path: Path) -> None:
    text = MINIMAL + "risks:  # <-\n"
    text += "".join(disruption("{country: CN}", 0.1, f"r{i}") for i in range(13))
    rejected(tmp_path, text, "risks", "2^13", "sampling")


def test_every_cross_reference_problem_at_once(tmp_path: Path) -> None:
    text = MINIMAL + "      x: {price: 1, capacity: 1}\ndisruptions:\n"
    text += disruption("{supplier: nobody}") + disruption("{country: XX}", 0.9, "e")
    found = problems(write(tmp_path, text))
    assert [p.path for p in found] == [
        "suppliers.s.offers.x",
        "disruptions",
        "disruptions[0].effects[0].supplier",
        "disruptions[1].effects[0].country",
    ]


# --- ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["'cn baotou'", "cn.baotou", "'ü'", "a/b", "''"])
def test_ids_as_keys_limited(tmp_path: Path, bad: str) -> None:
    text = MINIMAL.replace("  s:\n", f"  {bad}:  # <-\n")
    line = assert_rejected(write(tmp_path, text), line_of(text), "", "letters, digits")
    assert ": suppliers." in line


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("name: t", "name: my scenario  # <-", "name"),
        ("country: CN", "country: C N  # <-", "suppliers.s.country"),
    ],
)
def test_ids_as_values_limited(tmp_path: Path, old: str, new: str, field: str) -> None:
    rejected(tmp_path, MINIMAL.replace(old, new), field, "letters, digits, '-' and '_'")


def test_ids_with_dash_underscore_digits_accepted(tmp_path: Path) -> None:
    text = MINIMAL.replace("  s:\n", "  CN-Baotou_2:\n").replace("name: t", "name: 2025-base")
    sc = load_scenario(write(tmp_path, text)).scenario
    assert sc.name == "2025-base"
    assert "CN-Baotou_2" in sc.suppliers


def test_number_as_name_asks_for_quotes(tmp_path: Path) -> None:
    text = MINIMAL.replace("name: t", "name: 2025  # <-")
    rejected(tmp_path, text, "name", "must be text", "quotes")


# --- frozen, strict models ---------------------------------------------------------------


def test_models_are_frozen(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, MINIMAL)).scenario
    with pytest.raises(ValidationError):
        sc.name = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        sc.suppliers["s"].offers["m"].capacity = 1  # type: ignore[misc]
    assert hash(sc.horizon) == hash(sc.horizon)


def test_strict_model_validate_in_python() -> None:
    data = {
        "name": "t",
        "horizon": {"periods": 1},
        "materials": {"m": {"demand": "10", "shortage_cost": 1}},
        "suppliers": {"s": {"country": "CN", "offers": {"m": {"price": 1, "capacity": 1}}}},
    }
    with pytest.raises(ValidationError):
        Scenario.model_validate(data)


# --- JSON Schema ---------------------------------------------------------------------------


def test_committed_json_schema_is_in_sync() -> None:
    """Regenerate with `sourcing schema > scenario.schema.json` after changing the models."""
    committed = (ROOT / "scenario.schema.json").read_text(encoding="utf-8")
    assert committed == json.dumps(json_schema(), indent=2) + "\n"


def test_committed_summary_schema_is_in_sync() -> None:
    """Regenerate with `sourcing schema --of summary > summary.schema.json` after changing
    the models of optimizer.schema.summary."""
    committed = (ROOT / "summary.schema.json").read_text(encoding="utf-8")
    assert committed == json.dumps(summary_json_schema(), indent=2) + "\n"
    schema = json.loads(committed)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["additionalProperties"] is False  # an unknown key is an error
    assert schema["definitions"]["MaterialSummary"]["additionalProperties"] is False


def test_json_schema_is_draft_07_for_editors() -> None:
    schema = json_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert "$defs" not in json.dumps(schema)
    assert schema["additionalProperties"] is False
    suppliers = schema["properties"]["suppliers"]
    assert suppliers["propertyNames"]["pattern"] == "^[A-Za-z0-9_-]+$"
    assert suppliers["additionalProperties"] == {"$ref": "#/definitions/Supplier"}
    refs = {v for v in _walk(schema) if isinstance(v, str) and v.startswith("#/")}
    for ref in refs:
        assert ref.removeprefix("#/definitions/") in schema["definitions"], ref


def test_json_schema_bounds_match_the_models() -> None:
    defs = json_schema()["definitions"]
    assert defs["Supplier"]["properties"]["max_share"]["anyOf"][0] == {
        "maximum": 1.0,
        "minimum": 0.0,
        "type": "number",
    }
    assert defs["Offer"]["additionalProperties"] is False
    assert set(defs["Offer"]["required"]) == {"price", "capacity"}


def _walk(node: object) -> list[object]:
    if isinstance(node, dict):
        return [x for v in node.values() for x in _walk(v)]
    if isinstance(node, list):
        return [x for v in node for x in _walk(v)]
    return [node]


@pytest.mark.parametrize("value", ["0", "86400", "20250101", "'2025-02-30'", "2025-1-1"])
def test_start_date_only_as_text(tmp_path: Path, value: str) -> None:
    """Lax pydantic reads the number 0 as 1970-01-01; a date must be written as one."""
    text = MINIMAL.replace(
        "horizon: {periods: 2}", f"horizon: {{periods: 2, start: {value}}}  # <-"
    )
    rejected(tmp_path, text, "horizon.start", "YYYY-MM-DD")


def test_start_date_accepted(tmp_path: Path) -> None:
    text = MINIMAL.replace("horizon: {periods: 2}", "horizon: {periods: 2, start: 2025-03-01}")
    assert str(load_scenario(write(tmp_path, text)).scenario.horizon.start) == "2025-03-01"


def test_base_is_reserved_for_the_undisrupted_case() -> None:
    from optimizer.schema.scenario import Scenario

    data = {
        "name": "t",
        "horizon": {"periods": 2},
        "materials": {"m": {"demand": 1, "shortage_cost": 10}},
        "suppliers": {"s": {"country": "CN", "offers": {"m": {"price": 1, "capacity": 5}}}},
        "disruptions": [{"name": "base", "probability": 0.1, "effects": [{"country": "CN"}]}],
    }
    with pytest.raises(ValueError, match="'base' is the name of the case in which nothing"):
        Scenario.model_validate(data)
