"""Versions of the tool, Python, PuLP and the solvers, as recorded in summary.json.
"""

from __future__ import annotations

import functools
import sys
from importlib.metadata import PackageNotFoundError, version

from optimizer import __version__


@functools.cache
def versions() -> dict[str, str]:
    """{sourcing, python, pulp, highspy, cbc}: "" where a component is missing."""
    from optimizer.solve.cbc import cbc_version
    from optimizer.solve.highs import highs_version

    try:
        pulp = version("pulp")
    except PackageNotFoundError:
        pulp = ""
    return {
        "sourcing": __version__,
        "python": sys.version.split()[0],
        "pulp": pulp,
        "highspy": highs_version(),
        "cbc": cbc_version(),
    }
