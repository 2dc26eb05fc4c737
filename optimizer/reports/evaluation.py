"""`run --evaluate`: the plan out of sample as rows with 95% intervals and a caption
(for the console table and the report section).
"""

from __future__ import annotations

from typing import Any

from optimizer.schema.summary import Evaluation, Interval, ModelSize


def evaluation_rows(ev: Evaluation) -> list[dict[str, Any]]:
    """The evaluation as rows (label, value, 95% interval)."""
    rows: list[tuple[str, Interval]] = [
        ("expected cost (spend + penalties)", ev.expected_cost),
        (f"CVaR at {ev.cvar.alpha:.0%} of the cost", ev.cvar),
        ("objective", ev.objective),
    ]
    if ev.saa is not None:
        rows.append((f"lower bound ({ev.saa.replications} sampled problems)", ev.saa.lower_bound))
        rows.append(("upper bound (this plan, out of sample)", ev.saa.upper_bound))
    return [
        {"label": label, "value": e.value, "low": e.ci95_low, "high": e.ci95_high}
        for label, e in rows
    ]


def evaluation_caption(ev: Evaluation, currency: str = "") -> str:
    """One or two sentences on what was evaluated and the sampling gap."""
    if ev.method == "exact":
        return (
            f"The file's {ev.distinct_outcomes:,} outcomes are the whole distribution: "
            "the plan's figures are exact, and there is no sampling gap."
        )
    text = (
        f"The plan priced on {ev.outcomes:,} fresh outcomes of the risks (seed "
        f"{ev.seed}; {ev.distinct_outcomes:,} distinct), with 95% confidence intervals."
    )
    saa = ev.saa
    if saa is not None:
        unit = f" {currency}" if currency else ""
        text += (
            f" Optimality gap of the sampled problem: {saa.gap:,.0f}{unit} "
            f"({saa.gap_relative:.3%} of the upper bound), at most "
            f"{saa.gap_upper95:,.0f}{unit} at 95% confidence."
        )
    return text


def decomposition_line(model: ModelSize) -> str | None:
    """How the scenario decomposition ended (`model.benders` of summary.json), or None."""
    b = model.benders
    if b is None:
        return None
    proven = "proven optimal" if b.proven else "not proven (time limit)"
    return (
        f"Scenario decomposition: {b.rounds} rounds, {b.subproblems:,} subproblems; "
        f"bounds within {b.gap:.1e} (target {b.target_gap:.0e}): {proven}"
    )
