"""The figure theme and the figures' own choices that a reader sees (numbers -> plotly, no browser)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from stablernn.chapters import bptt, instability, training, truncation
from stablernn.figures import bptt as bptt_figures
from stablernn.figures import instability as instability_figures
from stablernn.figures import training as training_figures
from stablernn.figures import truncation as truncation_figures
from stablernn.figures.theme import LINE_PX, TITLE_PX, log_ticks, pin_header, power_of_ten, themed
from stablernn.presentation import explorers


@pytest.mark.parametrize("low, high", [(0.7, 20.0), (0.05, 20.0), (1e-6, 1e3), (1.0, 1.6), (3e2, 6e2)])
def test_log_ticks_are_round_and_inside_the_range(low, high):
    ticks = log_ticks(low, high)
    for v in ticks:
        assert low <= v <= high
        mantissa = v / 10 ** math.floor(math.log10(v) + 1e-12)
        assert any(math.isclose(mantissa, m) for m in (1, 2, 5))
    if math.log10(high / low) >= 1:
        assert ticks, "a log axis spanning a decade or more gets at least one round tick"


def test_power_of_ten_is_written_as_a_power():
    assert power_of_ten(1e-2) == "10<sup>−2</sup>"
    assert power_of_ten(10 ** -2.5) == "10<sup>−2.5</sup>"
    assert power_of_ten(1e3) == "10<sup>3</sup>"


def test_titles_are_pinned_below_the_top_edge():
    import plotly.graph_objects as go

    fig = themed(go.Figure(), title="a<br><sup>b</sup>", height=400)
    assert fig.layout.title.yref == "container" and fig.layout.title.yanchor == "top"
    assert math.isclose((1 - fig.layout.title.y) * 400, TITLE_PX + LINE_PX)  # plotly lifts the second line
    pin_header(fig, title_px=20, legend_px=60, top=120)
    assert math.isclose((1 - fig.layout.legend.y) * 400, 60)


def test_an_explorer_keeps_its_pinned_header_in_pixels_when_sliders_add_height():
    base = explorers.truncation_error().render()
    static = explorers.truncation_error().static_figure()
    for part in ("title", "legend"):
        before = (1 - getattr(base.layout, part).y) * base.layout.height
        after = (1 - getattr(static.layout, part).y) * static.layout.height
        assert math.isclose(before, after), part
    assert static.layout.meta["stablernn_slider_px"][0] == 60


def test_the_truncation_explorer_title_and_colours():
    """Chapter 5: epsilon as a power of ten; the truncated readout keeps its colour when lambda >= 1 (it
    used to take the colour of the bound); the readout axis fits the readouts."""
    stable, unstable = truncation.truncation(k=20, lam=0.9), truncation.truncation(k=20, lam=1.2)
    fa, fb = truncation_figures.truncation_figure(stable), truncation_figures.truncation_figure(unstable)
    assert "ε = 10<sup>−2</sup>" in fa.layout.title.text and "10<sup>-2.0" not in fa.layout.title.text
    names = [t.name for t in fa.data]
    trunc, bound = names.index("k-truncated model"), next(i for i, n in enumerate(names) if n.startswith("bound"))
    assert fa.data[trunc].line.color == fb.data[trunc].line.color != fa.data[bound].line.color
    reach = max(abs(fa.layout.yaxis2.range[0]), fa.layout.yaxis2.range[1])
    data = np.abs(np.concatenate([stable.y_full, stable.y_truncated])).max()
    assert data <= reach <= 3 * data, (data, reach)


def test_the_reference_line_at_one_does_not_look_like_the_radius_rate():
    """Chapter 2: the grey dotted line at 1 read as the legend entry of rho(W)^l."""
    fig = bptt_figures.gradient_figure(bptt.gradient_sizes())
    radius_line = next(t.line for t in fig.data if t.name.startswith("ρ(W)"))
    one = fig.layout.shapes[0].line
    assert (one.dash or "solid") != radius_line.dash or one.color != radius_line.color


def test_the_weight_gap_is_drawn_against_k_on_a_linear_axis():
    """Chapter 6: lam^k is a straight line on log(y) against linear k; a log k axis hid that."""
    setup = training.EquivalenceSetup(hidden=4, teacher_hidden=4, steps_per_sequence=12, train_sequences=2,
                                      test_sequences=2)
    grid = training.equivalence_grid(setup, (1, 2, 4), steps=3)
    fig = training_figures.equivalence_figure(training.equivalence_at(2, grid))
    assert fig.layout.xaxis2.type in (None, "linear", "-")
    assert training_figures.gradient_gap_figure(np.array([1, 2, 4]), np.array([1.0, 0.5, 0.1]), 0.8).layout.xaxis.type != "log"


def test_the_distribution_panel_says_what_it_shows():
    """Chapter 7: the cumulative distribution panel has labelled axes."""
    fig = instability_figures.contraction_figure(instability.contraction())
    assert "cumulative" in fig.layout.annotations[1].text
    assert fig.layout.yaxis2.title.text and fig.layout.xaxis2.title.text
