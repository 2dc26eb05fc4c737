"""Cross-reference problems of a scenario whose fields are valid, and warnings.

Each problem carries the field path it belongs to, so that the loader can point
at the file and line that set it. Warnings are values that are valid but
probably not meant (a tariff of 3.2 read as 320%).
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
from collections.abc import Iterable, Iterator, Sequence

from optimizer.schema.effects import date_period, effect_window
from optimizer.schema.scenario import (
    BASE_NAME,
    MAX_OUTCOMES_WITHOUT_SAMPLING,
    Disruption,
    Effect,
    Problem,
    Risk,
    Scenario,
)


def _events(sc: Scenario) -> tuple[tuple[str, Sequence[Disruption | Risk]], ...]:
    """Disruptions and risks, each with the key that lists them."""
    return (("disruptions", sc.disruptions), ("risks", sc.risks))


def _check_list(
    value: object, periods: int, path: tuple[str | int, ...], exact: bool = True
) -> Iterator[Problem]:
    if not isinstance(value, list):
        return
    n = len(value)
    if exact and n != periods:
        yield Problem(path, f"needs one value per period: {periods} values, found {n}", value)
    elif not exact and n > periods:
        yield Problem(path, f"has {n} values but the horizon has only {periods} periods", value)


def reference_problems(sc: Scenario) -> Iterator[Problem]:
    """Yield every cross-reference problem of a scenario whose fields are valid."""
    countries = _known_countries(sc)
    yield from _horizon_problems(sc)
    yield from _text_problems(sc)
    yield from _material_problems(sc)
    yield from _offer_problems(sc)
    for key in ("max_country_share", "max_country_exposure"):
        for code in getattr(sc.policy, key):
            if code not in countries:
                yield Problem(
                    ("policy", key, code),
                    f"unknown country {code!r}: no supplier is there or controlled by it and "
                    f"`countries` does not list it{_suggest(code, countries)}",
                    code,
                )
    yield from _event_problems(sc)
    for key, events in _events(sc):
        seen: dict[str, int] = {}
        for i, event in enumerate(events):
            if event.name in seen:
                yield Problem(
                    (key, i, "name"), f"duplicate name (also item {seen[event.name]})", event.name
                )
            seen.setdefault(event.name, i)
            if event.name == BASE_NAME:
                yield Problem(
                    (key, i, "name"),
                    f"{BASE_NAME!r} is the name of the case in which nothing happens; "
                    "choose another name",
                    event.name,
                )
            for j, eff in enumerate(event.effects):
                yield from _effect_problems(sc, eff, (key, i, "effects", j), countries)


def _known_countries(sc: Scenario) -> set[str]:
    """Country codes a policy or an effect may name: those of suppliers, of their
    `controlled_by` and of `countries`."""
    known = {s.country for s in sc.suppliers.values()} | set(sc.countries)
    for sup in sc.suppliers.values():
        known.update(sup.controlled_by)
    return known

MIN_PERIOD_DAYS = 1.0  # orders are dated in whole days; shorter periods overflow the model


def _horizon_problems(sc: Scenario) -> Iterator[Problem]:
    """A period of at least a day; a horizon that ends before the calendar does."""
    h = sc.horizon
    if h.period_days < MIN_PERIOD_DAYS:
        yield Problem(
            ("horizon", "period_days"),
            "must be at least 1 (a period is counted in days; orders are dated in whole days)",
            h.period_days,
        )
        return
    if h.start is not None:
        last = h.start.toordinal() + math.ceil(h.periods * h.period_days)
        if last > dt.date.max.toordinal():
            yield Problem(
                ("horizon", "start"),
                f"the horizon of {h.periods} periods of {h.period_days:g} days from this date "
                "ends after the year 9999; give an earlier start",
                h.start.isoformat(),
            )

# Characters that no one-line text of a scenario may hold: controls (an Excel cell
# refuses most of them) and the bidi and zero-width characters that make text read
# as something else (see optimizer.safe_text).
_TEXT_FIELDS = ("title", "currency", "quantity_unit", "description")


def _text_problems(sc: Scenario) -> Iterator[Problem]:
    from optimizer.common.safe_text import escape, has_unsafe

    for name in _TEXT_FIELDS:
        value = getattr(sc, name)
        if value is None:
            continue
        # a title or description may run over lines (a YAML block scalar ends with one)
        bad = has_unsafe(value, allow="\n\t" if name in ("title", "description") else "")
        if bad is not None:
            yield Problem(
                (name,),
                f"contains the control or invisible character {escape(bad)}; remove it",
                value if len(value) <= 60 else value[:57] + "...",
            )


def _material_problems(sc: Scenario) -> Iterator[Problem]:
    periods = sc.horizon.periods
    for mid, mat in sc.materials.items():
        yield from _check_list(mat.demand, periods, ("materials", mid, "demand"))
        yield from _check_list(mat.inbound, periods, ("materials", mid, "inbound"), exact=False)
        if mat.safety_stock is not None and mat.safety_stock_days is not None:
            yield Problem(
                ("materials", mid, "safety_stock_days"),
                "give the safety stock either in units (safety_stock) or in days of cover "
                "(safety_stock_days), not both",
                mat.safety_stock_days,
            )


def _offer_problems(sc: Scenario) -> Iterator[Problem]:
    periods = sc.horizon.periods
    for sid, sup in sc.suppliers.items():
        for mid, offer in sup.offers.items():
            base = ("suppliers", sid, "offers", mid)
            if mid not in sc.materials:
                yield Problem(
                    base, f"offer for unknown material {mid!r}{_suggest(mid, sc.materials)}", mid
                )
            for key in ("price", "capacity", "reservation_fee", "exercise_price"):
                yield from _check_list(getattr(offer, key), periods, (*base, key))
            if offer.exercise_price is not None and offer.reservation_fee is None:
                yield Problem(
                    (*base, "exercise_price"),
                    "an exercise price is the price of reserved capacity; give a "
                    "reservation_fee too (or remove exercise_price)",
                    offer.exercise_price,
                )
        seen: set[str] = set()
        for k, code in enumerate(sup.controlled_by):
            if code in seen:
                yield Problem(("suppliers", sid, "controlled_by", k), "listed twice", code)
            seen.add(code)


def _event_problems(sc: Scenario) -> Iterator[Problem]:
    """`disruptions` or `risks`, `sampling`, and the sum of disruption probabilities."""
    if sc.disruptions and sc.risks:
        yield Problem(("risks",), "use either `disruptions` or `risks`, not both")
    if sc.sampling is not None and not sc.risks:
        yield Problem(("sampling",), "`sampling` draws outcomes of `risks`; there are no risks")
    if (
        sc.risks
        and sc.sampling is None
        and len(sc.risks) > math.log2(MAX_OUTCOMES_WITHOUT_SAMPLING)
    ):
        yield Problem(
            ("risks",),
            f"{len(sc.risks)} risks have 2^{len(sc.risks)} joint outcomes, more than "
            f"{MAX_OUTCOMES_WITHOUT_SAMPLING}; add `sampling: {{scenarios: N}}`",
            len(sc.risks),
        )
    total = math.fsum(d.probability for d in sc.disruptions)
    if total > 1 + 1e-12:
        shown = f"{total:.15g}"  # 1.0000001, neither 1 (:g) nor 1.0000000999999998 (repr)
        yield Problem(
            ("disruptions",),
            f"probabilities sum to {shown}, above 1 (the rest of 1 is the undisrupted case)",
        )


def _effect_problems(
    sc: Scenario, eff: Effect, path: tuple[str | int, ...], countries: set[str]
) -> Iterator[Problem]:
    if eff.country is not None and eff.supplier is not None:
        yield Problem(path, "names both `country` and `supplier`; name exactly one of them")
    elif eff.country is None and eff.supplier is None:
        yield Problem(path, "names neither `country` nor `supplier`; name exactly one of them")
    if eff.country is not None and eff.country not in countries:
        yield Problem(
            (*path, "country"),
            f"unknown country {eff.country!r}: no supplier is there and `countries` does not "
            f"list it{_suggest(eff.country, countries)}",
            eff.country,
        )
    if eff.supplier is not None and eff.supplier not in sc.suppliers:
        yield Problem(
            (*path, "supplier"),
            f"unknown supplier {eff.supplier!r}{_suggest(eff.supplier, sc.suppliers)}",
            eff.supplier,
        )
    for k, mid in enumerate(eff.materials or []):
        if mid not in sc.materials:
            yield Problem(
                (*path, "materials", k),
                f"unknown material {mid!r}{_suggest(mid, sc.materials)}",
                mid,
            )
    if eff.reach is not None and eff.supplier is not None:
        yield Problem(
            (*path, "reach"),
            "`reach` widens a country's effect to the suppliers it controls; a supplier "
            "effect hits that supplier only (remove `reach`)",
            eff.reach,
        )
    yield from _period_problems(eff, path, sc.horizon.periods)
    yield from _date_problems(eff, path, sc.horizon.start)


def _period_problems(eff: Effect, path: tuple[str | int, ...], periods: int) -> Iterator[Problem]:
    if eff.to_period is not None and eff.to_period > periods:
        yield Problem(
            (*path, "to_period"), f"must be <= horizon.periods ({periods})", eff.to_period
        )
    if eff.from_period is None:
        return
    last = min(eff.to_period if eff.to_period is not None else periods, periods)
    if eff.from_period > periods:
        yield Problem(
            (*path, "from_period"), f"must be <= horizon.periods ({periods})", eff.from_period
        )
    elif eff.to_period is not None and eff.from_period > last:
        yield Problem((*path, "from_period"), f"must be <= to_period ({last})", eff.from_period)


def _date_problems(
    eff: Effect, path: tuple[str | int, ...], start: dt.date | None
) -> Iterator[Problem]:
    """`from_date`/`to_date`: not with the period form, only with a start, in order."""
    for date_key, period_key in (("from_date", "from_period"), ("to_date", "to_period")):
        date = getattr(eff, date_key)
        if date is None:
            continue
        if getattr(eff, period_key) is not None:
            yield Problem(
                (*path, date_key), f"give either {period_key} or {date_key}, not both", str(date)
            )
        if start is None:
            yield Problem(
                (*path, date_key),
                "a date needs the calendar date of day 0: set horizon.start (YYYY-MM-DD)",
                str(date),
            )
    if eff.from_date is not None and eff.to_date is not None and eff.from_date > eff.to_date:
        yield Problem(
            (*path, "from_date"),
            f"must be on or before to_date ({eff.to_date})",
            str(eff.from_date),
        )


def scenario_warnings(sc: Scenario) -> Iterator[Problem]:
    """Values that are valid but probably not what was meant; each at its field path."""
    for code, country in sc.countries.items():
        if country.tariff > 1:
            yield Problem(("countries", code, "tariff"), _percent_note(country.tariff))
    if sc.spot_premium > 1:
        yield Problem(("spot_premium",), _percent_note(sc.spot_premium, "a premium"))
    for sid, sup in sc.suppliers.items():
        if sup.tariff is not None and sup.tariff > 1:
            yield Problem(("suppliers", sid, "tariff"), _percent_note(sup.tariff))
        if sc.countries and sup.country not in sc.countries and (
            sup.risk is None or sup.tariff is None
        ):
            missing = " and ".join(
                k for k, v in (("risk", sup.risk), ("tariff", sup.tariff)) if v is None
            )
            yield Problem(
                ("suppliers", sid, "country"),
                f"country {sup.country!r} has no entry in `countries`: this supplier's "
                f"{missing} default{'s' if ' and ' not in missing else ''} to 0",
            )
    yield from _window_warnings(sc)


def _percent_note(value: float, what: str = "a tariff") -> str:
    return (
        f"{what} of {value:g} is read as {100 * value:g}% (fractions are fractions); if you "
        f"meant {value:g}%, write {value / 100:g}"
    )


def _window_warnings(sc: Scenario) -> Iterator[Problem]:
    horizon = sc.horizon
    start = horizon.start
    if start is None:
        return
    try:
        last_day = start + dt.timedelta(days=math.ceil(horizon.periods * horizon.period_days) - 1)
        span = f"{start} to {last_day}"
    except OverflowError:
        span = f"{horizon.periods} periods from {start}"
    for key, events in _events(sc):
        for i, event in enumerate(events):
            for j, eff in enumerate(event.effects):
                path = (key, i, "effects", j)
                window = effect_window(eff, horizon)
                for date_key in ("from_date", "to_date"):
                    date = getattr(eff, date_key)
                    if date is None:
                        continue
                    if 1 <= date_period(date, start, horizon.period_days) <= horizon.periods:
                        continue
                    what = (
                        "the effect hits nothing"
                        if window is None
                        else f"the effect is clipped to periods {window[0]}-{window[1]}"
                    )
                    yield Problem(
                        (*path, date_key), f"{date} lies outside the horizon ({span}): {what}"
                    )


def _suggest(name: str, names: Iterable[str]) -> str:
    """A hint for an unknown id: the closest known ids, else a few known ones."""
    items = sorted(names)
    if not items:
        return ""
    close = difflib.get_close_matches(name, items, n=3, cutoff=0.6)
    if not close:  # case slips (`cn` for `CN`) are not caught by the ratio
        close = [item for item in items if item.lower() == name.lower()]
    if close:
        return "; did you mean " + " or ".join(repr(c) for c in close) + "?"
    shown = ", ".join(items[:5]) + (", ..." if len(items) > 5 else "")
    return f"; known: {shown}"
