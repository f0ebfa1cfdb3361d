"""Figure of the side-by-side training dashboard: validation loss and spectral norm per epoch."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .theme import BLUE, GREY, VERMILLION, finite_or_none, pin_header, themed

COLOURS = {"unconstrained": VERMILLION, "stable": BLUE}


def training_figure(history: dict, *, loss_name: str = "validation loss") -> go.Figure:
    """Two panels over epochs: validation loss, and the spectral norm ``||W||_2`` of each model.

    ``history`` maps a model name ("unconstrained", "stable") to a dict of lists ``epoch``,
    ``valid`` and ``norm``.
    """
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=(loss_name, "spectral norm ‖W‖₂"))
    for name in ("unconstrained", "stable"):
        h = history.get(name, {"epoch": [], "valid": [], "norm": []})
        style = dict(color=COLOURS[name], width=2.5, dash="solid" if name == "stable" else "dash")
        fig.add_trace(go.Scatter(x=h["epoch"], y=finite_or_none(h["valid"]), mode="lines+markers",
                                 line=style, name=f"{name} RNN", legendgroup=name), 1, 1)
        fig.add_trace(go.Scatter(x=h["epoch"], y=finite_or_none(h["norm"]), mode="lines+markers",
                                 line=style, name=f"{name} RNN", legendgroup=name, showlegend=False), 1, 2)
    fig.add_hline(y=1.0, line=dict(color=GREY, dash="dot"), row=1, col=2,
                  annotation_text="stability needs ‖W‖₂ < 1", annotation_position="top left")
    fig.update_xaxes(title_text="epoch", rangemode="tozero")
    fig.update_yaxes(rangemode="tozero")
    themed(fig, title="Training an unconstrained and a stable tanh RNN side by side", height=440)
    pin_header(fig, title_px=13, legend_px=53, top=120)
    return fig
