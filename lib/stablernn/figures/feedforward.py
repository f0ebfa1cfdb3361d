"""Figure of the receptive-field explorer (Chapter 3): a WaveNet-style diagram and an impulse response."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .theme import BLUE, VERMILLION, apply_frame, themed


def receptive_field_frame(d: Any) -> dict:
    """What the receptive-field explorer's figure changes with its parameters: every trace, the title,
    the layer axis (its ticks follow the dilations) and the position axes' range."""
    n_layers = len(d.dilations)
    pos = d.positions
    ex, ey = [], []
    for layer, low, high in d.edges:
        ex += [low, high, None]
        ey += [layer - 1, layer, None]
    data = [{"x": np.tile(pos, n_layers + 1), "y": np.repeat(np.arange(n_layers + 1), pos.size)},
            {"x": ex, "y": ey},
            {"x": [p for layer in d.cone for p in layer], "y": [i for i, layer in enumerate(d.cone) for _ in layer]},
            {"x": [0], "y": [n_layers]},
            {"x": pos, "y": np.round(d.response, 3)}]
    verdict = "agree" if d.formula == d.measured else "DISAGREE"
    title = (f"Receptive field: formula R = {d.formula}, impulse response {d.measured} ({verdict})"
             f"<br><sup>R = 1 + Σ(K−1)d<sub>ℓ</sub> with K = {d.kernel_size}, dilations "
             f"{', '.join(map(str, d.dilations))}</sup>")
    reach = [float(pos[0]) - 0.5, 0.5]
    layout = {"title.text": title, "yaxis.tickvals": list(range(n_layers + 1)),
              "yaxis.ticktext": ["input"] + [f"d={v}" for v in d.dilations], "yaxis.range": [-0.5, n_layers + 0.5],
              "xaxis.range": reach, "xaxis2.range": reach}
    return {"data": data, "layout": layout}


def receptive_field_figure(d: Any) -> go.Figure:
    """Top: nodes per layer and the edges that reach output t. Bottom: the measured impulse response.

    ``d`` is a :class:`stablernn.chapters.feedforward.ReceptiveData`; the data come from
    :func:`receptive_field_frame`.
    """
    frame = receptive_field_frame(d)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28], vertical_spacing=0.06)
    fig.add_trace(go.Scatter(mode="markers", marker=dict(color="#d9d9d9", size=7), hoverinfo="skip", name="units",
                             showlegend=False), 1, 1)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=BLUE, width=1.2), hoverinfo="skip",
                             name="connections to output t", showlegend=False), 1, 1)
    fig.add_trace(go.Scatter(mode="markers", marker=dict(color=BLUE, size=8), name="reach output t",
                             showlegend=False, hovertemplate="layer %{y}, position t%{x:+d}<extra></extra>"), 1, 1)
    fig.add_trace(go.Scatter(mode="markers", marker=dict(color=VERMILLION, size=14, symbol="star"), name="output t",
                             showlegend=False, hoverinfo="skip"), 1, 1)
    fig.add_trace(go.Bar(marker_color=BLUE, name="impulse response", showlegend=False,
                         hovertemplate="impulse at t%{x:+d}: %{y:.3f}<extra></extra>"), 2, 1)
    fig.update_yaxes(title_text="layer", row=1, col=1)
    fig.update_yaxes(title_text="|response|", range=[0, 1.05], row=2, col=1)
    fig.update_xaxes(title_text="input position s − t", row=2, col=1)
    themed(fig, title=frame["layout"]["title.text"], height=520)
    fig.update_layout(margin=dict(t=90), bargap=0.1)
    return apply_frame(fig, frame)
