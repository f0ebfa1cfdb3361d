"""Figures of Chapter 7: gradient descent on an unstable model; contraction measured along data."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .theme import BLUE, GREEN, GREY, ORANGE, PURPLE, VERMILLION, apply_frame, log_clip, round_sig, themed


def _gaps(values: np.ndarray, low: float = 1e-12, high: float = 1e12) -> list:
    """Values clipped into [low, high] for a log axis, with ``None`` (a gap) where not finite."""
    arr = np.asarray(values, dtype=float)
    return [float(np.clip(v, low, high)) if np.isfinite(v) else None for v in arr]


def _descent_title(d: Any) -> str:
    if d.diverged_at is not None:
        verdict = f"diverged: the state overflowed at step {d.diverged_at}"
    elif d.converged:
        verdict = f"converged to a = {d.iterates[-1]:.3f}"
    else:
        last = d.iterates[-2:]
        verdict = (f"not converged: a jumps between {last[0]:.3f} and {last[1]:.3f}, "
                   f"|dL/da| ≈ {np.nanmax(d.grads[-2:]):.2g}")
    return f"a₀ = {d.a0:.2f}, remedy: {d.remedy}<br><sup>{verdict}</sup>"


def descent_frame(d: Any) -> dict:
    """What the descent explorer's figure changes with its parameters: every trace and the title."""
    steps = np.arange(len(d.iterates))
    data = [{"x": d.a_grid, "y": _gaps(d.loss_grid, 1e-8, 1e8)},
            {"x": _gaps_lin(d.iterates, 1.3), "y": _gaps(d.losses, 1e-8, 1e8), "marker.color": steps},
            {"x": steps, "y": _gaps_lin(d.iterates, 10)},
            {"x": [0, steps[-1]], "y": [1.0, 1.0]},
            {"x": steps[:-1] + 1, "y": _gaps(d.grads, 1e-8, 1e12)}]
    return {"data": data, "layout": {"title.text": _descent_title(d)}}


def descent_figure(d: Any) -> go.Figure:
    """Three panels: the loss L(a) with the iterates on it, a_i against i, |dL/da| against i (log).

    ``d`` is a :class:`stablernn.chapters.instability.DescentData`; always 5 traces, their data from
    :func:`descent_frame`.
    """
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.1,
                        subplot_titles=("loss L(a), iterates", "iterates a<sub>i</sub>", "|dL/da| (unclipped)"))
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=GREY, width=2), name="L(a)", showlegend=False), 1, 1)
    fig.add_trace(go.Scatter(mode="markers", marker=dict(colorscale="Viridis", size=7), name="iterates",
                             showlegend=False, hovertemplate="a %{x:.3f}<br>L %{y:.2e}<extra></extra>"), 1, 1)
    fig.add_trace(go.Scatter(mode="lines+markers", marker=dict(size=4), line=dict(color=BLUE), name="a_i",
                             showlegend=False), 1, 2)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=VERMILLION, dash="dot"), name="|a| = 1", showlegend=False,
                             hoverinfo="skip"), 1, 2)
    fig.add_trace(go.Scatter(mode="lines+markers", marker=dict(size=4), line=dict(color=ORANGE), name="|dL/da|",
                             showlegend=False), 1, 3)
    fig.update_yaxes(type="log", range=[-8, 8], exponentformat="power", row=1, col=1)
    fig.update_xaxes(range=[-1.0, 1.3], title_text="weight a", row=1, col=1)
    fig.update_yaxes(range=[-1.1, 1.3], row=1, col=2)
    fig.update_xaxes(title_text="step i", row=1, col=2)
    fig.update_yaxes(type="log", range=[-8, 12], exponentformat="power", row=1, col=3)
    fig.update_xaxes(title_text="step i", row=1, col=3)
    themed(fig, title=_descent_title(d), height=430)
    fig.update_layout(margin=dict(t=110))
    fig.update_annotations(font_size=13)
    return apply_frame(fig, descent_frame(d))


