"""The Voilà dashboards in a real browser: they load, their controls change the plots, no code shows."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from conftest import ROOT, screenshot

pytestmark = pytest.mark.browser
DASHBOARDS = sorted(p.name for p in (ROOT / "notebooks" / "dashboards").glob("*.ipynb"))
WITH_PLOTS = [d for d in DASHBOARDS if d != "index.ipynb"]


def _title(page) -> str:
    return page.evaluate("() => { const gd = document.querySelector('.js-plotly-plot');"
                         " return JSON.stringify([gd.layout.title.text, gd.data.map(t => t.y)]); }")


@pytest.mark.parametrize("name", WITH_PLOTS)
def test_dashboard_loads_and_every_slider_changes_the_plot(page, voila_url, name):
    start = time.perf_counter()
    page.goto(f"{voila_url}/voila/render/{name}")
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=90_000)
    print(f"{name}: interactive after {time.perf_counter() - start:.1f} s")
    sliders = page.locator(".widget-slider .noUi-handle")
    assert sliders.count() >= 1
    for i in range(sliders.count()):
        before = _title(page)
        sliders.nth(i).focus()  # keyboard-usable: arrow keys move the focused slider
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        page.wait_for_function("(b) => { const gd = document.querySelector('.js-plotly-plot');"
                               " return JSON.stringify([gd.layout.title.text, gd.data.map(t => t.y)]) !== b; }",
                               arg=before, timeout=20_000)
    screenshot(page, f"dashboard_{name.removesuffix('.ipynb')}")
    assert "NaN" not in page.inner_text("body")
    assert not page.problems, page.problems


@pytest.mark.parametrize("name", DASHBOARDS)
def test_dashboard_html_contains_no_notebook_source(voila_url, name):
    html = urllib.request.urlopen(f"{voila_url}/voila/render/{name}", timeout=120).read().decode()
    source = "".join(json.loads((ROOT / "notebooks" / "dashboards" / name).read_text())["cells"][0]["source"])
    for line in filter(None, source.splitlines()):
        assert line not in html, f"{name}: the page shows its source line {line!r}"
