"""The built site for readers who use a keyboard, a screen reader or dark mode.

axe-core (fetched by ``scripts/fetch_assets.py``) checks every page in light and dark mode and must
find no critical and no serious violation in the book's own markup. Then what axe cannot see: a
static slider is reached with Tab and stepped with the arrow keys, every figure is named and
described, the figures follow the page into dark mode, and links in theorem and definition boxes
are readable.
"""

from __future__ import annotations

import pytest
import yaml

from conftest import ROOT, screenshot

pytestmark = [pytest.mark.book, pytest.mark.browser]  # the built site, in Chromium

AXE = ROOT / "_assets" / "axe-core" / "axe.min.js"

# Violations in markup the book does not write: (axe rule, selector of the upstream element, why).
UPSTREAM = [
    ("label-content-name-mismatch", ".search-button__button",
     "pydata-sphinx-theme's search button: aria-label 'Search', while its visible text reads "
     "'Search Ctrl+K'"),
    ("label-content-name-mismatch", ".tag_hide-input > details > summary",
     "myst-nb's toggle of a hidden code cell: aria-label 'Toggle hidden content', while its visible "
     "text reads 'Show code cell source'"),
    ("aria-required-children", "div.citation-list",
     "Sphinx's bibliography: role 'list' over entries with role 'doc-biblioentry', which ARIA 1.3 "
     "deprecated, so axe finds no 'listitem' child"),
]

PLOTS_DRAWN = """() => Array.from(document.querySelectorAll('.plotly-graph-div'))
                    .every(d => d.classList.contains('js-plotly-plot') && d.querySelector('.main-svg'))"""

AXE_SERIOUS = """async (upstream) => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  const found = [];
  for (const v of result.violations) {
    if (v.impact !== 'critical' && v.impact !== 'serious') continue;
    for (const node of v.nodes) {
      const el = node.target.length === 1 ? document.querySelector(node.target[0]) : null;
      if (el && upstream.some(([rule, selector]) => rule === v.id && el.matches(selector))) continue;
      found.push(`${v.impact} ${v.id} at ${node.target.join(' ')}: ${node.failureSummary}`);
    }
  }
  return found;
}"""

# The contrast of each visible link inside a theorem, definition or exercise box, against the colour
# behind it (the boxes' tints are translucent: composite them down to the first opaque background).
# Not the theme's permalink "#" beside a title, which shows only while the pointer is over it.
LINK_CONTRAST = """() => {
  const rgba = s => { const p = s.match(/[\\d.]+/g).map(Number); return p.length > 3 ? p : [...p, 1]; };
  const lum = c => 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
  const lin = v => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  const behind = el => {
    const layers = [];
    for (let n = el; n; n = n.parentElement) {
      const c = rgba(getComputedStyle(n).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] === 1) break;
    }
    return layers.reverse().reduce((out, [r, g, b, a]) =>
      [r * a + out[0] * (1 - a), g * a + out[1] * (1 - a), b * a + out[2] * (1 - a)], [255, 255, 255]);
  };
  return Array.from(document.querySelectorAll('div.proof a, div.exercise a, div.solution a'))
    .filter(a => a.getClientRects().length && a.textContent.trim() && !a.matches('.headerlink'))
    .map(a => {
      const [hi, lo] = [lum(rgba(getComputedStyle(a).color)), lum(behind(a))].sort((x, y) => y - x);
      return [(hi + 0.05) / (lo + 0.05), a.textContent.trim(), getComputedStyle(a).color];
    });
}"""


def _pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]


PAGES = _pages()
CHAPTERS = [p for p in PAGES if p.startswith("notebooks/")]


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        pytest.skip(f"axe-core is missing ({AXE.relative_to(ROOT)}): run `python scripts/fetch_assets.py`")
    return AXE.read_text()


