"""Figures of Chapter 10 (*Is your model stable?*) and of ``stablernn.diagnose``'s HTML report.

Each takes the plain dictionaries of a ``Diagnosis`` (``contraction``, ``gradient``, ``truncation``)
so that the report, the chapter and a reader's own notebook draw the same pictures.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .theme import BLUE, GREY, PALETTE, VERMILLION, legend_above_plot, log_clip, pin_header, round_sig, themed

NORM_NAMES = {"l2": "ℓ2 (spectral norm)", "linf": "ℓ∞ (max row sum)"}


def contraction_figure(contraction: dict) -> go.Figure:
    """Histograms of the one-step Jacobian norms along the data, in ℓ2 and ℓ∞, with 1 marked."""
    fig = go.Figure()
    for name, colour in (("l2", BLUE), ("linf", VERMILLION)):
        s = contraction[name]
        edges = np.asarray(s["histogram"]["edges"], dtype=float)
        counts = np.asarray(s["histogram"]["counts"], dtype=float)
        theorem = " (the theorem's norm)" if contraction["theorem_norm"] == name else ""
        fig.add_trace(go.Bar(x=round_sig((edges[:-1] + edges[1:]) / 2), y=counts / counts.sum(),
                             width=float(np.diff(edges).min()) if len(edges) > 1 else None,
                             marker_color=colour, opacity=0.65, name=f"{NORM_NAMES[name]}{theorem}",
                             hovertemplate="norm ≈ %{x:.3g}<br>share %{y:.1%}<extra></extra>"))
    fig.add_vline(x=1.0, line=dict(color="#222", width=1.5, dash="dot"))
    below = contraction[contraction["theorem_norm"]]["fraction_below_1"]
    fig.update_layout(barmode="overlay")
    top = max(float(contraction[n]["histogram"]["edges"][-1]) for n in ("l2", "linf"))
    fig.update_xaxes(title_text="norm of the one-step Jacobian ∂s<sub>t</sub>/∂s<sub>t−1</sub>",
                     range=[0, 1.03 * max(top, 1.2)])  # from 0, so that the line at 1 is always in view
    fig.update_yaxes(title_text="share of measured steps", tickformat=".0%")
    themed(fig, title=f"(b) Contraction along the data<br><sup>{below:.0%} of steps contract in the theorem's "
                      "norm; dotted line: 1</sup>", height=430)
    return legend_above_plot(fig, top=110)


def _band(fig: go.Figure, x, low, high, colour: str, group: str, row=None, col=None) -> None:
    """A shaded band between ``low`` and ``high`` (drawn first, so the line stays on top)."""
    xs = list(x) + list(x)[::-1]
    ys = list(round_sig(log_clip(high, 1e-30))) + list(round_sig(log_clip(low, 1e-30)))[::-1]
    trace = go.Scatter(x=xs, y=ys, fill="toself", fillcolor=colour, opacity=0.2, line_width=0, hoverinfo="skip",
                       showlegend=False, legendgroup=group, mode="lines")
    fig.add_trace(trace) if row is None else fig.add_trace(trace, row, col)


def gradient_figure(gradient: dict) -> go.Figure:
    """Mean ``||d loss_T / d s_{T-i}||_2`` against the lag i, with the 95 % bootstrap band (log scale)."""
    fig = go.Figure()
    _band(fig, gradient["lags"], gradient["low"], gradient["high"], BLUE, "g")
    fig.add_trace(go.Scatter(x=gradient["lags"], y=round_sig(log_clip(gradient["mean"], 1e-30)), mode="lines",
                             line=dict(color=BLUE, width=2.5), name=f"mean over {gradient['sequences']} sequences",
                             hovertemplate="lag %{x}<br>%{y:.3g}<extra></extra>"))
    fig.update_xaxes(title_text="lag i (steps back from the scored step)")
    fig.update_yaxes(type="log", dtick=1, exponentformat="power", title_text="‖∂ loss<sub>T</sub> / ∂ s<sub>T−i</sub>‖₂")
    themed(fig, title="(c) How far back does the loss reach?<br><sup>gradient with respect to past states; "
                      "band: 95 % bootstrap interval of the mean</sup>", height=430)
    return legend_above_plot(fig, top=110)


def truncation_figure(truncation: dict) -> go.Figure:
    """The metric with k steps of context against k, full context and the tolerance marked."""
    ks, values, full = truncation["k"], np.asarray(truncation["values"], float), float(truncation["full"])
    tol, k_in = float(truncation["tolerance"]), truncation["k_within"]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=ks, y=round_sig(values), mode="lines+markers", line=dict(color=BLUE, width=2.5),
                             name="k most recent inputs", hovertemplate="k = %{x}<br>%{y:.4g}<extra></extra>"))
    fig.add_hline(y=full, line=dict(color="#222", width=1.5), annotation_text="full context",
                  annotation_position="top right")
    fig.add_hline(y=full * (1 + tol), line=dict(color=GREY, width=1, dash="dot"))
    if k_in is not None:
        fig.add_trace(go.Scatter(x=[k_in], y=[float(round_sig(values[ks.index(k_in)]))], mode="markers",
                                 marker=dict(size=14, symbol="circle-open", color=VERMILLION, line_width=2.5),
                                 name=f"smallest k within {tol:.0%}: {k_in}"))
    fig.update_xaxes(type="log", dtick=np.log10(2), tickformat="d", title_text="context k")
    fig.update_yaxes(title_text=truncation["metric"])
    sub = f"smallest k within {tol:.0%} of full context: {k_in}" if k_in else f"no k within {tol:.0%} of full context"
    themed(fig, title=f"(d) The truncated model against full context<br><sup>{sub}; dotted: {1 + tol:g} × full</sup>",
           height=430)
    return legend_above_plot(fig, top=110)


def compare_figure(groups: Mapping[str, Sequence[dict]]) -> go.Figure:
    """Trainings side by side, one line per seed: gradient against lag and the relative gap of the
    truncated model against k. ``groups`` maps a training's name to its seeds' ``Diagnosis.to_dict()``."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.16,
                        subplot_titles=("gradient against lag", "truncated / full − 1"))
    for i, (name, runs) in enumerate(groups.items()):
        colour = PALETTE[i % len(PALETTE)]
        for j, d in enumerate(runs):
            g, t = d["gradient"], d["truncation"]
            line = dict(color=colour, width=2)
            fig.add_trace(go.Scatter(x=g["lags"], y=round_sig(log_clip(g["mean"], 1e-30)), mode="lines", line=line,
                                     name=name, legendgroup=name, showlegend=j == 0,
                                     hovertemplate=f"seed {j}: " + "lag %{x}, %{y:.3g}<extra>" + name + "</extra>"),
                          1, 1)
            gap = np.maximum(np.asarray(t["values"], float) / float(t["full"]) - 1, 1e-6)
            fig.add_trace(go.Scatter(x=t["k"], y=round_sig(gap), mode="lines+markers", line=line, marker_size=5,
                                     name=name, legendgroup=name, showlegend=False,
                                     hovertemplate=f"seed {j}: " + "k = %{x}, gap %{y:.2%}<extra>" + name + "</extra>"),
                          1, 2)
    tol = float(next(iter(groups.values()))[0]["truncation"]["tolerance"])
    fig.add_hline(y=tol, line=dict(color=GREY, width=1, dash="dot"), row=1, col=2)
    fig.update_yaxes(type="log", dtick=1, exponentformat="power", title_text="‖∂ℓ<sub>T</sub> / ∂s<sub>T−i</sub>‖₂",
                     row=1, col=1)
    fig.update_yaxes(type="log", dtick=1, exponentformat="power", title_text="relative gap", row=1, col=2)
    fig.update_xaxes(title_text="lag i", row=1, col=1)
    fig.update_xaxes(type="log", dtick=np.log10(2), tickformat="d", title_text="context k", row=1, col=2)
    themed(fig, title="Two trainings of one architecture, diagnosed<br><sup>one line per seed (mean over "
                      f"sequences); dotted: {tol:.0%}; gaps below 10<sup>−6</sup> drawn at 10<sup>−6</sup></sup>",
           height=480)
    return pin_header(fig, title_px=14, legend_px=62, top=130, l=80)


