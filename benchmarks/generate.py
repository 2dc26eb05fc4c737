"""Synthetic sourcing scenarios of realistic structure, for benchmarks (not for tests of figures).

The structure follows the shipped rare-earth scenarios: one dominant, cheap,
risky country (CN) with most of the capacity and a licence delay on
"controlled" materials; a handful of alternative countries with higher prices,
small capacities and shorter or longer lead times; a company policy with share
and risk caps; independent risk events (country-wide availability cuts on some
materials, single-supplier outages, shipping price shocks) sampled into
scenarios.

    python benchmarks/generate.py --materials 10 --suppliers 30 --periods 12 \
        --events 12 --samples 1000 --seed 1 > /tmp/big.yaml
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np
import yaml

COUNTRIES = {  # code: (price factor, risk, tariff, capacity factor, lead time days)
    "CN": (1.00, 0.85, 0.10, 3.0, 35),
    "MY": (1.10, 0.45, 0.03, 0.5, 26),
    "AU": (1.15, 0.20, 0.00, 0.4, 30),
    "US": (1.45, 0.15, 0.00, 0.3, 10),
    "EE": (1.30, 0.25, 0.00, 0.2, 8),
    "FR": (1.35, 0.20, 0.00, 0.2, 8),
    "VN": (1.15, 0.50, 0.05, 0.3, 28),
    "IN": (1.20, 0.45, 0.05, 0.2, 30),
    "JP": (1.40, 0.20, 0.00, 0.2, 40),
}


def generate(
    materials: int = 10,
    suppliers: int = 30,
    periods: int = 12,
    events: int = 0,
    samples: int | None = None,
    seed: int = 0,
    milp: bool = False,
    cvar: bool = False,
    policy: bool = True,
    dense: bool = False,
) -> dict[str, Any]:
    """A valid scenario as plain data (what a YAML file would hold).

    `dense`: every supplier offers every material (the shape of the cases in
    PERFORMANCE.md); by default a supplier offers one to four materials.
    """
    rng = np.random.default_rng(seed)
    mats = [f"m{i:02d}" for i in range(materials)]
    base_price = {m: float(round(rng.uniform(20_000, 900_000), -2)) for m in mats}
    demand_level = {m: float(round(rng.uniform(5, 60), 1)) for m in mats}
    controlled = set(rng.choice(mats, size=max(1, materials // 2), replace=False).tolist())

    codes = list(COUNTRIES)
    n_cn = max(1, round(0.3 * suppliers))
    sup_country = ["CN"] * n_cn + [codes[1 + i % (len(codes) - 1)] for i in range(suppliers - n_cn)]
    sups: dict[str, Any] = {}
    offered: dict[str, int] = dict.fromkeys(mats, 0)
    for i, code in enumerate(sup_country):
        pf, risk, _tariff, capf, lead = COUNTRIES[code]
        k = materials if dense else int(rng.integers(1, min(4, materials) + 1))
        chosen = rng.choice(mats, size=k, replace=False).tolist()
        offers = {}
        for m in sorted(chosen):
            offered[m] += 1
            price = base_price[m] * pf * rng.uniform(0.95, 1.10)
            cap = demand_level[m] * capf * rng.uniform(0.5, 1.5)
            price_path = [
                round(price * (1 + 0.01 * t + rng.normal(0, 0.02)), 2) for t in range(periods)
            ]
            offer: dict[str, Any] = {"price": price_path, "capacity": round(cap, 2)}
            if milp and rng.random() < 0.4:
                offer["min_order"] = round(0.3 * cap, 2)
            offers[m] = offer
        sid = f"{code.lower()}_{i:03d}"
        sup: dict[str, Any] = {
            "country": code,
            "risk": round(min(1.0, max(0.0, risk + rng.normal(0, 0.05))), 3),
            "freight": round(float(rng.uniform(200, 3000)), 0),
            "lead_time_days": int(lead + rng.integers(-5, 15)),
            "offers": offers,
        }
        if code == "CN" and any(m in controlled for m in chosen):
            sup["license_delay_days"] = 63
        if milp and rng.random() < 0.3:
            sup["fixed_cost"] = round(float(rng.uniform(5e4, 5e5)), -3)
        sups[sid] = sup
    _ensure_alternatives(sups, mats, base_price, demand_level, periods)

    mat_data = {}
    for m in mats:
        d = demand_level[m]
        season = [
            round(d * (1 + 0.15 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.05)), 2)
            for t in range(periods)
        ]
        mat_data[m] = {
            "demand": [max(0.0, v) for v in season],
            "shortage_cost": round(base_price[m] * rng.uniform(4, 10), -2),
            "initial_inventory": round(d * rng.uniform(1, 3), 2),
            "holding_cost": round(base_price[m] * 0.015, 2),
        }
        if rng.random() < 0.5:
            mat_data[m]["safety_stock"] = round(d * 0.5, 2)

    scenario: dict[str, Any] = {
        "name": f"synthetic-m{materials}-s{suppliers}-t{periods}-e{events}-n{samples or 0}",
        "horizon": {"periods": periods, "period_days": 30},
        "materials": mat_data,
        "countries": {
            c: {"tariff": v[2], "risk": v[1]} for c, v in COUNTRIES.items() if c in sup_country
        },
        "suppliers": sups,
    }
    if policy:
        scenario["policy"] = {
            "delay_cost_per_day": 20,
            "max_supplier_share": 0.7,
            "max_country_share": {"CN": 0.8},
            "max_average_risk": 0.75,
        }
        if milp:
            scenario["policy"]["min_suppliers"] = 2
    if events:
        scenario["risks"] = _events(rng, events, mats, sorted(sups), controlled, periods)
        if samples:
            scenario["sampling"] = {"scenarios": samples, "seed": seed}
    if cvar:
        scenario["objective"] = {"risk_measure": "cvar", "cvar_alpha": 0.9, "cvar_weight": 0.5}
    return _plain(scenario)


def _ensure_alternatives(
    sups: dict[str, Any],
    mats: list[str],
    base_price: dict[str, float],
    demand_level: dict[str, float],
    periods: int,
) -> None:
    """Every material has an offer outside China (else a cap on China leaves it no
    admissible supplier mix, an infeasible policy) and at least two offers."""
    others = sorted(sid for sid in sups if not sid.startswith("cn_"))
    for j, m in enumerate(mats):
        holders = [sid for sid in sorted(sups) if m in sups[sid]["offers"]]
        if others and not any(not sid.startswith("cn_") for sid in holders):
            holders.append(
                _add_offer(sups, others[j % len(others)], m, base_price, demand_level, periods)
            )
        if len(holders) < 2:
            spare = [sid for sid in sorted(sups) if sid not in holders]
            if spare:
                _add_offer(sups, spare[j % len(spare)], m, base_price, demand_level, periods)


def _add_offer(
    sups: dict[str, Any],
    sid: str,
    m: str,
    base_price: dict[str, float],
    demand_level: dict[str, float],
    periods: int,
) -> str:
    """Give supplier `sid` an offer of material `m` at its country's terms."""
    pf, _risk, _tariff, capf, _lead = COUNTRIES[sups[sid]["country"]]
    sups[sid]["offers"][m] = {
        "price": round(base_price[m] * pf, 2),
        "capacity": round(demand_level[m] * max(capf, 0.3), 2),
    }
    return sid