def _open(page, site_url: str, path: str, *, mode: str = "light") -> None:
    """Open a page as a reader whose stored colour mode is ``mode``, once its figures and math are drawn."""
    page.add_init_script(f"localStorage.setItem('mode', '{mode}')")
    page.goto(f"{site_url}/{path}.html", wait_until="load")
    page.wait_for_function("() => document.readyState === 'complete'")
    page.wait_for_function(PLOTS_DRAWN, timeout=30_000)
    page.evaluate("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
    assert page.evaluate("() => document.documentElement.dataset.theme") == mode


def _switch_mode(page, mode: str) -> None:
    """Switch the colour mode as a reader does, with the theme's button (light → auto → dark → light)."""
    for _ in range(3):
        if page.evaluate("() => document.documentElement.dataset.theme") == mode:
            return
        page.locator(".theme-switch-button:visible").first.click()
    assert page.evaluate("() => document.documentElement.dataset.theme") == mode


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("path", PAGES)
def test_axe_finds_no_serious_violation(page, site_url, axe_source, path, mode):
    _open(page, site_url, path, mode=mode)
    page.add_script_tag(content=axe_source)
    found = page.evaluate(AXE_SERIOUS, [[rule, selector] for rule, selector, _ in UPSTREAM])
    assert not found, "\n".join(found)
    assert not page.problems, page.problems


def _slider_state(page) -> dict:
    return page.evaluate("""() => { const g = document.activeElement;
        const gd = g.closest('.js-plotly-plot');
        return {role: g.getAttribute('role'), label: g.getAttribute('aria-label'),
                now: Number(g.getAttribute('aria-valuenow')), max: Number(g.getAttribute('aria-valuemax')),
                text: g.getAttribute('aria-valuetext'), title: gd.layout.title.text,
                y: JSON.stringify(gd.data.map(t => t.y && Array.from(t.y))),
                outline: getComputedStyle(g).outlineStyle, outlineWidth: parseFloat(getComputedStyle(g).outlineWidth)}; }""")


def test_tab_reaches_a_slider_and_the_arrow_keys_step_it(page, site_url):
    """Chapter 1's explorer from the keyboard alone: Tab lands on its first slider, ArrowRight shows the
    next frame (both sliders together pick it) and says the new value; End and Home reach the ends."""
    _open(page, site_url, "notebooks/01_recurrent_models")
    for presses in range(1, 301):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.matches('.js-plotly-plot [role=slider]')"):
            break
    else:
        pytest.fail("300 presses of Tab never reached a slider of a figure")
    before = _slider_state(page)
    assert before["label"] == "spectral radius ρ(W)" and before["max"] > before["now"]
    assert before["outline"] != "none" and before["outlineWidth"] >= 2, "no focus ring on the slider"
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(400)
    after = _slider_state(page)
    assert after["now"] == before["now"] + 1 and after["text"] != before["text"]
    assert after["title"] != before["title"] and after["y"] != before["y"], "the frame did not change"
    assert f"ρ(W) = {after['text']}" in after["title"], "the frame shown is not the slider's value"
    screenshot(page, "accessibility_chapter1_slider_keyboard")
    page.keyboard.press("End")
    page.wait_for_timeout(400)
    assert _slider_state(page)["now"] == before["max"]
    page.keyboard.press("Home")
    page.wait_for_timeout(400)
    assert _slider_state(page)["now"] == 0
    assert not page.problems, page.problems


def test_arrow_keys_step_a_single_slider(page, site_url):
    """An explorer with one slider (Chapter 2's truncation window): the key runs the step's own animation."""
    _open(page, site_url, "notebooks/02_bptt")
    page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot'))
        .find(gd => gd.layout.sliders && gd.layout.sliders.length === 1 && !gd.layout.meta.stablernn_joint_sliders)
        .querySelector('[role=slider]').focus()""")
    before = _slider_state(page)
    page.keyboard.press("ArrowLeft" if before["now"] == before["max"] else "ArrowRight")
    page.wait_for_timeout(400)
    after = _slider_state(page)
    assert after["now"] != before["now"] and after["y"] != before["y"] and after["text"] in after["title"]
    assert not page.problems, page.problems


def test_every_figure_is_named_and_described(page, site_url):
    """Each figure has a role and a name (its title), and is described by the takeaway in bold below it."""
    for path in CHAPTERS:
        _open(page, site_url, path)
        figures = page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => {
            const d = document.getElementById(gd.getAttribute('aria-describedby') || '');
            return {role: gd.getAttribute('role'), label: gd.getAttribute('aria-label'),
                    description: d && d.tagName === 'STRONG' ? d.textContent.trim() : null}; })""")
        assert figures, f"{path} shows no figure"
        for i, f in enumerate(figures):
            assert f["role"] in ("figure", "group") and f["label"] and f["label"] != "Figure", f"{path} #{i}: {f}"
            assert f["description"] and len(f["description"]) > 20, f"{path} #{i}: no takeaway described it"
        assert not page.problems, page.problems


