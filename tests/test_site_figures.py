"""Every figure of every chapter, drawn in Chromium at 1300 px and at 375 px (a phone): titles, legends
and subplot titles inside the figure and clear of each other, sliders clear of each other, circles
round after a slider move, log axes labelled by round numbers. Screenshots are kept as artifacts."""

from __future__ import annotations

import math
import re

import pytest

from conftest import ARTIFACTS, SITE

pytestmark = pytest.mark.browser
CHAPTERS = sorted(p.name for p in (SITE / "notebooks").glob("[0-9][0-9]_*.html")) if SITE.exists() else []
WIDTHS = (1300, 375)

# In the page: the boxes of each figure's parts, relative to the figure, and its log axes' tick values.
MEASURE = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map((gd, index) => {
  const o = gd.getBoundingClientRect();
  const rel = el => { const r = el.getBoundingClientRect();
    return {left: r.left - o.left, right: r.right - o.left, top: r.top - o.top, bottom: r.bottom - o.top,
            width: r.width, height: r.height}; };
  const full = gd._fullLayout;
  const anns = full.annotations || [];
  const subtitles = Array.from(gd.querySelectorAll('.annotation')).filter((n, i) =>
      anns[i] && anns[i].yref === 'paper' && anns[i].yanchor === 'bottom' && !anns[i].showarrow).map(rel);
  const title = gd.querySelector('.g-gtitle .gtitle');
  const legend = gd.querySelector('.legend');
  const logTicks = Object.keys(full).filter(k => /^[xy]axis\\d*$/.test(k) && full[k].type === 'log')
      .map(k => ({axis: k, ticks: (full[k]._vals || []).filter(t => t.text && !/^\\s*$/.test(t.text))
                                                       .map(t => [Math.pow(10, t.x), t.text])}));
  const aspect = Object.keys(full).filter(k => /^yaxis\\d*$/.test(k) && full[k].scaleanchor).map(k => {
      const y = full[k], x = full[y.scaleanchor.replace('x', 'xaxis')];
      return {x: x._length / Math.abs(x.range[1] - x.range[0]), y: y._length / Math.abs(y.range[1] - y.range[0])}; });
  return {index, width: o.width, height: o.height,
          title: title && full.title.text ? rel(title) : null,
          legend: legend && full.showlegend !== false ? rel(legend) : null,
          legendInside: !!(full.legend && full.legend.yref === 'paper' && full.legend.y > 0 && full.legend.y < 1),
          subtitles, sliders: Array.from(gd.querySelectorAll('.slider-container')).map(rel), logTicks, aspect};
})"""


MODEBAR_OVER_TITLE = """(i) => { const gd = document.querySelectorAll('.js-plotly-plot')[i];
  const bar = gd.querySelector('.modebar'), title = gd.querySelector('.g-gtitle .gtitle');
  if (!bar || !title || !bar.offsetParent) return false;
  const a = bar.getBoundingClientRect(), b = title.getBoundingClientRect();
  return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom; }"""


def _overlap(a: dict, b: dict, slack: float = 1.0) -> bool:
    return (a["left"] + slack < b["right"] and b["left"] + slack < a["right"]
            and a["top"] + slack < b["bottom"] and b["top"] + slack < a["bottom"])


def _inside(a: dict, fig: dict, slack: float = 2.0) -> bool:
    return a["left"] >= -slack and a["top"] >= -slack and a["right"] <= fig["width"] + slack \
        and a["bottom"] <= fig["height"] + slack


def _says_its_value(value: float, text: str) -> bool:
    """A log-axis label states the number at its tick ("0.7", "1.05", "10<sup>−3</sup>", "2×10<sup>4</sup>"),
    not a bare digit standing for it (plotly's "7 8 9 1 2" on a short log axis)."""
    text = str(text).replace("−", "-").replace("\u2009", "").strip()
    power = re.fullmatch(r"(?:([\d.]+)\s*[×x]\s*)?10<sup>([-\d.]+)</sup>", text)
    if power:
        shown = float(power.group(1) or 1) * 10 ** float(power.group(2))
    else:
        try:
            shown = float(re.sub(r"<[^>]+>", "", text).replace(",", ""))
        except ValueError:
            return False
    return math.isclose(shown, value, rel_tol=0.02)


def layout_problems(figures: list[dict]) -> list[str]:
    out = []
    for f in figures:
        name = f"figure {f['index']}"
        if f["title"] and not _inside(f["title"], f):
            out.append(f"{name}: title outside the figure {f['title']}")
        if f["legend"]:
            if not _inside(f["legend"], f):
                out.append(f"{name}: legend outside the figure")
            if f["title"] and _overlap(f["legend"], f["title"]):
                out.append(f"{name}: legend over the title")
            if any(_overlap(f["legend"], s) for s in f["subtitles"]):
                out.append(f"{name}: legend over a subplot title")
        for i, a in enumerate(f["subtitles"]):
            if not _inside(a, f):
                out.append(f"{name}: subplot title {i} outside the figure")
            if f["title"] and _overlap(a, f["title"]):
                out.append(f"{name}: subplot title {i} over the title")
            out += [f"{name}: subplot titles {i} and {j} overlap" for j, b in enumerate(f["subtitles"])
                    if j > i and _overlap(a, b)]
        for i, a in enumerate(f["sliders"]):
            out += [f"{name}: sliders {i} and {j} overlap" for j, b in enumerate(f["sliders"]) if j > i and _overlap(a, b)]
        for axis in f["logTicks"]:
            odd = [f"{text!r} at {value:.3g}" for value, text in axis["ticks"] if not _says_its_value(value, text)]
            if odd:
                out.append(f"{name}: log axis {axis['axis']} has labels that do not state their value: {odd[:4]}")
        for a in f["aspect"]:
            if abs(a["x"] / a["y"] - 1) > 0.02:
                out.append(f"{name}: a circle is drawn as an ellipse (x/y scale {a['x'] / a['y']:.3f})")
    return out


def test_the_layout_check_finds_overlaps_and_odd_ticks():
    fig = {"index": 0, "width": 400, "height": 300, "title": {"left": 0, "right": 450, "top": 5, "bottom": 25},
           "legend": {"left": 10, "right": 200, "top": 20, "bottom": 60}, "legendInside": False,
           "subtitles": [{"left": 0, "right": 220, "top": 70, "bottom": 85},
                         {"left": 200, "right": 380, "top": 70, "bottom": 85}],
           "sliders": [], "logTicks": [{"axis": "xaxis", "ticks": [[0.7, "7"], [0.8, "8"], [1, "1"], [2, "2"],
                                                                 [1e-3, "10<sup>−3</sup>"], [1.05, "1.05"]]}],
           "aspect": [{"x": 100.0, "y": 80.0}]}
    found = "\n".join(layout_problems([fig]))
    for expected in ("title outside", "legend over the title", "subplot titles 0 and 1 overlap", "'7' at 0.7",
                     "'8' at 0.8", "ellipse"):
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
        for i in range(len(figures)):  # one picture per figure, to look at as a reader would
            figure = page.locator(".js-plotly-plot").nth(i)
            figure.scroll_into_view_if_needed()
            figure.screenshot(path=str(ARTIFACTS / f"figure_{chapter.removesuffix('.html')}_{i}_{width}.png"))
            figure.hover(position={"x": 20, "y": 60})  # the modebar shows on hover: it must not cover the title
            page.wait_for_timeout(150)
            covered = page.evaluate(MODEBAR_OVER_TITLE, i)
            if covered:
                found.append(f"figure {i}: the modebar covers the title")
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