def run_figure(view: dict) -> go.Figure:
    """One run of Chapter 10's explorer: gradient against lag (with its band) and the relative gap of
    the truncated model against k. ``view`` is ``chapters.your_model.run_view``'s."""
    g, t = view["gradient"], view["truncation"]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.2,
                        subplot_titles=("gradient against lag", "truncated / full − 1"))
    _band(fig, g["lags"], g["low"], g["high"], BLUE, "g", 1, 1)
    fig.add_trace(go.Scatter(x=g["lags"], y=round_sig(log_clip(g["mean"], 1e-30)), mode="lines",
                             line=dict(color=BLUE, width=2.5), name="mean over sequences", showlegend=False,
                             hovertemplate="lag %{x}: %{y:.3g}<extra></extra>"), 1, 1)
    gap = np.maximum(np.asarray(t["values"], float) / float(t["full"]) - 1, 1e-6)
    fig.add_trace(go.Scatter(x=t["k"], y=round_sig(gap), mode="lines+markers", line=dict(color=VERMILLION, width=2.5),
                             showlegend=False, hovertemplate="k = %{x}: gap %{y:.2%}<extra></extra>"), 1, 2)
    fig.add_hline(y=float(t["tolerance"]), line=dict(color=GREY, width=1, dash="dot"), row=1, col=2)
    fig.update_yaxes(type="log", dtick=2, exponentformat="power", range=[-6.5, 1.5], title_text="gradient norm",
                     row=1, col=1)
    fig.update_yaxes(type="log", dtick=1, exponentformat="power", range=[-6.3, 0.2], title_text="relative gap",
                     row=1, col=2)
    fig.update_xaxes(title_text="lag i", row=1, col=1)
    fig.update_xaxes(type="log", dtick=np.log10(2), tickformat="d", title_text="context k", row=1, col=2)
    themed(fig, title=view["title"], height=440)
    return pin_header(fig, title_px=14, legend_px=62, top=120, l=80)
