"""Every figure of every chapter, drawn in Chromium at 1300 px and at 375 px (a phone): titles, legends
and subplot titles inside the figure and clear of each other, sliders clear of each other, circles
round after a slider move, log axes labelled by round numbers. Screenshots are kept as artifacts."""

from __future__ import annotations

import pytest

from conftest import ARTIFACTS, SITE
from figure_layout import MEASURE, MODEBAR_OVER_TITLE, layout_problems

pytestmark = pytest.mark.browser
CHAPTERS = sorted(p.name for p in (SITE / "notebooks").glob("[0-9][0-9]_*.html")) if SITE.exists() else []
WIDTHS = (1300, 375)


def test_the_layout_check_finds_overlaps_and_odd_ticks():
    fig = {"index": 0, "width": 400, "height": 300, "title": {"left": 0, "right": 450, "top": 5, "bottom": 25},
           "legend": {"left": 10, "right": 200, "top": 20, "bottom": 60}, "legendInside": False,
           "subtitles": [{"left": 0, "right": 220, "top": 70, "bottom": 85},
                         {"left": 200, "right": 380, "top": 70, "bottom": 85}],
           "sliders": [], "logTicks": [{"axis": "xaxis", "ticks": [[0.7, "7"], [0.8, "8"], [1, "1"], [2, "2"],
                                                                 [1e-3, "10<sup>−3</sup>"], [1.05, "1.05"]]}],
           "aspect": [{"x": 100.0, "y": 80.0}],
           "panels": [{"id": "xy", "area": {"left": 40, "right": 180, "top": 90, "bottom": 250}, "labels": []},
                      {"id": "x2y2", "area": {"left": 230, "right": 380, "top": 90, "bottom": 250},
                       "labels": [{"left": 170, "right": 225, "top": 100, "bottom": 112}]}]}
    found = "\n".join(layout_problems([fig]))
    for expected in ("title outside", "legend over the title", "subplot titles 0 and 1 overlap", "'7' at 0.7",
                     "'8' at 0.8", "ellipse", "axis labels of panel x2y2 run into panel xy"):
        assert expected in found
    assert "'2' at" not in found and "10<sup>" not in found and "1.05" not in found


def _settle(page) -> None:
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
    page.wait_for_timeout(1500)  # figure-fit.js relayouts once after the first draw


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_figures_fit_at_desktop_and_phone_width(browser, site_url, chapter, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{site_url}/notebooks/{chapter}")
        _settle(page)
        figures = page.evaluate(MEASURE)
        assert figures, f"{chapter}: no figure drawn"
        found = layout_problems(figures)
        ARTIFACTS.mkdir(exist_ok=True)
        # the page's sticky header would cover the top of a figure taller than the window in its picture
        header = page.add_style_tag(content=".bd-header, .bd-header-article, .skip-link { visibility: hidden !important; }")
        for i in range(len(figures)):  # one picture per figure, to look at as a reader would
            figure = page.locator(".js-plotly-plot").nth(i)
            figure.scroll_into_view_if_needed()
            figure.screenshot(path=str(ARTIFACTS / f"figure_{chapter.removesuffix('.html')}_{i}_{width}.png"))
            figure.hover(position={"x": 20, "y": 60})  # the modebar shows on hover: it must not cover the title
            page.wait_for_timeout(150)
            covered = page.evaluate(MODEBAR_OVER_TITLE, i)
            if covered:
                found.append(f"figure {i}: the modebar covers the title")
        header.evaluate("el => el.remove()")
        # the chapter at its first figure, light and dark, as a reader opens it
        page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"chapter_{chapter.removesuffix('.html')}_{width}_light.png"))
        page.evaluate("() => { document.documentElement.dataset.theme = 'dark'; }")
        page.wait_for_timeout(600)
        page.screenshot(path=str(ARTIFACTS / f"chapter_{chapter.removesuffix('.html')}_{width}_dark.png"))
        assert not found, f"{chapter} at {width} px:\n" + "\n".join(found)
        assert not errors, errors
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_unit_circle_stays_round_after_a_slider_move(browser, site_url, width):
    """Chapter 1: frames used to set both axis ranges, which undid the equal aspect of the eigenvalue panel."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{site_url}/notebooks/01_recurrent_models.html")
        _settle(page)
        page.evaluate("""() => { const gd = document.querySelector('.js-plotly-plot');
            const frames = gd._transitionData._frames;
            return Plotly.animate(gd, [frames[frames.length - 1].name],
                                  {mode: 'immediate', frame: {duration: 0, redraw: true}, transition: {duration: 0}}); }""")
        page.wait_for_timeout(800)
        first = page.evaluate(MEASURE)[0]
        assert first["aspect"], "the eigenvalue panel lost its scaleanchor"
        assert not layout_problems([first]), layout_problems([first])
    finally:
        context.close()


PANEL_DOMAINS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => {
  const full = gd._fullLayout;
  return (full._subplots.cartesian || []).map(id => { const m = /^(x\\d*)(y\\d*)$/.exec(id);
    return [full[m[1].replace('x', 'xaxis')].domain, full[m[2].replace('y', 'yaxis')].domain]; }); })"""


def test_panels_stack_on_a_phone_and_go_back_side_by_side_on_a_wider_window(browser, site_url):
    """Chapter 7's three-panel figures: one panel above the other at 375 px, side by side at 1300 px."""
    context = browser.new_context(viewport={"width": 375, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{site_url}/notebooks/07_instability.html")
        _settle(page)
        three = [i for i, panels in enumerate(page.evaluate(PANEL_DOMAINS)) if len(panels) == 3]
        assert three, "Chapter 7 has no three-panel figure"
        for i in three:
            panels = page.evaluate(PANEL_DOMAINS)[i]
            assert all(x == [0, 1] for x, _ in panels), f"figure {i} at 375 px: {panels}"
            ys = sorted(y for _, y in panels)  # bottom panel first
            assert all(low[1] <= high[0] + 1e-9 for low, high in zip(ys, ys[1:])), \
                f"figure {i} at 375 px: stacked panels overlap {panels}"
            assert len({y[1] for y in ys}) == 3
        page.set_viewport_size({"width": 1300, "height": 900})
        page.wait_for_timeout(2000)
        for i in three:
            panels = page.evaluate(PANEL_DOMAINS)[i]
            assert len({tuple(x) for x, _ in panels}) == 3 and len({tuple(y) for _, y in panels}) == 1, \
                f"figure {i} at 1300 px is not side by side again: {panels}"
        assert not layout_problems(page.evaluate(MEASURE)), layout_problems(page.evaluate(MEASURE))
    finally:
        context.close()
