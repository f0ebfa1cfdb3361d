"""The site's weight: plotly.js (the cartesian partial bundle, the version the plotly package bundles)
and the ipywidgets manager load only on the pages that use them, and a first visit stays in budget.

The site under test is ``_build/html``, or the folder named by ``STABLERNN_SITE`` (see conftest.py).
"""

from __future__ import annotations

import importlib.util
import json
import re
import types
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

book = pytest.mark.book  # needs the built site

BUNDLE = "_static/plotly/plotly-cartesian.min.js"
MANAGER = ("requirejs/require.js", "require-paths.js", "html-manager/dist/embed-amd.js")
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
CHAPTER_BUDGET = 4_000_000  # bytes a first visit to a chapter transfers (response bodies, uncompressed)
PLAIN_BUDGET = 3_000_000  # the same for a page without figures
NO_FIGURES = ["book/api.html", "book/bibliography.html", "search.html", "genindex.html"]
FIRST_PLOT = ".js-plotly-plot .main-svg"


def chapter_pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [f"{f}.html" for f in files if f.startswith("notebooks/")]


def pages(site: Path) -> list[Path]:
    """Every page of the site (not the theme's snippets under _static/)."""
    return sorted(p for p in site.rglob("*.html") if p.relative_to(site).parts[0] != "_static")


def script_sources(html: str) -> list[str]:
    return re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", html)


def has_figure(html: str) -> bool:
    return "Plotly.newPlot(" in html


def _json_after(html: str, pattern: str):
    """The JSON values passed to each call matching ``pattern`` (which ends where the first is)."""
    decoder = json.JSONDecoder()
    for m in re.finditer(pattern, html):
        values, at = [], m.end()
        while True:
            try:
                value, end = decoder.raw_decode(html, at)
            except json.JSONDecodeError:
                break
            values.append(value)
            rest = re.match(r"\s*,\s*", html[end:end + 200])
            if not rest:
                break
            at = end + rest.end()
        yield values


def trace_types(html: str) -> set[str]:
    """Type of every trace the page's figures draw: ``Plotly.newPlot(id, data, layout, config)`` and
    the frames' traces (``Plotly.addFrames(id, frames)``, where a trace without a type keeps its own)."""
    types = set()
    for args in _json_after(html, r"Plotly\.newPlot\(\s*"):
        assert len(args) >= 2 and isinstance(args[1], list), f"unexpected Plotly.newPlot arguments: {args[:1]}"
        types |= {trace.get("type", "scatter") for trace in args[1]}
    for args in _json_after(html, r"Plotly\.addFrames\(\s*'[^']*'\s*,\s*"):
        types |= {t["type"] for frame in args[0] for t in frame.get("data", []) if "type" in t}
    return types


def bundle_trace_types(site: Path) -> set[str]:
    """The trace modules the bundle registers (each is ``{moduleType:"trace",name:"..."}``)."""
    return set(re.findall(r'moduleType:"trace",name:"(\w+)"', (site / BUNDLE).read_text()))


# -- the bundle ---------------------------------------------------------------------------------

@book
def test_bundle_is_the_plotly_js_of_the_python_package(site):
    import plotly.offline

    expected = plotly.offline.get_plotlyjs_version()
    header = (site / BUNDLE).read_text()[:300]
    assert re.search(r"plotly\.js \(cartesian - minified\) v(\S+)", header).group(1) == expected, header
    package = json.loads((site / BUNDLE).with_name("package.json").read_text())
    assert (package["name"], package["version"]) == ("plotly.js-cartesian-dist-min", expected)
    # the stamp that tells scripts/fetch_assets.py whether to fetch again names the same version
    stamp = json.loads((site / "_static" / "VERSIONS.json").read_text())
    assert stamp["npm"]["plotly.js-cartesian-dist-min"] == expected, stamp


