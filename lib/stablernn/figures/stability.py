"""Figures of Chapter 4 (stability): the non-normal transient explorer, gradient bounds, the LSTM
contraction check, singular values before and after projection, and the cost of SVD and power iteration."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .theme import BLACK, BLUE, GREEN, GREY, ORANGE, VERMILLION, apply_frame, log_clip, log_ticks, pin_header, themed

LOG_RANGE = (-4, 3)  # decades shown on the explorer's log axes


def _point(k: int | None, values: np.ndarray) -> tuple[list, list]:
    """A single marker at index k if it is inside the plotted range, else a gap (kept in the legend,
    so that the legend and the plot area keep their size from one frame to the next)."""
    if k is None or k >= len(values):
        return [0], [np.nan]
    return [int(k)], [float(values[k])]


def transient_frame(d: Any) -> dict:
    """What the transient explorer's figure changes with its parameters: every trace, the title and the
    step axes' range."""
    k = d.k.astype(float)
    lyap = (np.full_like(k, np.nan) if d.lyapunov_factor is None
            else log_clip(d.lyapunov_condition * d.lyapunov_factor**k))
    # NaN (no Lyapunov norm when r >= 1) stays a gap
    lines = [{"x": k, "y": np.where(np.isnan(y), np.nan, log_clip(y))}
             for y in (d.power_norms, d.radius**k, d.spectral_norm**k, lyap)]
    points = [dict(zip(("x", "y"), _point(at, d.power_norms))) for at in (d.k_peak, d.k_below_one)]
    distances = [{"x": k, "y": log_clip(d.linear_distance)}, {"x": k, "y": log_clip(d.tanh_distance)}]
    peak = "unbounded" if d.peak is None else f"{d.peak:.3g} at k = {d.k_peak}"
    below = "never" if d.k_below_one is None else f"k = {d.k_below_one}"
    verdict = "contractive" if d.spectral_norm < 1 else "not contractive"
    title = (f"r = ρ(A) = {d.radius:.2f}, c = {d.coupling:.2f}: ‖A‖₂ = {d.spectral_norm:.3f} ({verdict})"
             f"<br><sup>largest ‖A<sup>k</sup>‖₂: {peak}; first ‖A<sup>k</sup>‖₂ < 1: {below}</sup>")
    return {"data": [*lines, *points, *distances],
            "layout": {"title.text": title, "xaxis.range": [0, float(k[-1])], "xaxis2.range": [0, float(k[-1])]}}


def transient_figure(d: Any) -> go.Figure:
    """Two panels: ``||A^k||_2`` against k with its bounds, and the distance of two trajectories.

    ``d`` is a :class:`stablernn.chapters.stability.TransientData`; the data come from
    :func:`transient_frame`.
    """
    frame = transient_frame(d)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("‖A<sup>k</sup>‖₂ against k", "distance ‖h<sub>t</sub> − h′<sub>t</sub>‖₂, same inputs"))
    lines = (
        ("‖A<sup>k</sup>‖₂", dict(color=BLUE, width=3)),
        ("ρ(A)<sup>k</sup> = r<sup>k</sup>", dict(color=VERMILLION, dash="dash")),
        ("‖A‖₂<sup>k</sup> (one-step bound)", dict(color=GREY, dash="dot")),
        ("√κ(P) λ<sub>P</sub><sup>k</sup> (Lyapunov norm)", dict(color=GREEN, dash="dashdot")),
    )
    for name, line in lines:
        fig.add_trace(go.Scatter(mode="lines", name=name, line=line), 1, 1)
    fig.add_trace(go.Scatter(mode="markers", name="largest ‖A<sup>k</sup>‖₂",
                             marker=dict(color=ORANGE, size=12, symbol="diamond")), 1, 1)
    fig.add_trace(go.Scatter(mode="markers", name="first ‖A<sup>k</sup>‖₂ < 1",
                             marker=dict(color=BLACK, size=11, symbol="x")), 1, 1)
    fig.add_trace(go.Scatter(mode="lines", name="linear h = Ah + x", line=dict(color=BLUE)), 1, 2)
    fig.add_trace(go.Scatter(mode="lines", name="tanh RNN h = tanh(Ah + x)", line=dict(color=VERMILLION, dash="dot")), 1, 2)
    for col in (1, 2):
        fig.update_yaxes(type="log", range=list(LOG_RANGE), exponentformat="power", row=1, col=col)
        fig.update_xaxes(title_text="k" if col == 1 else "time step t", row=1, col=col)
        fig.add_hline(y=1.0, line=dict(color=GREY, width=1), row=1, col=col)
    themed(fig, title=frame["layout"]["title.text"], height=520)
    pin_header(fig, title_px=14, legend_px=62, top=150, b=60)
    return apply_frame(fig, frame)


