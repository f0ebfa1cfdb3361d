"""The Voilà dashboards (stablernn.presentation.dashboards): each thin notebook shows the app named by its
chapter slug and every app builds; in a real browser they load, their plots fill their place and fit
at desktop and phone width, their controls change the plots, and no code shows."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import plotly
import plotly.graph_objects as go
import pytest
from jupyter_core.paths import jupyter_path

from conftest import ROOT, screenshot
from figure_layout import MEASURE, layout_problems
from stablernn.chapters import CHAPTERS
from stablernn.presentation import dashboards
from stablernn.presentation.plot_view import PlotView

DASHBOARDS = sorted(p.name for p in (ROOT / "notebooks" / "dashboards").glob("*.ipynb"))
WITH_PLOTS = [d for d in DASHBOARDS if d != "index.ipynb"]


# -- without a browser ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", DASHBOARDS)
def test_dashboard_notebook_shows_the_app_of_its_name(name):
    source = "".join(json.loads((ROOT / "notebooks" / "dashboards" / name).read_text())["cells"][0]["source"])
    slug = name.removesuffix(".ipynb")
    assert "from stablernn.presentation.dashboards import show_dashboard" in source
    assert f'show_dashboard("{slug}")' in source
    assert slug == "index" or (slug in dashboards.DASHBOARDS and slug in CHAPTERS)


def test_every_app_has_its_notebook():
    assert {f"{name}.ipynb" for name in dashboards.DASHBOARDS} == set(WITH_PLOTS)


@pytest.mark.parametrize("name", sorted(dashboards.DASHBOARDS))
def test_app_builds_a_page_with_a_live_figure(monkeypatch, name):
    if name == "training":  # the chapter's grid takes seconds; the app's wiring is the same on a tiny one
        from stablernn.chapters import training

        real = training.equivalence_grid
        tiny = training.EquivalenceSetup(hidden=3, teacher_hidden=2, steps_per_sequence=8, train_sequences=2,
                                         test_sequences=1)
        monkeypatch.setattr(training, "equivalence_grid", lambda *a, **k: real(tiny, (1, 2, 8), steps=3))
    page = dashboards.app(name)
    figures, titles = [], []

    def walk(w):
        if hasattr(w, "explorer_figure"):
            figures.append(w.explorer_figure)
            titles.append(w.children[0].children[0].value)  # the controls' panel starts with the title
        for child in getattr(w, "children", ()):
            walk(child)

    walk(page)
    assert figures and all(isinstance(f, PlotView) and len(f.current()["data"]) > 0 for f in figures)
    assert dashboards.DASHBOARDS[name].title in page.children[0].value
    # a widget's HTML renders no TeX: an explorer's title writes h_{t-1} as hₜ₋₁
    assert not [t for t in titles if re.search(r"[_^]\{|\$|\\", t)], titles


def test_the_server_can_draw_the_dashboards_with_figurewidget_and_refuses_another_figure(monkeypatch):
    monkeypatch.setenv("STABLERNN_DASHBOARD_PLOT", "figurewidget")
    figure = dashboards.app("bptt").children[1].explorer_figure
    assert isinstance(figure, go.FigureWidget) and len(figure.data) > 0
    monkeypatch.setenv("STABLERNN_DASHBOARD_PLOT", "svg")
    with pytest.raises(ValueError, match="STABLERNN_DASHBOARD_PLOT must be one of"):
        dashboards.app("bptt")


TORCH_FREE = ("index", "recurrent_models", "truncation", "instability", "in_practice")


def test_the_dashboards_that_need_no_torch_do_not_import_it():
    """A kernel for these pages stays about 230 MB lighter and starts sooner (presentation/explorers.py)."""
    shown = "; ".join(f"show_dashboard({name!r})" for name in TORCH_FREE)
    code = (f"import sys; from stablernn.presentation.dashboards import show_dashboard; {shown}; "
            "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={k: v for k, v in os.environ.items() if k != "STABLERNN_STATIC"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]", f"imported torch: {out.stdout[-300:]}"


def test_index_links_every_dashboard():
    html = dashboards.index().value
    for name in dashboards.DASHBOARDS:
        assert f"href='{name}.ipynb'" in html
    with pytest.raises(ValueError, match="name"):
        dashboards.app("stability")


# -- in a real browser ------------------------------------------------------------------------------


# A page whose preheated kernel was taken by an earlier test is rendered with a new kernel while the
# pool refills; on a loaded 2-core machine that can take longer than playwright's default 30 s.
PAGE_TIMEOUT_MS = 90_000

SIGNATURE = ("() => JSON.stringify(Array.from(document.querySelectorAll('.js-plotly-plot'))"
             ".map(gd => [gd.layout.title && gd.layout.title.text, gd.data.map(t => t.y)]))")
CHANGED = f"(before) => ({SIGNATURE})() !== before"


def _signature(page) -> str:
    return page.evaluate(SIGNATURE)


def _wait_for_change(page, before: str, timeout: float) -> bool:
    try:
        page.wait_for_function(CHANGED, arg=before, timeout=timeout)
        return True
    except Exception:  # playwright's TimeoutError
        return False


# each plot's width and that of the widget area it sits in (a plot as wide as its content could stay 0 wide)
PLOT_WIDTHS = ("() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => "
               "[gd.getBoundingClientRect().width, gd.closest('.widget-container').getBoundingClientRect().width])")
PHONE = {"width": 375, "height": 900}


def _fit_problems(page, settle_ms: int = 15_000) -> list[str]:
    """What does not fit: a plot narrower than its place, a figure's layout problem (``figure_layout``),
    or a page wider than the window. figure-fit.js relayouts after a draw or a resize, and a dashboard
    that trains redraws meanwhile, so this measures until nothing is wrong or ``settle_ms`` has passed
    (a busy machine can take seconds) and reports what was still wrong at the end."""
    width = page.viewport_size["width"]
    deadline = time.perf_counter() + settle_ms / 1000
    while True:
        page.wait_for_timeout(500)
        found = [f"plot {i} is {w:.0f} px wide in a place {place:.0f} px wide"
                 for i, (w, place) in enumerate(page.evaluate(PLOT_WIDTHS)) if w < 0.9 * place]
        found += layout_problems(page.evaluate(MEASURE))
        scroll = page.evaluate("() => document.documentElement.scrollWidth")
        if scroll > width + 1:
            found.append(f"the page is {scroll} px wide in a window {width} px wide")
        if not found or time.perf_counter() > deadline:
            return [f"at {width} px (after {settle_ms / 1000:.0f} s): {p}" for p in found]


@pytest.mark.browser
@pytest.mark.parametrize("name", WITH_PLOTS)
def test_dashboard_loads_and_every_slider_changes_the_plot(page, voila_url, name):
    """It loads, its plots fill their place and fit on a desktop and on a phone, and every slider
    changes a plot (directly, or through the panel's Run or Train button)."""
    start = time.perf_counter()
    page.goto(f"{voila_url}/voila/render/{name}", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=90_000)
    print(f"{name}: interactive after {time.perf_counter() - start:.1f} s")
    misfits = _fit_problems(page)
    sliders = page.locator(".widget-slider .noUi-handle")
    assert sliders.count() >= 1
    for i in range(sliders.count()):
        before = _signature(page)
        sliders.nth(i).focus()  # keyboard-usable: arrow keys move the focused slider
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        if _wait_for_change(page, before, 8_000):
            continue
        # a control that only takes effect when the reader presses the panel's Run or Train button
        button = page.locator("button.jupyter-button:has-text('Run'), button.jupyter-button:has-text('Train')")
        assert button.count() >= 1, f"slider {i} changed nothing and there is no Run or Train button"
        button.first.click()
        assert _wait_for_change(page, before, 90_000), f"slider {i} and its button changed nothing"
    screenshot(page, f"dashboard_{name.removesuffix('.ipynb')}")
    page.set_viewport_size(PHONE)
    misfits += _fit_problems(page)
    screenshot(page, f"dashboard_{name.removesuffix('.ipynb')}_375")
    assert not misfits, f"{name}:\n" + "\n".join(misfits)
    assert "NaN" not in page.inner_text("body")
    assert not page.problems, page.problems


@pytest.mark.browser
@pytest.mark.parametrize("name", DASHBOARDS)
def test_dashboard_html_contains_no_notebook_source(voila_url, name):
    html = urllib.request.urlopen(f"{voila_url}/voila/render/{name}", timeout=120).read().decode()
    source = "".join(json.loads((ROOT / "notebooks" / "dashboards" / name).read_text())["cells"][0]["source"])
    for line in filter(None, source.splitlines()):
        assert line not in html, f"{name}: the page shows its source line {line!r}"


@pytest.mark.browser
@pytest.mark.parametrize("name", ["truncation.ipynb", "recurrent_models.ipynb"])
def test_extreme_values_and_rapid_changes_leave_the_dashboard_responsive(page, voila_url, name):
    page.goto(f"{voila_url}/voila/render/{name}", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=90_000)
    sliders = page.locator(".widget-slider .noUi-handle")
    for i in range(sliders.count()):
        sliders.nth(i).focus()
        for key in ["End"] + ["ArrowLeft"] * 15 + ["Home"] + ["ArrowRight"] * 15 + ["End"]:
            page.keyboard.press(key)  # rapid repeated changes, ending at the extreme
    page.wait_for_timeout(3_000)
    before = _signature(page)
    sliders.first.focus()
    page.keyboard.press("Home")
    assert _wait_for_change(page, before, 30_000), "the dashboard stopped responding"
    screenshot(page, f"dashboard_{name.removesuffix('.ipynb')}_extremes")
    text = page.inner_text("body")
    assert "NaN" not in text and "Traceback" not in text
    assert not page.problems, page.problems


@pytest.mark.browser
def test_dashboard_is_self_contained_and_themed_and_its_focused_slider_visible(page, voila_url):
    """Everything comes from this server; JupyterLab's theme is loaded (the widgets' colours come from
    it); a slider focused from the keyboard shows its handle."""
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(f"{voila_url}/voila/render/recurrent_models.ipynb", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=90_000)
    # blob: URLs of this page's own origin are the plots' module (anywidget imports it from one)
    outside = [u for u in requested
               if not u.startswith((voila_url, voila_url.replace("http", "ws"), "data:", f"blob:{voila_url}/"))]
    assert not outside, outside
    theme = page.evaluate("() => getComputedStyle(document.body).getPropertyValue('--jp-layout-color3')")
    assert theme.strip(), "JupyterLab's theme variables are missing"
    handle = page.locator(".widget-slider .noUi-handle").first
    handle.focus()
    style = handle.evaluate("h => { const c = getComputedStyle(h); return [c.backgroundColor, c.borderTopWidth]; }")
    assert style[0] not in ("rgba(0, 0, 0, 0)", "transparent") or style[1] != "0px", style
    assert not page.problems, page.problems


BUNDLE_URL = "/voila/templates/stablernn/static/plotly-cartesian.min.js"


def _figurewidget_chunk() -> str:
    """The file name of FigureWidget's front end: the largest chunk of plotly's JupyterLab extension."""
    static = next(Path(p) for p in jupyter_path("labextensions", "jupyterlab-plotly", "static") if Path(p).is_dir())
    return max(static.glob("*.js"), key=lambda f: f.stat().st_size).name


@pytest.mark.browser
def test_dashboard_plots_draw_with_the_sites_cartesian_bundle_not_figurewidgets_chunk(page, voila_url):
    assert (ROOT / "share/jupyter/voila/templates/stablernn/static/plotly-cartesian.min.js").exists(), \
        "the dashboards' plotly.js is missing: run scripts/fetch_assets.py"
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(f"{voila_url}/voila/render/truncation.ipynb", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=90_000)
    assert f"{voila_url}{BUNDLE_URL}" in requested
    chunk = _figurewidget_chunk()
    assert not [u for u in requested if chunk in u], f"the page loaded FigureWidget's {chunk}"
    assert page.evaluate("() => window.Plotly.version") == plotly.offline.get_plotlyjs_version()
    assert not page.problems, page.problems


@pytest.mark.browser
def test_a_dashboard_not_served_the_bundle_draws_with_plotly_from_its_kernel(page, voila_url):
    page.route(f"**{BUNDLE_URL}", lambda route: route.fulfill(status=404, body="not here"))
    page.goto(f"{voila_url}/voila/render/truncation.ipynb", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=90_000)
    assert page.evaluate("() => window.Plotly.version") == plotly.offline.get_plotlyjs_version()
    before = _signature(page)
    page.locator(".widget-slider .noUi-handle").first.focus()
    page.keyboard.press("ArrowRight")
    assert _wait_for_change(page, before, 30_000), "the plot drawn with the kernel's plotly.js does not answer"
    # the 404 itself (as a response, the preload's failure and the console's "Failed to load resource")
    assert all(BUNDLE_URL in p or "Failed to load resource" in p for p in page.problems), page.problems


def _kill_kernel(kernel_id: str) -> None:
    """SIGKILL the kernel process whose command line names ``kernel_id`` (its connection file)."""
    killed = 0
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if proc.name.isdigit() and kernel_id.encode() in cmdline and b"ipykernel" in cmdline:
            os.kill(int(proc.name), signal.SIGKILL)
            killed += 1
    assert killed, f"no kernel process names {kernel_id}"


@pytest.mark.browser
def test_a_dashboard_whose_kernel_dies_says_so_and_reloads(page, voila_url):
    """The reader sees a message with a reload button, and the reload gives a working dashboard."""
    kernel_of = "() => JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId"
    page.goto(f"{voila_url}/voila/render/recurrent_models.ipynb", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=90_000)
    assert page.locator("#kernel-lost").count() == 0
    dead = page.evaluate(kernel_of)
    _kill_kernel(dead)
    alert = page.locator("#kernel-lost[role=alert]")
    alert.wait_for(state="visible", timeout=30_000)
    assert "lost its Python kernel" in alert.inner_text() and "Reload" in alert.inner_text()
    screenshot(page, "dashboard_kernel_lost")
    alert.locator("button").click()
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=90_000)
    assert page.evaluate(kernel_of) != dead and page.locator("#kernel-lost").count() == 0
    before = _signature(page)
    page.locator(".widget-slider .noUi-handle").first.focus()
    page.keyboard.press("ArrowRight")
    assert _wait_for_change(page, before, 30_000), "the reloaded dashboard does not answer its slider"
    # the page's unload beacon shut the dead kernel down (its websocket closing is expected)
    assert _logged(f"Kernel shutdown: {dead}", 20), "the reload left the dead kernel running"
    assert not _unexpected(page.problems, dead), page.problems


