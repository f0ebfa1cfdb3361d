"""Voilà dashboards: full-screen apps composed from the book's explorers, with no code showing.

Each ``*_app()`` returns one ipywidgets container: a title, a two-sentence explanation, and the
explorer's live face (controls beside the plots). ``notebooks/dashboards/*.ipynb`` call one of them.
"""

from __future__ import annotations

import html

STYLE = """
<style>
  .stablernn-dash h1 { font-size: 1.9rem; margin: 0.2rem 0 0.4rem 0; }
  .stablernn-dash p { font-size: 1.1rem; max-width: 62rem; line-height: 1.45; margin: 0 0 0.8rem 0; }
  .stablernn-dash .widget-label, .stablernn-dash .widget-readout { font-size: 1rem; }
</style>
"""


def app(title: str, explanation: str, body):
    """A dashboard page: title, explanation and one widget, laid out for a projector or a laptop."""
    import ipywidgets as W

    header = W.HTML(f"{STYLE}<h1>{html.escape(title)}</h1><p>{html.escape(explanation)}</p>")
    page = W.VBox([header, body], layout=W.Layout(padding="8px 16px", width="100%"))
    page.add_class("stablernn-dash")
    return page


def stability_app():
    """Stability dashboard: the spectral-radius explorer of Chapter 1."""
    from .explorers import spectral

    return app(
        "Stability: spectral radius versus spectral norm",
        "Choose the spectral radius and the non-normality of the recurrent matrix W. The eigenvalues "
        "decide the long run, but only a spectral norm below 1 makes every step a contraction, so "
        "that trajectories driven by the same inputs come together.",
        spectral.explorer().widget(),
    )