@book
def test_the_bundle_draws_every_trace_type_the_figures_use(site):
    provided = bundle_trace_types(site)
    assert {"scatter", "bar", "box", "heatmap"} <= provided, f"bundle registers {sorted(provided)}"
    used = {}
    for path in pages(site):
        for t in trace_types(path.read_text()):
            used.setdefault(t, []).append(str(path.relative_to(site)))
    assert used, "no page has a plotly figure"
    missing = {t: where for t, where in used.items() if t not in provided}
    assert not missing, (f"trace types the cartesian bundle does not draw: {missing}; "
                         f"it provides {sorted(provided)}")


# -- which page loads what ----------------------------------------------------------------------

def _extension():
    spec = importlib.util.spec_from_file_location("page_scripts", ROOT / "book" / "_ext" / "page_scripts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("figure", [True, False])
@pytest.mark.parametrize("state", [True, False])
def test_the_extension_adds_plotly_before_require_js_and_drops_an_unused_widget_manager(figure, state):
    """book/_ext/page_scripts.py on one page's context, as Sphinx hands it over (no page has both a
    figure and widget state today, so the built site alone does not show the order)."""
    from sphinx.builders.html._assets import _JavaScript

    config = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]
    scripts = [_JavaScript("_static/doctools.js", priority=200)]
    if state:  # what myst-nb adds to a notebook that keeps widget state
        scripts.append(_JavaScript(None, type=WIDGET_STATE, body="{}"))
    scripts += [_JavaScript(f"_static/{path}", **attrs) for path, attrs in config["nb_ipywidgets_js"].items()]
    app = types.SimpleNamespace(config=types.SimpleNamespace(**config))
    app.add_js_file = lambda path, **attrs: scripts.append(_JavaScript(f"_static/{path}", **attrs))
    body = '<div id="p"></div><script>Plotly.newPlot("p", [], {})</script>' if figure else "<p>text</p>"
    _extension()._page_scripts(app, "page", "page.html", {"body": body, "script_files": scripts}, None)
    names = [js.filename for js in sorted(scripts, key=lambda js: js.priority) if js.filename]
    figure_js = [f"_static/{path}" for path, _ in config["page_scripts_figure_js"]]
    assert ("_static/plotly/plotly-cartesian.min.js" in names) == figure
    assert all((name in names) == figure for name in figure_js)
    manager = [f"_static/{path}" for path in config["nb_ipywidgets_js"]]
    assert all((name in names) == state for name in manager), names
    if figure and state:
        assert names.index("_static/plotly/plotly-cartesian.min.js") < names.index("_static/requirejs/require.js")


@book
def test_plotly_and_the_widget_manager_load_only_where_needed(site):
    wrong = []
    for path in pages(site):
        name, html = str(path.relative_to(site)), path.read_text()
        sources = [s.split("?")[0] for s in script_sources(html)]
        plotly = [s for s in sources if "plotly" in s.lower()]
        manager = [s for s in sources if s.endswith(MANAGER)]
        if has_figure(html):
            if len([s for s in plotly if s.endswith(BUNDLE)]) != 1 or len(plotly) != 1:
                wrong.append(f"{name}: has a figure, loads {plotly or 'no plotly.js'}")
            if manager and sources.index(plotly[0]) > sources.index(manager[0]):
                wrong.append(f"{name}: plotly.js loads after require.js (no global Plotly)")
            if not any(s.endswith("explorer-sliders.js") for s in sources):
                wrong.append(f"{name}: has a figure but not the slider script")
        elif plotly or any(s.endswith("explorer-sliders.js") for s in sources):
            wrong.append(f"{name}: has no figure, loads {plotly}")
        if WIDGET_STATE in html and len(manager) != len(MANAGER):
            wrong.append(f"{name}: keeps widget state, loads only {manager} of the widget manager")
        if WIDGET_STATE not in html and manager:
            wrong.append(f"{name}: keeps no widget state, loads {manager}")
    assert not wrong, "\n".join(wrong)


