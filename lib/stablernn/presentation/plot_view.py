"""The dashboards' plot: a small widget that draws with plotly.js's cartesian bundle.

``PlotView`` stands in for plotly's ``FigureWidget`` in the Voilà dashboards
(``presentation.dashboards``). ``FigureWidget``'s front end is plotly's JupyterLab extension, a
4.6 MB chunk that the browser parses before the first plot appears; this widget's front end
(``plot_view.js``, through anywidget) draws with the same 1.4 MB cartesian bundle of plotly.js that
the book's site loads, served by the dashboards' Voilà template (``static/plotly-cartesian.min.js``,
fetched into ``_assets/`` by ``scripts/fetch_assets.py``). Where that file is not served (JupyterLab,
or a checkout without ``_assets/``) the front end asks the kernel for plotly's own full bundle.

The explorer's live step (``explorer.send_frame``) reads the figure this view holds (``_data``,
``_layout``: plain dictionaries, as drawn) and calls ``plotly_update`` with what changed, as it does
for a ``FigureWidget``; ``react`` redraws a whole new figure.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import plotly
import plotly.graph_objects as go
import plotly.io as pio
import traitlets

# plotly's full bundle, for a front end the cartesian bundle was not served to
_FULL_BUNDLE = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


class PlotView(anywidget.AnyWidget):
    """One plotly figure in the browser, updated by messages that carry only what changed."""

    _esm = Path(__file__).with_name("plot_view.js")
    figure = traitlets.Dict().tag(sync=True)  # the figure as first drawn; later changes go as messages

    def __init__(self, fig: go.Figure, **kwargs: Any) -> None:
        if not isinstance(fig, go.Figure):
            raise TypeError(f"PlotView needs a plotly go.Figure, got {type(fig).__name__}")
        plain = _plain_figure(fig)
        super().__init__(figure=plain, **kwargs)
        # as wide as its container: plotly sizes a responsive plot to its element, so an element as wide
        # as its content could keep the width 0 it had before layout (the first plot of Chapter 7's
        # dashboard drew nothing)
        self.layout.width = "100%"
        self._data: list[dict] = plain["data"]
        self._layout: dict = plain["layout"]
        self._changed = False  # a view opened later is sent the figure as it is now
        self.on_msg(self._on_front_end)

    def current(self) -> dict:
        """The figure as it is drawn now: ``{"data": [...], "layout": {...}}`` (plain values)."""
        return {"data": self._data, "layout": self._layout}

    def plotly_update(self, restyle_data: dict, relayout_data: dict, trace_indexes: list[int]) -> None:
        """Set trace values (``restyle_data``: path -> one value per trace in ``trace_indexes``, or
        plotly's ``Undefined`` to leave a trace alone) and layout values, and send them in one message."""
        from plotly.basedatatypes import Undefined

        restyle: dict[str, list] = {}
        for path, values in restyle_data.items():
            sent = []
            for index, value in zip(trace_indexes, values):
                if value is Undefined:
                    sent.append(None)  # the front end leaves this trace's value as it is
                    continue
                value = _plain(value)
                _set_path(self._data[index], path, value)
                sent.append(value)
            restyle[path] = sent
        relayout = {path: _plain(value) for path, value in relayout_data.items()}
        for path, value in relayout.items():
            _set_path(self._layout, path, value)
        self._changed = True
        self.send({"method": "update", "restyle": restyle, "relayout": relayout, "traces": list(trace_indexes)})

    def react(self, fig: go.Figure) -> None:
        """Draw a whole new figure (plotly.js's ``react`` redraws only what differs)."""
        plain = _plain_figure(fig)
        self._data, self._layout, self._changed = plain["data"], plain["layout"], True
        self.send({"method": "react", "figure": plain})

    def _on_front_end(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        if content.get("ask") == "figure" and self._changed:
            self.send({"method": "react", "figure": self.current()})
        elif content.get("ask") == "plotly":
            self.send({"method": "plotly"}, buffers=[_FULL_BUNDLE.read_bytes()])


def _plain_figure(fig: go.Figure) -> dict:
    """The figure as JSON-ready dictionaries (numpy arrays as lists, non-finite numbers as gaps)."""
    plain = json.loads(pio.to_json(fig, validate=False, engine="json"))
    return {"data": plain.get("data", []), "layout": plain.get("layout", {})}


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return np.where(np.isfinite(value), value, None).tolist() if value.dtype.kind == "f" else value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _set_path(node: dict, path: str, value: Any) -> None:
    """Set a plotly path (``"marker.color"``, ``"annotations[1].text"``) in a figure's dictionaries."""
    parts = path.replace("]", "").replace("[", ".").split(".")
    for part, following in zip(parts, parts[1:]):
        if isinstance(node, list):
            index = int(part)
            while len(node) <= index:
                node.append({})
            node = node[index]
        else:
            node = node.setdefault(part, [] if following.isdigit() else {})
    last = parts[-1]
    if isinstance(node, list):
        index = int(last)
        while len(node) <= index:
            node.append({})
        node[index] = value
    else:
        node[last] = value
