"""Showing figures, explorers and chapter sections in the right face for where the notebook runs.

While the book is being built (``STABLERNN_STATIC=1``, set by the build command) figures are emitted
as small HTML snippets that call the page's one shared copy of plotly.js, and explorers show their
static face (frames and sliders, interactive with no kernel). In a live kernel (JupyterLab, Binder,
Voilà) figures use plotly's own renderer and explorers show their ipywidgets face; on Colab, whose own
ipywidgets the chapters' Colab cell leaves as it is (the live face requires ipywidgets >= 8.1),
explorers show their static face under a one-line note.
``show_section`` shows what a chapter module returns: it glues the named numbers the prose quotes,
prints its table and shows its figure. Every chapter calls these two.
"""

from __future__ import annotations

import html
import json
import re
import sys
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from ..progress import STATIC_ENV, building_book  # noqa: F401  (STATIC_ENV: the variable, for callers)

RENDERER = "stablernn_book"


def static_mode() -> bool:
    """True while the book is being built (the build command sets ``STABLERNN_STATIC=1``)."""
    return building_book()


#: Printed above an explorer's static face on Colab.
COLAB_NOTE = ("On Colab this explorer shows its static face (the same values, precomputed for every slider "
              "position): its live face requires ipywidgets >= 8.1, and the first cell keeps Colab's own.")


def on_colab() -> bool:
    """True in a Colab kernel (Colab imports ``google.colab`` before any cell runs)."""
    return "google.colab" in sys.modules


class BookRenderer(pio.base_renderers.MimetypeRenderer):
    """Plotly renderer whose ``text/html`` omits plotly.js: the page loads one shared copy.

    The bundle also holds the figure as plotly's own mimetype, which the site ignores and JupyterLab
    draws: the executed notebooks offered for download show their figures there without a re-run.
    """

    def to_mimebundle(self, fig_dict: dict) -> dict:
        layout = fig_dict.get("layout", {})
        height = layout.get("height") or 450
        div = pio.to_html(
            fig_dict,
            include_plotlyjs=False,
            full_html=False,
            default_width="100%",
            default_height=f"{int(height)}px",
            config={"responsive": True, "displaylogo": False},
            validate=False,
            auto_play=False,  # frames are parameter values, not an animation
        )
        # A figure (not an image: an explorer's sliders are controls inside it) named by its title;
        # the page script figure-labels.js links the takeaway sentence below it as its description.
        label = html.escape(figure_label(layout), quote=True)
        div = div.replace('class="plotly-graph-div"',
                          f'class="plotly-graph-div" role="figure" aria-label="{label}"', 1)
        return {"text/html": div, "application/vnd.plotly.v1+json": json.loads(pio.to_json(fig_dict, validate=False))}


def figure_label(layout: dict) -> str:
    """A figure's accessible name: its title as plain text (a ``<br>`` becomes a dash), else "Figure"."""
    title = layout.get("title") or {}
    text = (title.get("text") if isinstance(title, dict) else str(title)) or ""
    text = re.sub(r"<br\s*/?>", " — ", text, flags=re.I)
    text = html.unescape(re.sub(r"</?[a-zA-Z][^<>]*>", "", text))  # tags only: "λ < 1" stays
    return " ".join(text.split()) or "Figure"


def register_renderer() -> None:
    """Register the book renderer with plotly (idempotent) and make it the default in static mode."""
    if RENDERER not in pio.renderers:
        pio.renderers[RENDERER] = BookRenderer()
    if static_mode():
        pio.renderers.default = RENDERER


def show(obj: Any) -> None:
    """Show a plotly figure or an explorer in the face that fits the current environment."""
    from IPython.display import display

    register_renderer()
    if hasattr(obj, "static_figure") and hasattr(obj, "widget"):
        if static_mode():
            obj.static_figure().show(renderer=RENDERER)
        elif on_colab():
            print(COLAB_NOTE)
            obj.static_figure().show()
        else:
            display(obj.widget())
    elif isinstance(obj, go.Figure):
        obj.show(renderer=RENDERER if static_mode() else None)
    else:
        raise TypeError(f"show() takes a plotly Figure or an explorer, got {type(obj).__name__}")


def show_section(section: Any) -> None:
    """Glue a chapter :class:`~stablernn.chapters.Section`'s values for the prose, then show its table,
    object and figure (in that order)."""
    from IPython.display import Markdown, display

    from ..chapters import Section

    if not isinstance(section, Section):
        raise TypeError(f"show_section() takes a chapters.Section, got {type(section).__name__}")
    try:
        from myst_nb import glue
    except ImportError:  # Colab or a reader's kernel without the book's build tools: nothing reads glue there
        glue = None
    if glue is not None:
        for name, value in section.values.items():
            glue(name, value, display=False)
        for name, text in section.markdown.items():
            glue(name, Markdown(text), display=False)
    if section.table is not None:
        print(section.table)
    if section.shown is not None:
        display(section.shown)
    if section.figure is not None:
        show(section.figure)
