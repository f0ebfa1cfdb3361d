"""Figure of the spectral-radius explorer (Chapter 1)."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .theme import BLUE, GREY, VERMILLION, apply_frame, log_clip, pin_header, themed

LOG_RANGE = (-6, 6)  # visible decades on the log axes; values beyond are clipped off-screen


def spectral_frame(d: Any) -> dict:
    """What the spectral explorer's figure changes with its parameters: every trace's data but the unit
    circle's, the title, and the time axes' range (the horizon)."""
    k = d.t
    data = [{},  # the unit circle
            {"x": d.eigenvalues.real, "y": d.eigenvalues.imag},
            {"x": k, "y": log_clip(d.power_norms)},
            {"x": k, "y": log_clip(d.spectral_radius ** k.astype(float))},
            *({"x": k, "y": log_clip(norms)} for norms in d.linear_norms),
            *({"x": k, "y": log_clip(norms)} for norms in d.tanh_norms),
            {"x": k, "y": log_clip(d.linear_distance)},
            {"x": k, "y": log_clip(d.tanh_distance)}]
    layout = {"title.text": _spectral_title(d), **{f"xaxis{i}.range": [0, float(k[-1])] for i in (2, 3, 4)}}
    return {"data": data, "layout": layout}


def _spectral_title(d: Any) -> str:
    verdict = "yes: ‖W‖₂ < 1" if d.contractive else "no: ‖W‖₂ ≥ 1"
    # The radius is exact by construction; computed eigenvalues of strongly non-normal matrices are
    # ill-conditioned (a nilpotent W shows eigenvalues of size 1e-3), so the title states the radius built.
    return (f"spectral radius ρ(W) = {d.radius:.3f}, spectral norm ‖W‖₂ = {d.spectral_norm:.3f}"
            f"<br><sup>tanh RNN provably contractive? {verdict}</sup>")


def spectral_figure(d: Any) -> go.Figure:
    """Four panels: eigenvalues, ``||W^k||_2``, free response ``||h_t||``, distance of two trajectories.

    ``d`` is a :class:`stablernn.chapters.recurrent_models.SpectralData`; the data come from
    :func:`spectral_frame`, trace by trace.
    """
    fig = make_subplots(
        rows=2, cols=2, horizontal_spacing=0.12, vertical_spacing=0.21,
        subplot_titles=("eigenvalues of W and the unit circle", "‖W<sup>k</sup>‖₂ against k",
                        "free response ‖h<sub>t</sub>‖ from 3 initial states",
                        "distance ‖h<sub>t</sub> − h′<sub>t</sub>‖, same inputs"),
    )
    theta = np.linspace(0, 2 * np.pi, 73)
    fig.add_trace(go.Scatter(x=np.cos(theta), y=np.sin(theta), mode="lines", line=dict(color=GREY, width=1),
                             name="unit circle", hoverinfo="skip", showlegend=False), 1, 1)
    fig.add_trace(go.Scatter(mode="markers", marker=dict(color=BLUE, size=9), name="eigenvalues", showlegend=False,
                             hovertemplate="Re %{x:.3f}<br>Im %{y:.3f}<extra></extra>"), 1, 1)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=BLUE, width=2.5), name="‖W<sup>k</sup>‖₂",
                             legendgroup="pow"), 1, 2)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=VERMILLION, dash="dash"), name="ρ(W)<sup>k</sup>",
                             legendgroup="pow"), 1, 2)
    for i in range(d.linear_norms.shape[0]):
        fig.add_trace(go.Scatter(mode="lines", line=dict(color=BLUE), name="linear h = Wh", legendgroup="lin",
                                 showlegend=i == 0), 2, 1)
    for i in range(d.tanh_norms.shape[0]):
        fig.add_trace(go.Scatter(mode="lines", line=dict(color=VERMILLION, dash="dot"), name="tanh RNN h = tanh(Wh)",
                                 legendgroup="tanh", showlegend=i == 0), 2, 1)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=BLUE), name="linear, distance", showlegend=False), 2, 2)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=VERMILLION, dash="dot"), name="tanh RNN, distance",
                             showlegend=False), 2, 2)
    fig.update_xaxes(range=[-1.6, 1.6], row=1, col=1, title_text="Re λ")
    fig.update_yaxes(range=[-1.6, 1.6], row=1, col=1, title_text="Im λ", scaleanchor="x", scaleratio=1)
    for row, col in ((1, 2), (2, 1), (2, 2)):
        fig.update_yaxes(type="log", range=list(LOG_RANGE), row=row, col=col, exponentformat="power")
        fig.update_xaxes(row=row, col=col, title_text="time step" if row == 2 else "k")
    fig.add_hline(y=1.0, line=dict(color=GREY, width=1, dash="dot"), row=1, col=2)
    themed(fig, title=_spectral_title(d), height=680)
    pin_header(fig, title_px=16, legend_px=66, top=138, b=60)
    return apply_frame(fig, spectral_frame(d))
