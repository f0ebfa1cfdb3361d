"""Figures of Chapter 9 (how much memory do trained models use?), drawn from results files."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..models import LABELS
from .theme import GREY, LABEL_NAMES as NAMES, MODEL_STYLE as STYLE, log_ticks, pin_header, round_sig, themed

PANELS = (("music", "music: NLL(k) / NLL(full)"), ("wordlm", "word LM: perplexity(k) / perplexity(full)"))


def context_length_figure(d: Any) -> go.Figure:
    """Test metric with context k over the metric with full context, per model, with the chosen k marked.

    ``d`` is a :class:`stablernn.chapters.memory.MemoryData`. Eight curves (two panels × four
    models) and two marker traces: the trace count never changes.
    """
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=[t for _, t in PANELS])
    for col, (experiment, _) in enumerate(PANELS, start=1):
        for label in LABELS:
            ks, ratio = d.curves[experiment][label]
            fig.add_trace(go.Scatter(x=ks, y=round_sig(ratio), mode="lines+markers", marker_size=5,
                                     line=STYLE[label], name=NAMES[label], legendgroup=label,
                                     showlegend=col == 1,
                                     hovertemplate="k = %{x}<br>ratio %{y:.4f}<extra>" + NAMES[label] + "</extra>"),
                          1, col)
        at = d.at_k[experiment]
        fig.add_trace(go.Scatter(x=[d.k] * len(LABELS), y=[None if v is None else float(round_sig(v)) for v in at],
                                 mode="markers", marker=dict(size=13, symbol="circle-open", color="#222", line_width=2),
                                 name="context k", showlegend=False, hoverinfo="skip"), 1, col)
        fig.add_hline(y=1 + d.tolerance, line=dict(color=GREY, width=1, dash="dot"), row=1, col=col)
        fig.update_xaxes(type="log", title_text="context k (most recent inputs)", dtick=np.log10(2),
                         tickformat="d", range=[-0.15, np.log10(d.k_max) + 0.15], row=1, col=col)
        fig.update_yaxes(type="log", range=list(d.y_range[experiment]), row=1, col=col,
                         title_text="metric(k) / metric(full)" if col == 1 else None)
    themed(fig, title=d.title, height=500)
    pin_header(fig, title_px=14, legend_px=66, top=140)
    return fig


def contraction_figure(datastability: dict) -> go.Figure:
    """Distribution of the measured contraction factors ||J_t||_2 on test data, per model (box plots).
    """
    fig = go.Figure()
    for row in datastability["metrics"]["models"]:
        c = row["contraction"]
        name = f"{'music' if row['experiment'] == 'music' else 'word LM'}: {NAMES[row['model']]}"
        fig.add_trace(go.Box(
            y=[name], q1=[round_sig(c["q05"])], median=[round_sig(c["median"])], q3=[round_sig(c["q95"])],
            lowerfence=[round_sig(c["q05"])], upperfence=[round_sig(c["max"])], mean=[round_sig(c["mean"])],
            orientation="h", marker_color=STYLE[row["model"]]["color"], name=name, showlegend=False,
            hoverinfo="x"))
    fig.add_vline(x=1.0, line=dict(color="#222", width=1.5, dash="dot"))
    values = [v for row in datastability["metrics"]["models"] for v in (row["contraction"]["q05"], row["contraction"]["max"])]
    low, high = 0.9 * min(min(values), 1.0), 1.1 * max(values)
    fig.update_xaxes(type="log", title_text="contraction factor ‖J<sub>t</sub>‖₂ (log scale)",
                     range=[float(np.log10(low)), float(np.log10(high))], tickvals=log_ticks(low, high))
    themed(fig, title="One-step contraction factors along test trajectories<br><sup>box: 5 % to 95 %, "
                      "line: median, dashed: mean, whisker: maximum; dotted line: 1</sup>", height=460)
    fig.update_layout(margin=dict(l=190, t=90))
    return fig


def gradient_lag_figure(datastability: dict) -> go.Figure:
    """Gradient size ||d loss_t / d s_{t-i}||_2 against the lag i on test data (log scale).
    """
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=("music", "word LM"))
    for row in datastability["metrics"]["models"]:
        col = 1 if row["experiment"] == "music" else 2
        g = row["gradient_vs_lag"]
        norms = np.clip(np.asarray(g["norms"], dtype=float), 1e-30, None)  # a gap-free log axis
        if "low" in g:  # the 95 % bootstrap band of the mean over sequences, under its line
            band = np.clip(np.concatenate([np.asarray(g["high"], float), np.asarray(g["low"], float)[::-1]]), 1e-30, None)
            fig.add_trace(go.Scatter(x=list(g["lags"]) + list(g["lags"])[::-1], y=round_sig(band), fill="toself",
                                     fillcolor=STYLE[row["model"]]["color"], opacity=0.18, line_width=0, mode="lines",
                                     hoverinfo="skip", showlegend=False, legendgroup=row["model"]), 1, col)
        fig.add_trace(go.Scatter(x=g["lags"], y=round_sig(norms), mode="lines", line=STYLE[row["model"]],
                                 name=NAMES[row["model"]], legendgroup=row["model"], showlegend=col == 1), 1, col)
    fig.update_yaxes(type="log", exponentformat="power", title_text="‖∂ loss<sub>t</sub> / ∂ s<sub>t−i</sub>‖₂",
                     row=1, col=1)
    fig.update_yaxes(type="log", exponentformat="power", row=1, col=2)
    fig.update_xaxes(title_text="lag i (steps back)")
    themed(fig, title="How far back does the loss reach?<br><sup>gradient with respect to past states, "
                      "mean over test sequences; bands: 95 % bootstrap interval; 0 (underflow) drawn at 10<sup>−30</sup></sup>", height=450)
    pin_header(fig, title_px=14, legend_px=62, top=125, l=85)
    return fig