@book
def test_pages_without_figures_load_no_plotly(site):
    for name in NO_FIGURES:
        html = (site / name).read_text()
        assert not has_figure(html), f"{name} has a figure now: update NO_FIGURES"
        assert not [s for s in script_sources(html) if "plotly" in s.lower()], name
        assert not [s for s in script_sources(html) if s.split("?")[0].endswith(MANAGER)], name


@book
def test_every_chapter_has_a_figure(site):
    assert all(has_figure((site / name).read_text()) for name in chapter_pages())


# -- a first visit in Chromium ------------------------------------------------------------------

def _first_visit(page, url: str, figure: bool) -> dict[str, int]:
    """Open ``url`` in the fixture's fresh context (empty cache); bytes of every response body by URL."""
    responses = []
    page.on("response", lambda r: responses.append(r))
    page.goto(url, wait_until="load")
    if figure:
        page.wait_for_selector(FIRST_PLOT, timeout=30_000)
    page.wait_for_load_state("networkidle")
    sizes = {}
    for r in responses:
        if 300 <= r.status < 400:
            continue  # a redirect has no body
        sizes[r.url] = len(r.body())
    return sizes


def _heaviest(sizes: dict[str, int], n: int = 6) -> str:
    heaviest = sorted(sizes.items(), key=lambda item: -item[1])[:n]
    return ", ".join(f"{url.rsplit('/', 1)[-1]} {size / 1e6:.2f} MB" for url, size in heaviest)


@book
@pytest.mark.browser
@pytest.mark.parametrize("chapter", chapter_pages())
def test_first_visit_to_a_chapter_is_within_budget(page, site_url, chapter):
    sizes = _first_visit(page, f"{site_url}/{chapter}", figure=True)
    assert [u for u in sizes if u.split("?")[0].endswith(BUNDLE)], "plotly.js was not loaded"
    assert page.locator(FIRST_PLOT).count() > 0
    assert page.evaluate("() => typeof window.Plotly.newPlot") == "function"
    assert not page.problems, page.problems
    total = sum(sizes.values())
    assert total <= CHAPTER_BUDGET, f"{chapter}: {total / 1e6:.2f} MB on a first visit ({_heaviest(sizes)})"


@book
@pytest.mark.browser
@pytest.mark.parametrize("name", NO_FIGURES)
def test_first_visit_to_a_page_without_figures_is_within_budget(page, site_url, name):
    sizes = _first_visit(page, f"{site_url}/{name}", figure=False)
    assert not [u for u in sizes if "plotly" in u.lower() or u.split("?")[0].endswith(MANAGER)]
    assert not page.problems, page.problems
    total = sum(sizes.values())
    assert total <= PLAIN_BUDGET, f"{name}: {total / 1e6:.2f} MB on a first visit ({_heaviest(sizes)})"


def test_no_page_loads_the_themes_fontawesome_script(site):
    """book/_templates/layout.html drops the theme's 1.5 MB icon script; its stylesheet draws the icons."""
    script = re.compile(r"<script[^>]*\bsrc=\"[^\"]*fontawesome\.js")
    loading = [str(p.relative_to(site)) for p in site.rglob("*.html")
               if "_static" not in p.parts and script.search(p.read_text(errors="replace"))]
    assert not loading, loading[:5]


@pytest.mark.browser
def test_the_themes_icons_still_show_without_its_script(page, site_url):
    page.goto(f"{site_url}/notebooks/01_recurrent_models.html")
    page.wait_for_load_state("networkidle")
    drawn = page.evaluate("""() => Array.from(document.querySelectorAll('i.fa-solid, i.fab, i.fas, i.fa-brands'))
        .filter(i => i.offsetParent).map(i => getComputedStyle(i, '::before').content)""")
    assert drawn, "no theme icon on the page"
    assert all(c not in ("none", "normal", '""') for c in drawn), drawn
    assert not page.problems, page.problems