FIGURE_COLOURS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => ({
    paper: gd._fullLayout.paper_bgcolor, font: gd._fullLayout.font.color,
    svg: getComputedStyle(gd.querySelector('.main-svg')).backgroundColor,
    traces: gd._fullData.map(t => (t.line && t.line.color) || (t.marker && t.marker.color) || null)}))"""


@pytest.mark.parametrize("path", ["notebooks/01_recurrent_models", "notebooks/09_memory"])
def test_figures_follow_dark_mode(page, site_url, path):
    """Dark mode gives each figure the page's background and text colour, keeps the palette, and back."""
    _open(page, site_url, path)
    light = page.evaluate(FIGURE_COLOURS)
    _switch_mode(page, "dark")
    page.wait_for_timeout(600)
    dark = page.evaluate(FIGURE_COLOURS)
    page_bg = page.evaluate("() => getComputedStyle(document.documentElement).getPropertyValue('--pst-color-background').trim()")
    ink = {"#000000", "#222", "#444", "black"}
    for before, after in zip(light, dark):
        assert after["paper"] == page_bg and after["svg"] != before["svg"] and after["font"] != before["font"]
        for a, b in zip(before["traces"], after["traces"]):
            if isinstance(a, str) and a not in ink:
                assert a == b, "a trace lost its palette colour in dark mode"
    screenshot(page, f"accessibility_{path.replace('/', '_')}_dark")
    _switch_mode(page, "light")
    page.wait_for_timeout(600)
    assert page.evaluate(FIGURE_COLOURS) == light, "light mode did not bring the figures back"
    assert not page.problems, page.problems


def test_wide_equations_take_focus_on_a_phone(browser, site_url):
    """At 375 px many display equations scroll sideways: each of those, and only those, is a tab stop
    (a keyboard reader scrolls it with the arrow keys)."""
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    _open(page, site_url, "notebooks/05_truncation")
    equations = page.evaluate("""() => Array.from(document.querySelectorAll('mjx-container[display="true"]'))
        .map(eq => [eq.scrollWidth > eq.clientWidth + 1, eq.getAttribute('tabindex')])""")
    context.close()
    wide = [tab for scrolls, tab in equations if scrolls]
    assert wide and all(tab == "0" for tab in wide), f"{len(wide)} wide equations, tabindex: {wide}"
    assert all(tab is None for scrolls, tab in equations if not scrolls), "an equation that fits is a tab stop"


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_links_in_theorem_boxes_are_readable(page, site_url, mode):
    """Links (equation numbers, citations) inside prf: and exercise boxes reach a contrast of 4.5:1."""
    checked = 0
    for path in CHAPTERS:
        _open(page, site_url, path, mode=mode)
        for ratio, text, colour in page.evaluate(LINK_CONTRAST):
            checked += 1
            assert ratio >= 4.5, f"{path} ({mode}): link {text!r} in {colour} reads at {ratio:.2f}:1"
    assert checked > 10, "found almost no links inside theorem boxes: is the selector still right?"
