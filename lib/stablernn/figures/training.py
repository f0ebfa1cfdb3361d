"""Figures of Chapter 6: the weight and prediction gaps between recurrent and truncated training."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .theme import BLUE, GREY, ORANGE, VERMILLION, apply_frame, log_clip, pin_header, themed

SCHEDULE_NAMES = {"decaying": "step α/i", "constant": "constant step α"}
SCHEDULE_COLOURS = (BLUE, VERMILLION)
GAP_RANGE = (-12, 0.5)  # decades shown on the gap axes (the k = 32 gaps reach 1e-11)


def equivalence_frame(d: Any) -> dict:
    """What the equivalence explorer's figure changes with k (and with a live re-run): every trace, the
    title, both panel titles and the ticks that follow N and the k grid."""
    gaps = lambda y: log_clip(y, 1e-13, 10)  # noqa: E731
    data = [part for s in range(len(d.schedules))
            for part in ({"x": d.logged, "y": gaps(d.weight_gap[s])}, {"x": d.logged, "y": gaps(d.pred_gap[s])})]
    data += [part for s in range(len(d.schedules))
             for part in ({"x": d.k_values, "y": gaps(d.final_weight[s])}, {"x": d.k_values, "y": gaps(d.final_pred[s])})]
    data += [{"x": d.k_values, "y": gaps(d.rate), "name": f"rate λ<sup>k</sup>, λ = {d.lam:g}"},
             {"x": [d.k] * len(d.current), "y": gaps(d.current)}]
    title = (f"Recurrent vs {d.k}-truncated training<br><sup>weight gap ‖w<sub>rec</sub> − w<sub>trunc</sub>‖₂ "
             f"{d.current[0]:.1e} (α/i), {d.current[2]:.1e} (constant) after {d.steps} steps</sup>")
    layout = {"title.text": title, "annotations[0].text": f"gaps against step N, k = {d.k}",
              "annotations[1].text": f"gaps after N = {d.steps} steps, against k",
              "xaxis.tickvals": [v for v in (1, 2, 5, 10, 20, 50, 100, 200, 500) if v <= d.steps],
              "xaxis2.tickvals": list(d.k_values), "xaxis2.range": [0, float(d.k_values[-1]) + 1]}
    return {"data": data, "layout": layout}


def equivalence_figure(d: Any) -> go.Figure:
    """Two panels: gaps against the step N for the current k; final gaps against k, with ``lam^k``.

    ``d`` is a :class:`stablernn.chapters.training.EquivalenceData`. Traces: 4 on the left
    (weight and prediction gap per schedule), 4 final-gap curves, the rate ``lam^k`` and the
    current-k markers on the right: always 10, their data from :func:`equivalence_frame`.
    """
    frame = equivalence_frame(d)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.11,
                        subplot_titles=(frame["layout"]["annotations[0].text"], frame["layout"]["annotations[1].text"]))
    for s, name in enumerate(d.schedules):
        colour, label = SCHEDULE_COLOURS[s], SCHEDULE_NAMES[name]
        fig.add_trace(go.Scatter(mode="lines", line=dict(color=colour, width=2.5), name=f"weight gap, {label}",
                                 legendgroup=name), 1, 1)
        fig.add_trace(go.Scatter(mode="lines", line=dict(color=colour, dash="dot"), name=f"prediction gap, {label}",
                                 legendgroup=name), 1, 1)
    for s, name in enumerate(d.schedules):
        colour = SCHEDULE_COLOURS[s]
        fig.add_trace(go.Scatter(mode="lines+markers", line=dict(color=colour, width=2.5), marker=dict(size=6),
                                 showlegend=False, legendgroup=name,
                                 hovertemplate="k %{x}: weight gap %{y:.2e}<extra></extra>"), 1, 2)
        fig.add_trace(go.Scatter(mode="lines", line=dict(color=colour, dash="dot"), showlegend=False, legendgroup=name,
                                 hovertemplate="k %{x}: prediction gap %{y:.2e}<extra></extra>"), 1, 2)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=GREY, dash="dash")), 1, 2)
    fig.add_trace(go.Scatter(mode="markers", marker=dict(color=ORANGE, size=13, symbol="circle-open", line=dict(width=3)),
                             name="current k", hovertemplate="k %{x}: %{y:.2e}<extra></extra>"), 1, 2)
    fig.update_xaxes(type="log", title_text="gradient step N", row=1, col=1)
    # k on a linear axis: the geometric decay lam^k the text describes is then a straight line
    fig.update_xaxes(title_text="truncation length k", row=1, col=2)
    fig.update_yaxes(type="log", range=list(GAP_RANGE), exponentformat="power", title_text="gap", row=1, col=1)
    fig.update_yaxes(type="log", range=list(GAP_RANGE), exponentformat="power", row=1, col=2)
    themed(fig, title=frame["layout"]["title.text"], height=580)
    pin_header(fig, title_px=20, legend_px=72, top=195)
    fig.update_layout(title_font_size=15)
    fig.update_annotations(font_size=13)
    return apply_frame(fig, frame)


def gradient_gap_figure(k_values: np.ndarray, grad_gap: np.ndarray, lam: float) -> go.Figure:
    """The gradient gap at the initial weights against k, beside ``c k lam^k`` through the first point.
    """
    k = np.asarray(k_values, dtype=float)
    ref = grad_gap[0] * (k * lam**k) / (k[0] * lam ** k[0])
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=k, y=log_clip(grad_gap, 1e-16, 10), mode="lines+markers", line=dict(color=BLUE, width=2.5),
                             name="‖∇L(w₀) − ∇L<sub>k</sub>(w₀)‖₂ (measured)"))
    fig.add_trace(go.Scatter(x=k, y=ref, mode="lines", line=dict(color=GREY, dash="dash"),
                             name=f"c · k λ<sup>k</sup>, λ = {lam:g}"))
    fig.update_xaxes(tickvals=list(k), title_text="truncation length k", range=[0, float(k[-1]) + 1])
    fig.update_yaxes(type="log", exponentformat="power", dtick=2, title_text="gradient gap")
    themed(fig, title="Gradient gap at the same weights", height=400)
    fig.update_layout(legend=dict(x=0.02, y=0.05, yanchor="bottom"))
    return fig


def required_k_figure(steps: np.ndarray, k_required: dict, lam: float, eps: float) -> go.Figure:
    """The k that the weight-gap bound asks for, against the number of steps N, one line per schedule.

    ``k_required`` maps a schedule name ("decaying", "constant") to an array like ``steps``.
    """
    fig = go.Figure()
    for s, (name, ks) in enumerate(k_required.items()):
        fig.add_trace(go.Scatter(x=steps, y=ks, mode="lines+markers", line=dict(color=SCHEDULE_COLOURS[s], width=2.5),
                                 name=SCHEDULE_NAMES[name]))
    fig.update_xaxes(type="log", exponentformat="power", dtick=1, title_text="gradient steps N")
    fig.update_yaxes(type="log", exponentformat="power", dtick=1, title_text="k the bound asks for")
    themed(fig, title=f"k for a weight gap ≤ {eps:g} (λ = {lam:g})", height=400)
    fig.update_layout(legend=dict(x=0.02, y=0.98))
    return fig
