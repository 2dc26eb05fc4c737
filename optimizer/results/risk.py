"""Tail measures of a discrete cost distribution.
"""

from __future__ import annotations

import numpy as np


def cvar_of(costs: np.ndarray, probs: np.ndarray, alpha: float) -> dict[str, float]:
    """VaR and CVaR at level alpha of a discrete cost distribution (Rockafellar-Uryasev).

    CVaR = min_eta eta + 1/(1-alpha) * sum p * max(0, C - eta); the minimum is at
    eta = VaR, the smallest cost whose cumulative probability reaches alpha.
    """
    order = np.argsort(costs, kind="stable")
    cum = np.cumsum(probs[order])
    k = int(np.searchsorted(cum, alpha - 1e-12, side="left"))
    var = float(costs[order][min(k, len(order) - 1)])
    excess = np.maximum(costs - var, 0.0)
    return {"alpha": alpha, "var": var, "cvar": var + float(probs @ excess) / (1.0 - alpha)}
