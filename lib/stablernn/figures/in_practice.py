"""Figures of Chapter 8 (stable and unstable models in practice) and of its Train-it-yourself dashboard.

The results figures take the validated results dictionaries of ``stablernn.experiments`` (plain
JSON); ``training_figure`` takes the live history of two models. Nothing here trains or reads files.
"""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .theme import LABEL_NAMES as NAMES, MODEL_STYLE as STYLE
from .theme import BLUE, GREY, ORANGE, VERMILLION, finite_or_none, pin_header, round_sig, themed

def training_curves(music: dict, wordlm: dict) -> go.Figure:
    """Validation loss during training: music NLL per epoch (left), word-LM perplexity per token (right).
    """
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=("music: validation NLL (nats per frame)",
                                        "word LM: validation perplexity"))
    for row in music["metrics"]["models"]:
        h = row["history"]
        fig.add_trace(go.Scatter(x=list(range(1, len(h["valid_loss"]) + 1)), y=round_sig(h["valid_loss"]),
                                 mode="lines+markers", marker_size=4, line=STYLE[row["model"]],
                                 name=NAMES[row["model"]], legendgroup=row["model"]), 1, 1)
    for row in wordlm["metrics"]["models"]:
        h = row["history"]
        fig.add_trace(go.Scatter(x=h["tokens"], y=round_sig(h["valid_ppl"]), mode="lines+markers",
                                 line=STYLE[row["model"]], name=NAMES[row["model"]], legendgroup=row["model"],
                                 showlegend=False), 1, 2)
    fig.update_xaxes(title_text="epoch", row=1, col=1)
    fig.update_xaxes(title_text="training tokens seen", row=1, col=2)
    best = min(min(r["history"]["valid_loss"]) for r in music["metrics"]["models"])
    # the first epochs of a model can be far above the rest: show the range where the models differ
    fig.update_yaxes(title_text="NLL (nats per frame)", range=[best - 0.3, best + 3.0], row=1, col=1)
    fig.update_yaxes(title_text="perplexity", type="log", row=1, col=2)
    themed(fig, title="Validation loss during training<br><sup>music: the best epoch is kept; word LM: one pass</sup>",
           height=450)
    pin_header(fig, title_px=14, legend_px=62, top=125)
    return fig


def relative_change(music: dict, wordlm: dict, jsb: dict | None = None) -> go.Figure:
    """Stable / unstable ratio of the test metric, mean over seeds with ± one standard deviation of
    the per-seed ratios, for this book's experiments, beside the paper's (one run each)."""
    kinds = ["tanh", "lstm"]
    labels = ["tanh RNN", "LSTM"]
    series = [("this book: music21 chorales, NLL", music, VERMILLION)]
    if jsb is not None:
        series.append(("this book: JSB split, NLL", jsb, ORANGE))
    series.append(("this book: word LM, perplexity", wordlm, BLUE))
    fig = go.Figure()
    extremes = []
    for name, results, colour in series:
        sp = results["metrics"]["spread"]
        y = [float(sp["ratio"][k]["mean"]) for k in kinds]
        err = [float(sp["ratio"][k]["sd"]) for k in kinds]
        extremes += [v + e for v, e in zip(y, err)] + [v - e for v, e in zip(y, err)]
        fig.add_trace(go.Bar(x=labels, y=round_sig(y), name=f"{name} ({len(sp['seeds'])} seeds)", marker_color=colour,
                             error_y=dict(type="data", array=round_sig(err), visible=True, color="#222", thickness=1.5),
                             hovertemplate="%{x}: %{y:.3f}<extra>" + name + "</extra>"))
    paper = wordlm["published"]["relative_change"]
    y = [float(paper[k]) for k in kinds]
    extremes += y
    fig.add_trace(go.Bar(x=labels, y=round_sig(y), name="Miller & Hardt: WikiText-2, perplexity (one run)",
                         marker_color=GREY, hovertemplate="%{x}: %{y:.3f}<extra>Miller & Hardt</extra>"))
    fig.add_hline(y=1.0, line=dict(color="#444", width=1, dash="dot"))
    fig.update_yaxes(title_text="stable / unstable (below 1: stable is better)",
                     range=[min(0.9, min(extremes) - 0.03), max(1.1, max(extremes) + 0.05)])
    themed(fig, title="Does imposing stability cost accuracy?<br><sup>ratio of test metrics, stable / unstable; "
                      "bars: mean over seeds, whiskers: ± one standard deviation</sup>", height=460)
    fig.update_layout(barmode="group")
    pin_header(fig, title_px=14, legend_px=62, top=140 if jsb is not None else 120)
    return fig


def pair_figure(d) -> go.Figure:
    """Validation curves of one model, unconstrained and stable, with their test metric and weight norm.

    ``d`` is a :class:`stablernn.chapters.in_practice.PairData`.
    """
    kind = "tanh" if d.model == "tanh RNN" else "lstm"
    fig = go.Figure()
    for label, key in (("unconstrained", kind), ("stable", f"{kind}-stable")):
        fig.add_trace(go.Scatter(x=d.x[label], y=round_sig(d.valid[label]), mode="lines+markers", marker_size=4,
                                 line=STYLE[key], name=f"{d.model}, {label}"))
    fig.update_xaxes(title_text=d.x_label)
    fig.update_yaxes(title_text="validation " + ("NLL (nats per frame)" if d.experiment == "music" else "perplexity"),
                     type="linear" if d.experiment == "music" else "log")
    if d.experiment == "music":
        best = min(float(v.min()) for v in d.valid.values())
        fig.update_yaxes(range=[best - 0.3, best + 3.0])
    t, n = d.test, d.norm
    themed(fig, height=430, title=(
        f"{d.model} on {d.experiment}: {t['unconstrained']:.3g} unconstrained, {t['stable']:.3g} stable"
        f"<br><sup>{d.metric}; {d.norm_name} after training: {n['unconstrained']:.2f} unconstrained, "
        f"{n['stable']:.2f} stable</sup>"))
    pin_header(fig, title_px=14, legend_px=62, top=110)
    return fig


TRAINING_COLOURS = {"unconstrained": VERMILLION, "stable": BLUE}


def training_figure(history: dict, *, loss_name: str = "validation loss") -> go.Figure:
    """Two panels over epochs: validation loss, and the spectral norm ``||W||_2`` of each model.

    ``history`` maps a model name ("unconstrained", "stable") to a dict of lists ``epoch``,
    ``valid`` and ``norm``.
    """
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=(loss_name, "spectral norm ‖W‖₂"))
    for name in ("unconstrained", "stable"):
        h = history.get(name, {"epoch": [], "valid": [], "norm": []})
        style = dict(color=TRAINING_COLOURS[name], width=2.5, dash="solid" if name == "stable" else "dash")
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
