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
        )
    )


def themed(fig: go.Figure, *, title: str, height: int = 420) -> go.Figure:
    """Apply the book's template, a title stating what is shown, and a fixed height."""
    fig.update_layout(template=template(), title=dict(text=title, x=0.01, xanchor="left"), height=height)
    return fig


def pin_header(fig: go.Figure, *, title_px: float, legend_px: float, top: int, **margin: int) -> go.Figure:
    """Pin the title ``title_px`` and a horizontal legend ``legend_px`` pixels below the top edge of a
    ``themed`` figure, over a plot area that starts ``top`` pixels down: the legend never covers a
    subplot, and stays put when an explorer's frames change the title or the data."""
    height = fig.layout.height
    fig.update_layout(title=dict(yref="container", y=1 - title_px / height, yanchor="top"),
                      legend=dict(orientation="h", yref="container", y=1 - legend_px / height, x=0.0,
                                  yanchor="top"),
                      margin=dict(t=top, **margin))
    return fig


def legend_above_plot(fig: go.Figure, *, top: int) -> go.Figure:
    """Title pinned to the top edge and a horizontal legend just above the plot area (``top`` px
    down): for single-panel figures whose legend must follow the plot when the title wraps."""
    fig.update_layout(legend=dict(orientation="h", yref="paper", y=1.02, x=0.0, yanchor="bottom"),
                      title=dict(yref="container", y=1.0, yanchor="top", pad=dict(t=16)), margin=dict(t=top))
    return fig


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
