"""report.html in a real browser: headless Debian Chromium driven by Playwright.

No console errors, no network requests, the three charts drawn (non-empty
SVG with a visible size), and the headline figures equal to summary.json. A
full-page screenshot goes to the test's tmp_path; with SOURCING_REPORT_SCREENSHOT
set, the top of the page is also saved there (that is how docs/report.png is made).

Chromium is /usr/bin/chromium (Debian package `chromium`; `make test` installs
it in CI). Without it the test fails in CI (CI=true) and is skipped elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from optimizer.reports.formatting import amount, money
from tests.conftest import SCENARIOS_2025, run_cli

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
CHARTS = ("chart-mix", "chart-runway", "chart-costs")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}: the browser test must run in CI")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def sync_playwright() -> Any:
    if not CHROMIUM.is_file():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    return sync_playwright


def test_report_renders_in_chromium(sync_playwright: Any, tmp_path: Path) -> None:
    out = tmp_path / "robust"
    res = run_cli(["run", str(SCENARIOS_2025 / "robust-2025.yaml"), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "summary.json").read_text())
    problems: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1400})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto((out / "report.html").as_uri(), wait_until="load")
            charts = page.evaluate(
                """() => Array.from(document.querySelectorAll('svg.chart')).map(s => {
                    const box = s.getBoundingClientRect();
                    return {id: s.id, width: box.width, height: box.height,
                            shapes: s.querySelectorAll('path, use, rect, text').length};
                })"""
            )
            figures = page.evaluate(
                """() => Object.fromEntries(['total-cost', 'status', 'cvar', 'shortage']
                    .map(id => document.getElementById(id))
                    .map(e => [e.id, {value: e.dataset.value, text: e.textContent}]))"""
            )
            answer = page.locator("#answer li").all_inner_texts()
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
            target = os.environ.get("SOURCING_REPORT_SCREENSHOT")
            if target:
                page.screenshot(path=str(tmp_path / "report-top.png"))
                shutil.copyfile(tmp_path / "report-top.png", target)
        finally:
            browser.close()

    assert problems == []
    assert [u for u in requests if not u.startswith("file://")] == []
    assert [c["id"] for c in charts] == list(CHARTS)
    for c in charts:
        assert c["width"] > 100 and c["height"] > 50, c
        assert c["shapes"] > 20, c
    assert float(figures["total-cost"]["value"]) == doc["total_cost"]
    assert figures["total-cost"]["text"] == money(doc["total_cost"], "USD")
    assert figures["status"]["text"] == doc["status"] == "optimal"
    assert float(figures["cvar"]["value"]) == doc["cvar"]["cvar"]
    assert figures["cvar"]["text"] == money(doc["cvar"]["cvar"], "USD")
    # the money of the expected shortage; its text lists tonnes per material, never added
    assert float(figures["shortage"]["value"]) == doc["costs"]["penalties"]["shortage"]
    short = {m: k["expected_shortage"] for m, k in doc["materials"].items()}
    assert figures["shortage"]["text"] == ", ".join(
        f"{amount(q, 't')} {m}" for m, q in sorted(short.items()) if q > 1e-6
    )
    assert answer[0].startswith("Buy 80% of")
    assert (tmp_path / "report.png").stat().st_size > 10_000