def jacobian_figure(lags: np.ndarray, norms: np.ndarray, lam: float, label: str) -> go.Figure:
    """Measured ``||dh_t / dh_{t-k}||_2`` against the lag k beside the bound ``lam^k``."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=lags, y=log_clip(norms, 1e-30), mode="lines+markers", name=label,
                             line=dict(color=BLUE), marker=dict(size=4)))
    fig.add_trace(go.Scatter(x=lags, y=log_clip(lam ** lags.astype(float)), mode="lines",
                             name=f"bound λ<sup>k</sup>, λ = ‖W‖₂ = {lam:.2f}", line=dict(color=VERMILLION, dash="dash")))
    fig.update_yaxes(type="log", exponentformat="power", title_text="‖∂h<sub>t</sub>/∂h<sub>t−k</sub>‖₂")
    fig.update_xaxes(title_text="lag k")
    themed(fig, title="Jacobian norms of a stable tanh RNN against the lag", height=380)
    fig.update_layout(legend=dict(x=0.55, y=0.98))
    return fig


def lstm_ratio_figure(certified: np.ndarray, measured: np.ndarray) -> go.Figure:
    """Measured one-step ratios ``||phi(s) - phi(s')||_inf / ||s - s'||_inf`` against the certified lambda."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="ratio = certified λ",
                             line=dict(color=GREY, dash="dash")))
    fig.add_trace(go.Scatter(x=certified, y=measured, mode="markers", name="largest ratio over the state pairs",
                             marker=dict(color=BLUE, size=7, opacity=0.8)))
    fig.update_xaxes(range=[0, 1.02], title_text="certified λ (lstm_condition)")
    fig.update_yaxes(range=[0, 1.02], title_text="measured ratio, l<sub>∞</sub> on (c, h)")
    themed(fig, title="LSTM: measured contraction never exceeds the certified factor", height=420)
    fig.update_layout(legend=dict(x=0.02, y=0.98))
    return fig


def singular_values_figure(before: np.ndarray, after: np.ndarray, max_norm: float) -> go.Figure:
    """Sorted singular values of a recurrent matrix before and after projection onto ``||W||_2 <= max_norm``."""
    idx = np.arange(1, len(before) + 1)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=idx, y=before, mode="markers+lines", name="trained, unconstrained",
                             line=dict(color=VERMILLION), marker=dict(size=6)))
    fig.add_trace(go.Scatter(x=idx, y=after, mode="markers+lines", name="after projection (SVD clipping)",
                             line=dict(color=BLUE), marker=dict(size=6, symbol="square")))
    fig.add_hline(y=max_norm, line=dict(color=GREY, dash="dot"))
    fig.update_xaxes(title_text="index i (largest first)")
    fig.update_yaxes(title_text="singular value σ<sub>i</sub>(W)", rangemode="tozero")
    themed(fig, title="Singular values of W before and after projection", height=400)
    fig.update_layout(legend=dict(x=0.5, y=0.98))
    return fig


def projection_cost_figure(sizes: np.ndarray, svd_seconds: np.ndarray, power_seconds: np.ndarray) -> go.Figure:
    """Measured time of one SVD projection and one power-iteration rescale against the matrix size."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=sizes, y=1e3 * svd_seconds, mode="lines+markers", name="SVD projection",
                             line=dict(color=VERMILLION)))
    fig.add_trace(go.Scatter(x=sizes, y=1e3 * power_seconds, mode="lines+markers",
                             name="power-iteration rescale (20 iterations)", line=dict(color=BLUE)))
    fig.update_xaxes(type="log", title_text="matrix size n (n × n)", tickvals=list(sizes))
    ms = 1e3 * np.concatenate([svd_seconds, power_seconds])
    low, high = 0.8 * float(ms.min()), 1.25 * float(ms.max())
    fig.update_yaxes(type="log", title_text="time per call (ms)", range=[np.log10(low), np.log10(high)],
                     tickvals=log_ticks(low, high))
    themed(fig, title="Cost of keeping ‖W‖₂ ≤ 1: SVD versus power iteration", height=400)
    fig.update_layout(legend=dict(x=0.02, y=0.98))
    return fig
