"""Figures of Chapter 5 (stable models are feed-forward): the truncation explorer and the running sum."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .theme import BLUE, GREEN, GREY, ORANGE, PURPLE, SKY, VERMILLION, apply_frame, log_clip, pin_header, power_of_ten, themed

LOG_RANGE = (-7, 1)  # decades on the error axis
_FLOOR = 10.0 ** (LOG_RANGE[0] - 1)  # exact zeros are drawn just below the visible range


def truncation_frame(d: Any) -> dict:
    """What the truncation explorer's figure changes with its parameters: every trace, the title, the
    readout panel's title (it names k), the axes' ranges."""
    ks = d.ks.astype(float)
    # A trace with no number to show keeps its points as NaN (drawn as gaps, kept in the legend): the
    # legend, and with it the plot area, must not change size from one frame to the next.
    bound = log_clip(d.bound, _FLOOR) if len(d.bound) else np.full(len(ks), np.nan)
    show_min = d.min_k_bound is not None and d.min_k_bound <= ks[-1]
    data = [{"x": ks, "y": log_clip(d.state_error, _FLOOR)},
            {"x": ks, "y": log_clip(d.output_error, _FLOOR)},
            {"x": ks, "y": bound},
            {"x": [1, float(ks[-1])], "y": [d.eps, d.eps]},
            {"x": [d.min_k_bound if show_min else 1.0] * 2,
             "y": [10.0 ** LOG_RANGE[0], d.eps] if show_min else [np.nan, np.nan]},
            {"x": [d.k], "y": log_clip([d.error_at_k], _FLOOR)},
            {"x": d.t, "y": d.y_full},
            {"x": d.t, "y": d.y_truncated}]
    # the readouts' own scale (a few tenths for a contraction), symmetric about 0 and rounded
    reach = max(0.05, 1.15 * float(np.nanmax(np.abs(np.concatenate([d.y_full, d.y_truncated])))))
    reach = float(f"{reach:.1g}") if reach < 1 else float(np.ceil(reach * 10) / 10)
    layout = {"title.text": _title(d), "annotations[1].text": f"readouts y<sub>t</sub> = v·h<sub>t</sub>, k = {d.k}",
              "xaxis.range": [0, float(ks[-1]) + 1], "xaxis2.range": [0, float(d.t[-1])],
              "yaxis2.range": [-reach, reach]}
    return {"data": data, "layout": layout}


def truncation_figure(d: Any) -> go.Figure:
    """Two panels: error against k with the bound; readouts of the full and the k-truncated model.

    ``d`` is a :class:`stablernn.chapters.truncation.TruncationData`; the data come from
    :func:`truncation_frame`.
    """
    frame = truncation_frame(d)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1, column_widths=[0.55, 0.45],
                        subplot_titles=("error against the context length k", frame["layout"]["annotations[1].text"]))
    fig.add_trace(go.Scatter(mode="lines", name="measured max ‖h<sub>t</sub> − h<sup>k</sup><sub>t</sub>‖₂",
                             line=dict(color=BLUE, width=3)), 1, 1)
    fig.add_trace(go.Scatter(mode="lines", name="measured readout error", line=dict(color=GREEN, dash="dot")), 1, 1)
    fig.add_trace(go.Scatter(mode="lines", name="bound λ<sup>k</sup> L<sub>x</sub>B<sub>x</sub>/(1 − λ)",
                             line=dict(color=VERMILLION, dash="dash")), 1, 1)
    fig.add_trace(go.Scatter(mode="lines", name="accuracy ε", line=dict(color=GREY, dash="dot", width=1.5)), 1, 1)
    fig.add_trace(go.Scatter(mode="lines", name="smallest k certified for ε", line=dict(color=PURPLE, width=2)), 1, 1)
    fig.add_trace(go.Scatter(mode="markers", name="current k",
                             marker=dict(color=ORANGE, size=13, symbol="diamond", line=dict(color="#222", width=1))), 1, 1)
    fig.add_trace(go.Scatter(mode="lines", name="recurrent model", line=dict(color=BLUE, width=2.5), showlegend=True), 1, 2)
    fig.add_trace(go.Scatter(mode="lines", name="k-truncated model", line=dict(color=SKY, dash="dash", width=2)), 1, 2)
    fig.update_yaxes(type="log", range=list(LOG_RANGE), exponentformat="power", title_text="error", row=1, col=1)
    fig.update_xaxes(title_text="context length k", row=1, col=1)
    fig.update_xaxes(title_text="time step t", row=1, col=2)
    fig.update_yaxes(title_text="y<sub>t</sub>", row=1, col=2)
    themed(fig, title=frame["layout"]["title.text"], height=540)
    pin_header(fig, title_px=14, legend_px=62, top=145, b=60)
    return apply_frame(fig, frame)


def _title(d: Any) -> str:
    eps = f"ε = {power_of_ten(d.eps)}"
    measured = (f"measured error ≤ ε from k = {d.min_k_measured}" if d.min_k_measured is not None
                else f"measured error above ε for every k ≤ {int(d.ks[-1])}")
    if d.bound_at_k is None:
        head = (f"λ = ‖W‖₂ = {d.lam:.2f} ≥ 1: not a contraction, no bound; "
                f"error at k = {d.k}: {d.error_at_k:.2g}")
        return f"{head}<br><sup>{eps}: {measured}</sup>"
    head = (f"λ = ‖W‖₂ = {d.lam:.2f}, k = {d.k}: measured error {d.error_at_k:.2g} ≤ bound {d.bound_at_k:.2g}")
    return f"{head}<br><sup>{eps}: the bound certifies k ≥ {d.min_k_bound}; {measured}</sup>"


def running_sum_figure(t: np.ndarray, errors: np.ndarray, ks: Sequence[int], stable_errors: np.ndarray,
                       stable_lam: float) -> go.Figure:
    """Error of the k-truncated running sum against t, for several k, beside a stable leaky sum."""
    colors = (BLUE, GREEN, ORANGE, PURPLE)
    fig = go.Figure()
    for i, k in enumerate(ks):
        fig.add_trace(go.Scatter(x=t, y=errors[i], mode="lines", name=f"running sum, k = {k}",
                                 line=dict(color=colors[i % len(colors)], width=2.5)))
    fig.add_trace(go.Scatter(x=t, y=stable_errors, mode="lines", name=f"leaky sum λ = {stable_lam:g}, k = {ks[0]}",
                             line=dict(color=VERMILLION, dash="dash")))
    fig.update_xaxes(title_text="time step t")
    fig.update_yaxes(title_text="|h<sub>t</sub> − h<sup>k</sup><sub>t</sub>|", rangemode="tozero")
    themed(fig, title="The running sum h<sub>t</sub> = h<sub>t−1</sub> + x<sub>t</sub>: no truncation keeps up", height=400)
    fig.update_layout(legend=dict(x=0.02, y=0.98))
    return fig
