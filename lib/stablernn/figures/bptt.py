"""Figures of Chapter 2 (backpropagation through time): gradient size against lag, the truncation
windows, their memory, and which lags truncated BPTT learns."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from .theme import BLUE, GREY, ORANGE, SKY, VERMILLION, apply_frame, legend_above_plot, log_clip, themed

LOSS_FLOOR = 1e-4  # losses below are drawn at the floor of the log axis
LOG_RANGE = (-8, 8)  # visible decades; values beyond are clipped off-screen


def gradient_frame(d: Any) -> dict:
    """What the gradient explorer's figure changes with its parameters: the four curves, the title and
    the lag axis's range."""
    curves = (d.linear, d.rnn, d.norm_rate, d.radius_rate)
    title = (f"Gradient size ‖∂h<sub>T</sub>/∂h<sub>T−l</sub>‖₂ against the lag l<br><sup>spectral radius "
             f"ρ(W) = {d.radius:.2f}, spectral norm ‖W‖₂ = {d.spectral_norm:.3f}</sup>")
    return {"data": [{"x": d.lags, "y": log_clip(y)} for y in curves],
            "layout": {"title.text": title, "xaxis.range": [0, float(d.lags[-1])]}}


def gradient_figure(d: Any) -> go.Figure:
    """``||dh_T/dh_{T-l}||_2`` against the lag l (log axis) with the rates ``||W||_2^l`` and ``rho^l``.

    ``d`` is a :class:`stablernn.chapters.bptt.GradientData`; the data come from :func:`gradient_frame`.
    """
    frame = gradient_frame(d)
    fig = go.Figure()
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=BLUE, width=2.5), name="linear system: ‖W<sup>l</sup>‖₂"))
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=VERMILLION, width=2.5),
                             name="tanh RNN: ‖∂h<sub>T</sub>/∂h<sub>T−l</sub>‖₂"))
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=ORANGE, dash="dash"), name="‖W‖₂<sup>l</sup> (spectral norm)"))
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=GREY, dash="dot"), name="ρ(W)<sup>l</sup> (spectral radius)"))
    fig.update_xaxes(title_text="lag l (steps back from T)")
    fig.update_yaxes(title_text="gradient size (log scale)", type="log", range=list(LOG_RANGE),
                     exponentformat="power")
    fig.add_hline(y=1.0, line=dict(color="#cccccc", width=1))  # a reference, unlike the dotted ρ(W)^l
    themed(fig, title=frame["layout"]["title.text"], height=500)
    return apply_frame(legend_above_plot(fig, top=125), frame)


def context_figure(d: Any) -> go.Figure:
    """Test loss against the task's lag L after truncated BPTT with window k, with the chance level.

    ``d`` is a :class:`stablernn.chapters.bptt.ContextData`.
    """
    lags = d.lags.astype(float)
    loss = np.maximum(d.loss, LOSS_FLOOR)
    fig = go.Figure()
    fig.add_vrect(x0=lags.min() - 0.5, x1=d.k - 0.5, fillcolor=SKY, opacity=0.15, line_width=0)
    fig.add_trace(go.Scatter(x=lags, y=loss, mode="lines", line=dict(color=GREY, width=1), showlegend=False,
                             hoverinfo="skip"))
    for learned, colour, symbol, name in ((True, BLUE, "circle", "learned"),
                                          (False, VERMILLION, "x", "not learned")):
        y = np.where(d.learned == learned, loss, np.nan)
        fig.add_trace(go.Scatter(x=lags, y=[None if np.isnan(v) else float(v) for v in y], mode="markers",
                                 marker=dict(color=colour, size=13, symbol=symbol), name=name,
                                 hovertemplate="lag %{x}: test loss %{y:.3g}<extra></extra>"))
    edges = [lags.min() - 0.5, lags.max() + 0.5]
    fig.add_trace(go.Scatter(x=edges, y=[d.chance] * 2, mode="lines", line=dict(color=VERMILLION, dash="dash"),
                             name="chance (forgetting)", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=edges, y=[d.threshold] * 2, mode="lines", line=dict(color=GREY, dash="dot"),
                             name="learned below this loss", hoverinfo="skip"))
    fig.update_xaxes(title_text="lag L of the task (steps back)", dtick=1, range=[lags.min() - 0.5, lags.max() + 0.5])
    fig.update_yaxes(title_text="test mean squared error (log)", type="log", range=[-4.2, 0.6],
                     exponentformat="power", dtick=1)  # decades only: no bare "2" and "5" between them
    title = (f"Test loss after truncated BPTT with window k = {d.k}<br><sup>gradients span lags up to "
             f"k − 1 = {d.k - 1} (shaded); learned: L = {', '.join(str(int(v)) for v in lags[d.learned]) or 'none'}</sup>")
    themed(fig, title=title, height=470)
    return legend_above_plot(fig, top=120)


def reach_figure(reach: np.ndarray, k: int) -> go.Figure:
    """Which inputs x_s each output y_t depends on, and which of them its gradient reaches.

    ``reach`` is the (T, T) array of ``chapters.bptt.gradient_reach`` (0: no dependence,
    1: forward dependence only, 2: gradient reaches).
    """
    T = reach.shape[0]
    steps = np.arange(1, T + 1)
    colours = [[0.0, "#ffffff"], [1 / 3, "#ffffff"], [1 / 3, "#c8d9e6"], [2 / 3, "#c8d9e6"],
               [2 / 3, BLUE], [1.0, BLUE]]
    fig = go.Figure(go.Heatmap(
        z=reach, x=steps, y=steps, zmin=-0.5, zmax=2.5, colorscale=colours, xgap=2, ygap=2,
        colorbar=dict(tickvals=[0, 1, 2], ticktext=["future: no dependence", "forward pass only",
                                                     "gradient flows"], len=0.8),
        hovertemplate="output y<sub>%{y}</sub>, input x<sub>%{x}</sub><extra></extra>"))
    for start in range(k, T, k):  # window boundaries: the state is carried but detached here
        fig.add_hline(y=start + 0.5, line=dict(color=VERMILLION, width=2))
    fig.update_xaxes(title_text="input step s", dtick=1, constrain="domain")
    fig.update_yaxes(title_text="output step t", dtick=1, autorange="reversed", scaleanchor="x")
    return themed(fig, title=f"Which inputs x<sub>s</sub> reach output y<sub>t</sub>, truncated BPTT with k = {k}"
                             "<br><sup>red lines: window boundaries, where the carried state is detached</sup>",
                  height=490)


def memory_figure(ks: np.ndarray, bytes_saved: np.ndarray) -> go.Figure:
    """Peak memory autograd keeps for the backward pass against the window length k."""
    ks = np.asarray(ks, dtype=float)
    kib = np.asarray(bytes_saved, dtype=float) / 1024
    fig = go.Figure(go.Scatter(x=ks, y=kib, mode="lines+markers", line=dict(color=BLUE, width=2.5),
                               marker=dict(size=9), name="measured",
                               hovertemplate="k = %{x}: %{y:.0f} KiB<extra></extra>"))
    fig.update_xaxes(title_text="window length k (steps)")
    fig.update_yaxes(title_text="saved tensors for backward (KiB)", rangemode="tozero")
    return themed(fig, title="Memory of truncated BPTT grows linearly with the window length k", height=380)
