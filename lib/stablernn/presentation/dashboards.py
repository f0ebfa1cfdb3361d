"""Voilà dashboards: full-screen apps composed from the book's explorers, with no code showing.

Each dashboard is a title, a two-sentence explanation and one live widget (controls beside the
plots), named by the slug of the chapter it comes from. ``notebooks/dashboards/<slug>.ipynb`` is one
line: ``show_dashboard("<slug>")``; the landing page ``index.ipynb`` links them all.

Their plots are ``PlotView``s (``plot_view.py``: plotly.js's cartesian bundle, a third of what
``FigureWidget``'s front end loads). ``STABLERNN_DASHBOARD_PLOT=figurewidget`` in the server's
environment draws them with ``FigureWidget`` instead (``bench/bench_dashboards_load.py`` measures both).
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from typing import Callable

from .._validate import check_choice

STYLE = """
<style>
  .stablernn-dash { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
  .stablernn-dash h1 { font-size: 1.9rem; margin: 0.2rem 0 0.4rem 0; }
  .stablernn-dash p, .stablernn-dash li { font-size: 1.1rem; max-width: 62rem; line-height: 1.45; }
  .stablernn-dash p { margin: 0 0 0.8rem 0; }
  .stablernn-dash .widget-label, .stablernn-dash .widget-readout, .stablernn-dash .widget-html-content {
    font-size: 1rem; }
  .stablernn-dash a { color: #0072B2; }
</style>
"""


@dataclass(frozen=True)
class Dashboard:
    """One dashboard: its title, a two-sentence explanation, the chapter it comes from, its widget."""

    title: str
    explanation: str
    chapter: str
    body: Callable[[], object]


def plot() -> str:
    """Which figure the dashboards draw with: ``"light"`` (``PlotView``) unless the environment says
    ``STABLERNN_DASHBOARD_PLOT=figurewidget``."""
    from .explorer import PLOTS

    return check_choice("STABLERNN_DASHBOARD_PLOT", os.environ.get("STABLERNN_DASHBOARD_PLOT", "light"), PLOTS)


def _explorer(name: str) -> Callable[[], object]:
    def body():
        from . import explorers

        return getattr(explorers, name)().widget(plot())

    return body


def _instability() -> object:
    import ipywidgets as W

    from . import explorers

    return W.VBox([explorers.contraction().widget(plot()), explorers.descent().widget(plot())])


def _training() -> object:
    import torch

    from ..chapters import training
    from . import explorers

    torch.set_num_threads(1)  # a small grid; one thread is faster than two on a busy 2-core machine
    # Chapter 6's grid, trained once and then read from the cache by every new kernel of the pool
    grid = training.equivalence_grid(training.EquivalenceSetup(), training.K_VALUES, steps=200, cache=True)
    return explorers.equivalence(grid).widget(plot())


def _trainer() -> object:
    from .trainer import trainer

    return trainer().widget(plot())


DASHBOARDS: dict[str, Dashboard] = {
    "recurrent_models": Dashboard(
        "Stability: spectral radius versus spectral norm",
        "Choose the spectral radius and the non-normality of the recurrent matrix W. The eigenvalues "
        "decide the long run, but only a spectral norm below 1 makes every step a contraction, so that "
        "trajectories driven by the same inputs come together.",
        "Chapter 1", _explorer("spectral")),
    "bptt": Dashboard(
        "Gradients through time",
        "How fast does the gradient of the last state with respect to earlier states shrink or grow with "
        "the lag? The spectral norm of W bounds the rate; the spectral radius and non-normality shape it.",
        "Chapter 2", _explorer("gradients")),
    "feedforward": Dashboard(
        "Receptive fields of dilated causal convolutions",
        "Stack causal convolutions and choose the kernel size and the dilations. The receptive field "
        "R = 1 + Σ (K − 1) d grows linearly with depth without dilation and exponentially with doubling.",
        "Chapter 3", _explorer("receptive_field")),
    "truncation": Dashboard(
        "Truncation: how much context does a stable RNN need?",
        "Set the stability constant λ (the spectral norm of W) and the context length k. The error of the "
        "k-truncated model falls like λ^k under the theorem's bound when λ < 1, and truncation fails when λ ≥ 1.",
        "Chapter 5", _explorer("truncation_error")),
    "training": Dashboard(
        "Training equivalence: recurrent versus truncated gradient descent",
        "Gradient descent on a stable recurrent model and on its k-truncated version, from the same "
        "initial weights. Move k: the weight gap after training shrinks geometrically, and Run trains both live.",
        "Chapter 6", _training),
    "instability": Dashboard(
        "When stability fails",
        "Above: a nominally unstable tanh RNN (‖W‖₂ > 1) can still contract along the trajectories its "
        "inputs produce. Below: gradient descent on an unstable scalar model, with and without clipping or projection.",
        "Chapter 7", _instability),
    "in_practice": Dashboard(
        "Train it yourself: unconstrained versus stable",
        "Train an unconstrained and a stable tanh RNN side by side from the same initial weights. Watch the "
        "validation loss and the spectral norm of W: projection holds the stable model at ‖W‖₂ < 1, and the curves show what that costs.",
        "Chapters 4 and 8", _trainer),
}


def _header(title: str, explanation: str):
    import ipywidgets as W

    return W.HTML(f"{STYLE}<h1>{html.escape(title)}</h1><p>{html.escape(explanation)}</p>")


def app(name: str):
    """The dashboard ``name`` (a key of ``DASHBOARDS``) as one ipywidgets container."""
    import ipywidgets as W

    d = DASHBOARDS[check_choice("name", name, DASHBOARDS)]
    page = W.VBox([_header(d.title, d.explanation), d.body()], layout=W.Layout(padding="8px 16px", width="100%"))
    page.add_class("stablernn-dash")
    return page


def index():
    """The landing page: what the dashboards are, with a link to each."""
    import ipywidgets as W

    items = "".join(
        f"<li><a href='{name}.ipynb'><b>{html.escape(d.title)}</b></a> ({d.chapter}). "
        f"{html.escape(d.explanation)}</li>" for name, d in DASHBOARDS.items())
    page = W.HTML(
        f"{STYLE}<h1>Do Recurrent Models Need to Be Recurrent? Dashboards</h1>"
        "<p>Live versions of the book's explorers, to present or to play with. Every control is a slider "
        "or a menu: use the mouse, or focus a control with Tab and move it with the arrow keys.</p>"
        f"<ul>{items}</ul>")
    page.add_class("stablernn-dash")
    return page


def show_dashboard(name: str) -> None:
    """Display the dashboard ``name`` (or the landing page for ``"index"``) in Voilà."""
    from IPython.display import display

    display(index() if name == "index" else app(name))
