"""Figure of the gradient-connectivity explorer (Chapter 2)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from .theme import BLUE, GREY, ORANGE, VERMILLION, log_clip, themed

LOG_RANGE = (-8, 8)  # visible decades; values beyond are clipped off-screen


def gradient_figure(d: Any) -> go.Figure:
    """``||dh_T/dh_{T-l}||_2`` against the lag l (log axis) with the rates ``||W||_2^l`` and ``rho^l``.

    ``d`` is a :class:`stablernn.explorers.gradients.GradientData`.
    """
    fig = go.Figure()
    lags = d.lags
    fig.add_trace(go.Scatter(x=lags, y=log_clip(d.linear), mode="lines", line=dict(color=BLUE, width=2.5),
                             name="linear system: ‖W<sup>l</sup>‖₂"))
    fig.add_trace(go.Scatter(x=lags, y=log_clip(d.rnn), mode="lines", line=dict(color=VERMILLION, width=2.5),
                             name="tanh RNN: ‖∂h<sub>T</sub>/∂h<sub>T−l</sub>‖₂"))
    fig.add_trace(go.Scatter(x=lags, y=log_clip(d.norm_rate), mode="lines", line=dict(color=ORANGE, dash="dash"),
                             name="‖W‖₂<sup>l</sup> (spectral norm)"))
    fig.add_trace(go.Scatter(x=lags, y=log_clip(d.radius_rate), mode="lines", line=dict(color=GREY, dash="dot"),
                             name="ρ(W)<sup>l</sup> (spectral radius)"))
    fig.update_xaxes(title_text="lag l (steps back from T)", range=[0, float(lags[-1])])
    fig.update_yaxes(title_text="gradient size (log scale)", type="log", range=list(LOG_RANGE),
                     exponentformat="power")
    fig.add_hline(y=1.0, line=dict(color=GREY, width=1, dash="dot"))
    title = (f"Gradient size ‖∂h<sub>T</sub>/∂h<sub>T−l</sub>‖₂ against the lag l<br><sup>spectral radius "
             f"ρ(W) = {d.radius:.2f}, spectral norm ‖W‖₂ = {d.spectral_norm:.3f}</sup>")
    themed(fig, title=title, height=500)
    fig.update_layout(legend=dict(orientation="h", yref="paper", y=1.02, x=0.0, yanchor="bottom"),
                      title=dict(yref="container", y=1.0, yanchor="top", pad=dict(t=16)), margin=dict(t=125))
    return fig