def _gaps_lin(values: np.ndarray, cap: float) -> list:
    """Values with ``None`` where not finite or beyond ``±cap`` (they leave the plotted range)."""
    arr = np.asarray(values, dtype=float)
    return [float(v) if np.isfinite(v) and abs(v) <= cap else None for v in arr]


def gradient_growth_figure(T: np.ndarray, derivatives: dict) -> go.Figure:
    """``|dh_T/da|`` against T for several ``a`` (constant inputs), log axis; one trace per ``a``.
    """
    colours = (BLUE, GREEN, ORANGE, VERMILLION, PURPLE)
    fig = go.Figure()
    for (a, values), colour in zip(derivatives.items(), colours):
        fig.add_trace(go.Scatter(x=T, y=round_sig(np.abs(values), 4), mode="lines", line=dict(color=colour, width=2.5),
                                 name=f"a = {a:g}"))
    fig.update_xaxes(title_text="sequence length T")
    fig.update_yaxes(type="log", exponentformat="power", title_text="|dh<sub>T</sub>/da|")
    themed(fig, title="Derivative of the last state with respect to the recurrent weight, inputs x<sub>t</sub> = 1",
           height=400)
    fig.update_layout(legend=dict(x=0.02, y=0.98))
    return fig


def contraction_frame(d: Any) -> dict:
    """What the contraction explorer's figure changes with its parameters: every trace, the title and
    the ranges that follow ‖W‖₂."""
    top = max(1.6, 1.1 * d.norm)
    steps = np.arange(len(d.distance))
    # One-step factors multiply: their product bounds how much a small perturbation can grow.
    product = d.distance[0] * np.cumprod(np.concatenate([[1.0], d.factors[0]]))
    data = [*({"x": d.t, "y": d.factors[i]} for i in range(3)),
            {"x": [1, d.t[-1]], "y": [1.0, 1.0]},
            {"x": [1, d.t[-1]], "y": [d.norm, d.norm]},
            {"x": d.quantiles, "y": d.probabilities},
            {"x": [1.0, 1.0], "y": [0.0, 1.0]},
            {"x": steps, "y": log_clip(d.distance, 1e-12, 10)},
            {"x": steps, "y": log_clip(product, 1e-12, 1e3)}]
    title = (f"‖W‖₂ = {d.norm:.2f}, input scale σ = {d.input_scale:.1f}: λ̂<sub>t</sub> < 1 at "
             f"{100 * d.fraction_below:.0f}% of steps<br><sup>geometric mean of λ̂<sub>t</sub>: {d.mean_rate:.2f}"
             f" ({'contracting on average' if d.mean_rate < 1 else 'not contracting on average'})</sup>")
    return {"data": data, "layout": {"title.text": title, "yaxis.range": [0, top], "xaxis2.range": [0, top]}}