@pytest.mark.browser
def test_a_reader_who_leaves_a_dashboard_frees_its_kernel(page, voila_url):
    page.goto(f"{voila_url}/voila/render/feedforward.ipynb", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=90_000)
    kernel = page.evaluate("() => JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")
    page.goto(f"{voila_url}/voila/render/index.ipynb", timeout=PAGE_TIMEOUT_MS)
    assert _logged(f"Kernel shutdown: {kernel}", 20), "the kernel of the page the reader left still runs"
    assert not _unexpected(page.problems, kernel), page.problems


def _unexpected(problems: list[str], kernel: str) -> list[str]:
    """``problems`` but the unload beacon that shuts ``kernel`` down (the browser reports it as aborted,
    as it leaves the page, whether or not the server got it: ``_logged`` checks that) and, for a dead
    kernel, its websocket closing."""
    beacon = f"/voila/api/shutdown/{kernel} (net::ERR_ABORTED)"
    return [p for p in problems if not p.endswith(beacon) and "WebSocket" not in p]


def _logged(line: str, timeout_s: float) -> bool:
    """Whether the Voilà server's log (conftest's voila_url) shows ``line`` within ``timeout_s``."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if line in (ROOT / "test-artifacts" / "voila.log").read_text(errors="replace"):
            return True
        time.sleep(0.25)
    return False
