"""Sphinx extension of the book: load plotly.js and the widget manager only on pages that use them.

plotly.js (``page_scripts_figure_js``: the bundle and the book's slider script) is added to a page
whose rendered body draws a plotly figure (the book's renderer emits ``Plotly.newPlot(`` inline
scripts); the ipywidgets HTML manager (myst-nb's ``nb_ipywidgets_js``: require.js and the manager)
is dropped from a page that keeps no widget state. Every other page, the API reference or the
bibliography, downloads neither.

plotly.js must come before require.js (priority below 500): loaded after it, the bundle registers
as an AMD module and defines no global ``Plotly`` for the figures' inline scripts.
"""

from __future__ import annotations

import posixpath

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
FIGURE = "Plotly.newPlot("


def _static(path: str) -> str:
    """The name Sphinx gives a script added with ``app.add_js_file(path)``."""
    return path if "://" in path else posixpath.join("_static", path)


def _page_scripts(app, pagename, templatename, context, doctree) -> None:
    body = context.get("body", "")
    scripts = context.get("script_files")
    if scripts is None:
        return
    if FIGURE in body:
        for path, attrs in app.config.page_scripts_figure_js:
            app.add_js_file(path, **attrs)  # during html-page-context: this page only
    keeps_state = WIDGET_STATE in body or any(
        getattr(js, "attributes", {}).get("type") == WIDGET_STATE for js in scripts)
    if not keeps_state:
        manager = {_static(path) for path in app.config.nb_ipywidgets_js}
        scripts[:] = [js for js in scripts if getattr(js, "filename", js) not in manager]


def setup(app):
    # [path under html_static_path, attributes]: added to a page with a plotly figure
    app.add_config_value("page_scripts_figure_js", [], "html")
    # Late: after myst-nb (priority 500) has added a notebook's scripts, so they can be dropped.
    app.connect("html-page-context", _page_scripts, priority=800)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