def contraction_figure(d: Any) -> go.Figure:
    """Three panels: lambda_hat_t along trajectories, their distribution, distance of two trajectories.

    ``d`` is a :class:`stablernn.chapters.instability.ContractionData`; always 9 traces, their data
    from :func:`contraction_frame`.
    """
    frame = contraction_frame(d)
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.1,
                        subplot_titles=("λ̂<sub>t</sub>, 3 sequences", "cumulative distribution of λ̂<sub>t</sub>",
                                        "‖h<sub>t</sub> − h′<sub>t</sub>‖, ∏ λ̂<sub>s</sub> (dashed)"))
    for i, colour in zip(range(3), (BLUE, GREEN, PURPLE)):
        fig.add_trace(go.Scatter(mode="lines", line=dict(color=colour, width=1.5), name=f"sequence {i + 1}",
                                 showlegend=False), 1, 1)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=VERMILLION, dash="dot"), name="λ̂ = 1", showlegend=False,
                             hoverinfo="skip"), 1, 1)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=GREY, dash="dash"), name="‖W‖₂", showlegend=False,
                             hoverinfo="skip"), 1, 1)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=BLUE, width=2.5, shape="hv"),
                             name="fraction of steps with λ̂ ≤ x", showlegend=False), 1, 2)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=VERMILLION, dash="dot"), name="λ̂ = 1", showlegend=False,
                             hoverinfo="skip"), 1, 2)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=BLUE, width=2), name="distance", showlegend=False), 1, 3)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=GREY, dash="dash"), name="∏ λ̂ (sequence 1)",
                             showlegend=False), 1, 3)
    fig.update_yaxes(title_text="λ̂<sub>t</sub>", row=1, col=1)
    fig.update_xaxes(title_text="time step t", row=1, col=1)
    fig.update_xaxes(title_text="λ̂", row=1, col=2)
    fig.update_yaxes(range=[0, 1.02], title_text="fraction of steps with λ̂<sub>t</sub> ≤ λ̂", row=1, col=2)
    fig.update_yaxes(type="log", range=[-12, 3], exponentformat="power", row=1, col=3)
    fig.update_xaxes(title_text="time step t", row=1, col=3)
    themed(fig, title=frame["layout"]["title.text"], height=430)
    fig.update_layout(margin=dict(t=110))
    fig.update_annotations(font_size=13)
    return apply_frame(fig, frame)


def step_size_figure(d: Any) -> go.Figure:
    """Two panels: |L''(a)| against T (log) with the predicted growth; |dL/da| of clipped descent from
    a = 1.2 against the step, constant step against steps alpha/i (log-log).

    ``d`` is a :class:`stablernn.chapters.instability.StepSizeData`.
    """
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=("curvature |L''(a)| against T", "|dL/da|, clipped descent from a₀ = 1.2"))
    colours = (BLUE, ORANGE, VERMILLION)
    for a, curv, pred, colour in zip(d.weights, d.curvature, d.predicted, colours):
        fig.add_trace(go.Scatter(x=d.T, y=_gaps(round_sig(np.abs(curv), 3), 1e-2, 1e40), mode="lines+markers",
                                 marker=dict(size=5), line=dict(color=colour, width=2), name=f"a = {a:g}"), 1, 1)
        if np.any(np.isfinite(pred)):
            fig.add_trace(go.Scatter(x=d.T, y=_gaps(round_sig(pred, 3), 1e-2, 1e40), mode="lines",
                                     line=dict(color=colour, dash="dash", width=1.5),
                                     name=f"4C²T a²ᵀ/(a²−1), a = {a:g}"), 1, 1)
    fig.add_trace(go.Scatter(x=d.steps, y=_gaps(round_sig(d.grad_fixed, 3), 1e-12, 1e8), mode="lines",
                             line=dict(color=GREY, width=2), name="constant step 0.01"), 1, 2)
    fig.add_trace(go.Scatter(x=d.steps, y=_gaps(round_sig(d.grad_decay, 3), 1e-12, 1e8), mode="lines",
                             line=dict(color=GREEN, width=2.5), name="steps 0.01 / i"), 1, 2)
    fig.update_xaxes(title_text="sequence length T", row=1, col=1)
    fig.update_yaxes(type="log", exponentformat="power", title_text="|L''(a)|", row=1, col=1)
    fig.update_xaxes(type="log", exponentformat="power", title_text="step i", row=1, col=2)
    fig.update_yaxes(type="log", exponentformat="power", title_text="|dL/da|", row=1, col=2)
    themed(fig, title="The loss's curvature grows like T a<sup>2T</sup><br><sup>a fixed step overshoots, "
                      "decaying steps settle</sup>", height=540)
    fig.update_layout(legend=dict(orientation="h", x=0.0, y=-0.22, yanchor="top"), margin=dict(t=120, b=150))
    return fig
