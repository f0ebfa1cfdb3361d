"""The explorer's two faces: static frames with sliders, and a live widget that never shows NaN."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import pytest

from stablernn._validate import check_float
from stablernn.display import BookRenderer, show, static_mode
from stablernn.explorers.base import Control, Explorer


@dataclass
class Line:
    a: float
    b: float
    x: np.ndarray
    y: np.ndarray


def compute(a: float = 1.0, b: float = 0.0) -> Line:
    a = check_float("a", a, low=-5, high=5)
    x = np.linspace(0, 1, 5)
    with np.errstate(divide="ignore"):
        y = a * x + b if a != 0 else np.full(5, np.inf)  # a = 0 produces non-finite values on purpose
    return Line(a, b, x, y)


def figure(d: Line) -> go.Figure:
    fig = go.Figure([go.Scatter(x=d.x, y=d.y, name="line"), go.Scatter(x=[0, 1], y=[0, 0], name="axis")])
    fig.update_layout(title=f"a = {d.a:g}, b = {d.b:g}", height=300)
    return fig


def make(controls=None) -> Explorer:
    controls = controls or (Control("a", "slope", (0.0, 1.0, 2.0), 1.0, step=0.5),
                            Control("b", "offset", (0.0, 1.0), 0.0, step=0.25))
    return Explorer(title="test", compute=compute, figure=figure, controls=controls)


def test_control_rejects_default_outside_values():
    with pytest.raises(ValueError, match="default"):
        Control("a", "slope", (0.0, 1.0), 0.5)


def test_static_figure_has_a_frame_per_grid_point_named_by_slider_values():
    fig = make().static_figure()
    assert [f.name for f in fig.frames] == ["0|0", "0|1", "1|0", "1|1", "2|0", "2|1"]
    assert len(fig.layout.sliders) == 2 and fig.layout.meta["stablernn_joint_sliders"] is True
    assert [s.active for s in fig.layout.sliders] == [1, 0]  # the defaults
    assert all(step.method == "skip" for s in fig.layout.sliders for step in s.steps)
    # frames carry only what varies: the constant "axis" trace is left out, and so is the name
    assert fig.frames[0].traces == (0,)
    assert set(fig.frames[0].data[0].to_plotly_json()) == {"type", "y"}
    assert fig.frames[4].layout.title.text == "a = 2, b = 0"


def test_single_slider_uses_plotly_animation_and_non_finite_values_become_gaps():
    ex = make((Control("a", "slope", (0.0, 1.0), 1.0),))
    fig = ex.static_figure()
    assert fig.layout.meta["stablernn_joint_sliders"] is False
    assert fig.layout.sliders[0].steps[0].method == "animate"
    assert fig.frames[0].data[0].y == (None,) * 5  # a = 0: inf is drawn as a gap, never NaN


def test_fixed_controls_have_no_static_slider():
    ex = make((Control("a", "slope", (1.0, 2.0), 1.0), Control("b", "offset", (0.5,), 0.5, step=0.5, live=(0, 3))))
    fig = ex.static_figure()
    assert len(fig.layout.sliders) == 1 and [f.name for f in fig.frames] == ["1", "2"]


def test_widget_updates_in_place_and_reports_bad_values():
    box = make().widget()
    fig, inputs = box.explorer_figure, box.explorer_inputs
    inputs["a"].value = 2.0
    assert fig.layout.title.text == "a = 2, b = 0"
    assert tuple(fig.data[0].y) == pytest.approx((0, 0.5, 1, 1.5, 2))
    inputs["a"].value = 0.0
    assert all(v is None for v in fig.data[0].y), "non-finite values must be drawn as gaps"
    message = box.children[0].children[-1]
    inputs["b"].value = 1.0
    assert message.value == ""


def test_widget_keeps_last_figure_when_compute_rejects_a_value():
    ex = Explorer(title="t", compute=compute, figure=figure,
                  controls=(Control("a", "slope", (0.0, 1.0), 1.0, step=1.0, live=(0, 9)),))
    box = ex.widget()
    box.explorer_inputs["a"].value = 9.0  # compute allows |a| <= 5
    assert "a must be in" in box.children[0].children[-1].value
    assert box.explorer_figure.layout.title.text == "a = 1, b = 0"


def test_book_renderer_omits_plotly_js(monkeypatch):
    html = BookRenderer().to_mimebundle(figure(compute()).to_plotly_json())["text/html"]
    assert "Plotly.newPlot" in html and len(html) < 20_000
    assert "Plotly.animate" not in html


def test_static_mode_follows_the_build_variable(monkeypatch):
    monkeypatch.setenv("STABLERNN_STATIC", "1")
    assert static_mode()
    monkeypatch.delenv("STABLERNN_STATIC")
    assert not static_mode()


def test_show_rejects_other_objects():
    with pytest.raises(TypeError, match="plotly Figure or an explorer"):
        show(42)