def _plain(value: Any) -> Any:
    """Numpy scalars to Python numbers, recursively (YAML writers want plain types)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _events(
    rng: np.random.Generator,
    n: int,
    mats: list[str],
    sups: list[str],
    controlled: set[str],
    periods: int,
) -> list[dict[str, Any]]:
    out = []
    kinds = ["licence", "halt", "outage", "shipping"]
    for i in range(n):
        kind = kinds[i % len(kinds)]
        start = int(rng.integers(1, max(2, periods // 2)))
        end = int(min(periods, start + rng.integers(2, 7)))
        if kind == "licence":
            eff = {
                "country": "CN",
                "materials": sorted(controlled),
                "availability": round(float(rng.uniform(0.1, 0.6)), 2),
                "from_period": start,
                "to_period": end,
            }
        elif kind == "halt":
            some = sorted(rng.choice(mats, size=max(1, len(mats) // 4), replace=False).tolist())
            eff = {
                "country": "CN",
                "materials": some,
                "availability": 0.0,
                "from_period": start,
                "to_period": end,
            }
        elif kind == "outage":
            eff = {
                "supplier": str(rng.choice(sups)),
                "availability": 0.0,
                "from_period": start,
                "to_period": end,
            }
        else:
            eff = {
                "country": "CN",
                "price_factor": round(float(rng.uniform(1.05, 1.3)), 2),
                "availability": round(float(rng.uniform(0.6, 0.9)), 2),
                "from_period": start,
                "to_period": end,
            }
        out.append(
            {
                "name": f"{kind}-{i:02d}",
                "probability": round(float(rng.uniform(0.05, 0.3)), 3),
                "effects": [eff],
            }
        )
    return out


def add_case_arguments(ap: argparse.ArgumentParser, seed: int = 0) -> None:
    """The generator's knobs as command-line options (shared by the benchmark scripts)."""
    ap.add_argument("--materials", type=int, default=10)
    ap.add_argument("--suppliers", type=int, default=30)
    ap.add_argument("--periods", type=int, default=12)
    ap.add_argument("--events", type=int, default=0)
    ap.add_argument("--samples", type=int, default=None)
    ap.add_argument("--seed", type=int, default=seed)
    ap.add_argument("--milp", action="store_true")
    ap.add_argument("--cvar", action="store_true")
    ap.add_argument("--dense", action="store_true", help="every supplier offers every material")


def generate_from(args: argparse.Namespace) -> dict[str, Any]:
    """`generate` with the options of `add_case_arguments`."""
    return generate(
        args.materials,
        args.suppliers,
        args.periods,
        args.events,
        args.samples,
        args.seed,
        args.milp,
        args.cvar,
        dense=args.dense,
    )


def main() -> None:
    """Write a synthetic scenario as YAML on stdout."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_case_arguments(ap)
    yaml.safe_dump(generate_from(ap.parse_args()), sys.stdout, sort_keys=False, width=120)


if __name__ == "__main__":
    main()
