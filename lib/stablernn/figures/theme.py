"""One visual theme for every figure of the book: colour-blind-safe palette, fonts, margins."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

# Okabe & Ito's colour-blind-safe palette (blue, vermillion, bluish green, orange, reddish purple,
# sky blue, yellow, black): distinguishable under the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
BLUE, VERMILLION, GREEN, ORANGE, PURPLE, SKY, YELLOW, BLACK = PALETTE
GREY = "#7F7F7F"
#: colour and dash of each Part III model label (``models.LABELS``), shared by every Part III figure
MODEL_STYLE = {
    "tanh": dict(color=VERMILLION, dash="solid"),
    "tanh-stable": dict(color=ORANGE, dash="dash"),
    "lstm": dict(color=BLUE, dash="solid"),
    "lstm-stable": dict(color=SKY, dash="dash"),
}
#: the name a reader sees for each Part III model label (here, not in ``models``, so that a figure
#: needs no torch: the Train-it-yourself dashboard draws before torch is imported)
LABEL_NAMES = {"tanh": "tanh RNN", "tanh-stable": "tanh RNN, stable", "lstm": "LSTM", "lstm-stable": "LSTM, stable"}
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


def template() -> go.layout.Template:
    """The book's plotly template (white background, palette above, readable fonts)."""
    axis = dict(showline=True, linecolor="#444", ticks="outside", gridcolor="#e5e5e5", zeroline=False,
                title_font_size=14, tickfont_size=12)
    return go.layout.Template(
        layout=dict(
            colorway=PALETTE,
            font=dict(family=FONT, size=13, color="#222"),
            paper_bgcolor="white",
            plot_bgcolor="white",
            xaxis=axis,
            yaxis=axis,
            legend=dict(bgcolor="rgba(255,255,255,0.8)", font_size=12),
            margin=dict(l=60, r=20, t=70, b=55),
            hoverlabel=dict(font_family=FONT),
            modebar=dict(orientation="v"),  # down the right edge, clear of the left-aligned title
        )
    )


TITLE_PX = 14  # the title's top edge below the figure's top edge: a two-line title is never clipped
LINE_PX = 17   # plotly lifts a title by about this much per line after the first (<br>)


def _title_y(text: str, title_px: float, height: float) -> float:
    """Container fraction that puts the top of a (possibly multi-line) title ``title_px`` below the top."""
    return 1 - (title_px + LINE_PX * text.count("<br>")) / height


def themed(fig: go.Figure, *, title: str, height: int = 420) -> go.Figure:
    """Apply the book's template, a title stating what is shown (its top ``TITLE_PX`` below the top
    edge), and a fixed height."""
    fig.update_layout(template=template(), height=height,
                      title=dict(text=title, x=0.01, xanchor="left", yref="container",
                                 y=_title_y(title, TITLE_PX, height), yanchor="top"))
    return fig


def pin_header(fig: go.Figure, *, title_px: float, legend_px: float, top: int, **margin: int) -> go.Figure:
    """Pin the title ``title_px`` and a horizontal legend ``legend_px`` pixels below the top edge of a
    ``themed`` figure, over a plot area that starts ``top`` pixels down: the legend never covers a
    subplot, and stays put when an explorer's frames change the title or the data."""
    height = fig.layout.height
    fig.update_layout(title=dict(yref="container", y=_title_y(fig.layout.title.text or "", title_px, height),
                                 yanchor="top"),
                      legend=dict(orientation="h", yref="container", y=1 - legend_px / height, x=0.0,
                                  yanchor="top"),
                      margin=dict(t=top, **margin))
    return fig


def legend_above_plot(fig: go.Figure, *, top: int) -> go.Figure:
    """Title pinned to the top edge and a horizontal legend just above the plot area (``top`` px
    down): for single-panel figures whose legend must follow the plot when the title wraps."""
    height = fig.layout.height
    fig.update_layout(legend=dict(orientation="h", yref="paper", y=1.02, x=0.0, yanchor="bottom"),
                      title=dict(yref="container", y=_title_y(fig.layout.title.text or "", TITLE_PX, height),
                                 yanchor="top"), margin=dict(t=top))
    return fig


def log_ticks(low: float, high: float) -> list[float]:
    """Round tick values for a log axis spanning ``[low, high]`` (data units, > 0): 1-2-5 steps when it
    spans few decades, powers of ten otherwise, so that no label reads as a bare digit ("7 8 9 1 2")."""
    decades = np.log10(high) - np.log10(low)
    mantissas = (1.0, 2.0, 5.0) if decades <= 3 else (1.0,)
    values = [m * 10.0**e for e in range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1)
              for m in mantissas]
    return [float(f"{v:.3g}") for v in values if low <= v <= high]


def power_of_ten(value: float) -> str:
    """``10`` with the exponent as a superscript, e.g. ``10<sup>−2</sup>`` (one decimal only if needed)."""
    exponent = float(np.log10(value))
    text = f"{exponent:.0f}" if abs(exponent - round(exponent)) < 1e-9 else f"{exponent:.1f}"
    return f"10<sup>{text.replace('-', '−')}</sup>"


def finite_or_none(values: np.ndarray) -> list:
    """Values as a list with non-finite entries replaced by ``None`` (plotly draws a gap, never NaN)."""
    arr = np.asarray(values, dtype=float)
    return [float(v) if np.isfinite(v) else None for v in arr.ravel()]


def round_sig(values: np.ndarray, digits: int = 4) -> np.ndarray:
    """Round to ``digits`` significant figures, so that figures embedded in pages stay light."""
    arr = np.asarray(values, dtype=float)
    out = arr.copy()
    nz = np.isfinite(arr) & (arr != 0)
    scale = np.floor(np.log10(np.abs(arr[nz])))
    out[nz] = np.round(arr[nz] / 10.0**scale, digits - 1) * 10.0**scale
    return out


def log_clip(values: np.ndarray, low: float = 1e-9, high: float = 1e9) -> np.ndarray:
    """Clip positive values into ``[low, high]`` for a log axis whose visible range lies inside.

    Zeros (a trajectory that collapses exactly) and huge values (an exploding linear system) then
    run off the edge of the plot instead of breaking the log scale.
    """
    return np.clip(np.nan_to_num(np.asarray(values, dtype=float), nan=high, posinf=high), low, high)


def apply_frame(fig: go.Figure, frame: dict) -> go.Figure:
    """Set an explorer's frame on a figure built without those values (validated, unlike the live face's
    ``plotly_update``). ``frame`` is ``{"data": [dict per trace], "layout": {path: value}}``: the figure
    function and the explorer's live face read the varying values from the same ``*_frame`` function.
    """
    if len(frame["data"]) != len(fig.data):
        raise ValueError(f"frame has {len(frame['data'])} traces, the figure {len(fig.data)}")
    for trace, keys in zip(fig.data, frame["data"]):
        trace.update(keys)
    fig.update_layout(frame["layout"])
    return fig
