"""Tests of stablernn.presentation.explorer and .show: the explorer's two faces (static frames with
sliders, a live widget that never shows NaN), its actions (buttons for work too slow for a slider),
and the face chooser ``show`` for every explorer of the book, with no kernel and in a live one."""

from __future__ import annotations

import inspect
import json
import threading
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import pytest

from conftest import ROOT
from stablernn._validate import check_float
from stablernn.chapters import Section
from stablernn.presentation import explorers
from stablernn.presentation.explorer import PLOTS, Action, Control, Explorer
from stablernn.presentation.show import BookRenderer, show, show_section, static_mode


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


def test_show_section_rejects_other_objects():
    with pytest.raises(TypeError, match="Section"):
        show_section({"a": 1})


def test_show_section_glues_values_then_shows_table_and_figure(monkeypatch, capsys):
    import IPython.display
    import myst_nb

    glued, shown = {}, []
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display=True: glued.__setitem__(name, value))
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append(obj))
    monkeypatch.setenv("STABLERNN_STATIC", "1")
    show_section(Section(values={"n": 3}, markdown={"src": "*x*"}, table="a | b", figure=figure(compute())))
    assert glued["n"] == 3 and isinstance(glued["src"], IPython.display.Markdown)
    assert capsys.readouterr().out == "a | b\n"
    assert len(shown) == 1 and "Plotly.newPlot" in shown[0]["text/html"]


# -- actions: buttons for work too slow for a slider ---------------------------------------------------


def _with_action(run, background=False) -> Explorer:
    action = Action("Go", run, controls=(Control("a", "slope", (0.0, 1.0, 3.0), 1.0, step=1.0),),
                    heading="Run it", background=background)
    return Explorer(title="t", compute=compute, figure=figure,
                    controls=(Control("b", "offset", (0.0, 1.0), 0.0, step=0.5),), actions=(action,))


def test_action_button_reads_its_own_inputs_and_draws_the_result():
    box = _with_action(lambda report, a: compute(a=a, b=0.5)).widget()
    panel = box.explorer_actions["Go"]
    assert set(panel.inputs) == {"a"} and panel.button.description == "Go"
    panel.inputs["a"].value = 3.0
    panel.button.click()
    assert box.explorer_figure.layout.title.text == "a = 3, b = 0.5"
    assert tuple(box.explorer_figure.data[0].y) == pytest.approx(3 * np.linspace(0, 1, 5) + 0.5)
    assert panel.status.value == "done: a = 3" and not panel.button.disabled


def test_action_reports_intermediate_data_and_its_own_status():
    seen = []

    def run(report, a):
        report(compute(a=2.0), done=1, total=2, status="half way")
        seen.append(box.explorer_figure.layout.title.text)
        report(status="finished")
        return compute(a=a)

    box = _with_action(run).widget()
    panel = box.explorer_actions["Go"]
    panel.start()
    assert seen == ["a = 2, b = 0"] and box.explorer_figure.layout.title.text == "a = 1, b = 0"
    assert panel.status.value == "finished" and panel.progress.value == 1 and panel.progress.max == 2


def test_action_that_refuses_its_input_draws_nothing():
    def run(report, a):
        raise ValueError("a must be small")

    box = _with_action(run).widget()
    panel = box.explorer_actions["Go"]
    before = box.explorer_figure.layout.title.text
    panel.start()
    assert "Not run: a must be small" in panel.status.value
    assert box.explorer_figure.layout.title.text == before and not panel.button.disabled


def test_background_action_runs_in_a_thread_and_stops_when_asked():
    started, steps = threading.Event(), []

    def run(report, a):
        started.set()
        for i in range(1000):
            if not report(done=i, total=1000):
                break
            steps.append(i)
            threading.Event().wait(0.001)
        return compute(a=a)

    box = _with_action(run, background=True).widget()
    panel = box.explorer_actions["Go"]
    assert panel.stop_button.disabled  # nothing to stop yet
    panel.start()  # returns at once: the run goes on in its thread
    assert started.wait(10) and panel.thread.is_alive()
    assert panel.button.disabled and not panel.stop_button.disabled
    panel.stop_button.click()
    panel.thread.join(10)
    assert not panel.thread.is_alive() and len(steps) < 1000  # stopped early
    assert panel.stop_button.disabled and not panel.button.disabled
    assert box.explorer_figure.layout.title.text == "a = 1, b = 0"


# -- show() takes every explorer of the book, in both faces ---------------------------------------------


def _tiny_equivalence_grid():
    from stablernn.chapters import training

    setup = training.EquivalenceSetup(hidden=3, teacher_hidden=2, steps_per_sequence=8, train_sequences=2,
                                      test_sequences=1)
    return training.equivalence_grid(setup, (1, 2, 8), steps=3)


def _builders() -> dict:
    from stablernn.chapters import bptt, in_practice
    from stablernn.experiments import schema
    from stablernn.presentation.trainer import trainer

    music, wordlm, _ = in_practice.load_results(ROOT / "results")
    recall = bptt.RecallGrid((2, 3), (1, 2), np.array([[0.001, 0.9], [0.0005, 0.002]]))
    return {
        "spectral": explorers.spectral, "gradients": explorers.gradients,
        "recall_window": lambda: explorers.recall_window(recall),
        "receptive_field": explorers.receptive_field, "transient": explorers.transient,
        "truncation_error": explorers.truncation_error,
        "equivalence": lambda: explorers.equivalence(_tiny_equivalence_grid()),
        "descent": explorers.descent, "contraction": explorers.contraction,
        "training_pairs": lambda: explorers.training_pairs(music, wordlm),
        "context_length": lambda: explorers.context_length(schema.load("truncation", ROOT / "results")),
        "trainer": trainer,
        "your_model_runs": _tiny_your_model_runs,
    }


def _tiny_your_model_runs():
    """Chapter 10's explorer over a tiny training configuration (the chapter's own is a minute of CPU);
    the tests of Chapter 10 set the same kind of configuration."""
    from stablernn.chapters import your_model

    your_model.CONFIG.update(train=6, valid=3, epochs=3, patience=None, ks=(1, 2, 4, 8), lags=8, compare_lag=4)
    your_model.data.cache_clear()
    your_model.runs.cache_clear()
    return explorers.your_model_runs()


def test_every_explorer_builder_is_covered():
    defined = {name for name, f in inspect.getmembers(explorers, inspect.isfunction)
               if f.__module__ == explorers.__name__ and not name.startswith("_")}
    assert defined | {"trainer"} == set(_builders())


@pytest.fixture
def displayed(monkeypatch):
    """What show() hands to IPython's display (a MIME bundle in static mode, a widget in a live kernel)."""
    import IPython.display

    out = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: out.append(obj))
    return out


@pytest.mark.parametrize("name", list(_builders()))
def test_show_gives_the_static_face_while_the_book_is_built(monkeypatch, displayed, name):
    monkeypatch.setenv("STABLERNN_STATIC", "1")
    ex = _builders()[name]()
    assert isinstance(ex, Explorer)
    show(ex)
    (bundle,) = displayed
    html = bundle["text/html"]
    assert "Plotly.newPlot" in html and "NaN" not in html
    assert "plotly.min.js" not in html and len(html) < 1_000_000  # plotly.js itself is loaded once per page
    n_frames = len(ex.grid())
    assert n_frames == 1 or "Plotly.addFrames" in html  # the frames travel with the page


@pytest.mark.parametrize("name", list(_builders()))
def test_show_gives_the_live_face_in_a_kernel(monkeypatch, displayed, name):
    monkeypatch.delenv("STABLERNN_STATIC", raising=False)
    ex = _builders()[name]()
    show(ex)
    (box,) = displayed
    assert isinstance(box.explorer_figure, go.FigureWidget) and len(box.explorer_figure.data) > 0
    assert set(box.explorer_inputs) == {c.name for c in ex.controls}
    assert set(box.explorer_actions) == {a.label for a in ex.actions}
    json.dumps(box.explorer_figure.to_plotly_json(), default=str)  # serialisable for the front end


# -- frames: a slider move sends only what changed --------------------------------------------------

def frame(d: Line) -> dict:
    return {"data": [{"x": d.x, "y": d.y}, {}], "layout": {"title.text": f"a = {d.a:g}, b = {d.b:g}"}}


def test_frame_moves_send_one_update_of_what_changed_and_draw_non_finite_values_as_gaps():
    ex = Explorer(title="t", compute=compute, figure=figure, frame=frame,
                  controls=(Control("a", "slope", (0.0, 1.0, 2.0), 1.0, step=0.5), Control("b", "offset", (0.0,), 0.0)))
    box = ex.widget()
    fig = box.explorer_figure
    sent = []
    fig._send_update_msg = lambda restyle_data, relayout_data, trace_indexes=None, **kw: sent.append(
        (dict(restyle_data), dict(relayout_data)))
    box.explorer_inputs["a"].value = 2.0
    (restyle, relayout), = sent
    assert set(restyle) == {"y"} and relayout == {"title.text": "a = 2, b = 0"}  # x and the axis trace did not change
    assert list(fig.data[0].y) == pytest.approx([0, 0.5, 1, 1.5, 2]) and fig.layout.title.text == "a = 2, b = 0"
    box.explorer_inputs["a"].value = 0.0
    assert all(v is None for v in fig.data[0].y), "non-finite values must be drawn as gaps"
    ex.update(fig, a=0.0)
    assert len(sent) == 2, "a move to the values already drawn sends nothing"


def test_the_light_figure_is_sent_the_same_update_and_a_bad_choice_is_refused(monkeypatch):
    ex = Explorer(title="t", compute=compute, figure=figure, frame=frame,
                  controls=(Control("a", "slope", (0.0, 1.0, 2.0), 1.0, step=0.5), Control("b", "offset", (0.0,), 0.0)))
    box = ex.widget("light")
    fig = box.explorer_figure
    sent = []
    monkeypatch.setattr(fig, "send", lambda content, buffers=None: sent.append(content))
    box.explorer_inputs["a"].value = 2.0
    (msg,) = sent
    assert set(msg["restyle"]) == {"y"} and msg["relayout"] == {"title.text": "a = 2, b = 0"}
    assert fig.current()["data"][0]["y"] == pytest.approx([0, 0.5, 1, 1.5, 2])
    box.explorer_inputs["a"].value = 0.0
    assert all(v is None for v in fig.current()["data"][0]["y"]), "non-finite values must be drawn as gaps"
    ex.update(fig, a=0.0)
    assert len(sent) == 2, "a move to the values already drawn sends nothing"
    with pytest.raises(ValueError, match="plot must be one of"):
        ex.widget("svg")


def _json(fig) -> dict:
    return json.loads(json.dumps(fig.to_plotly_json(), default=lambda v: v.tolist() if hasattr(v, "tolist") else str(v),
                                 sort_keys=True))


def _framed() -> dict:
    return {name: build for name, build in _builders().items() if name != "trainer" and build().frame is not None}


def test_the_explorers_with_continuous_sliders_have_frames():
    continuous = {name for name, build in _builders().items() if name != "trainer"
                  and any(c.numeric and c.step is not None for c in build().controls)}
    assert continuous <= set(_framed())


def _points(ex: Explorer) -> list[dict]:
    """Grid points and values between them and beyond the static grid (the live sliders' range)."""
    out = ex.grid()[:: max(1, len(ex.grid()) // 8)]
    for c in ex.controls:
        if c.numeric and c.step is not None:
            lo, hi = c.live if c.live is not None else (min(c.values), max(c.values))
            out += [{c.name: int(round(v)) if c.integer else float(v)} for v in (lo, (lo + hi) / 2 + c.step / 3, hi)]
    return out


@pytest.mark.parametrize("name", sorted(_framed()))
def test_a_frame_carries_everything_its_figure_changes(name):
    """The frame of any parameter values set on the figure of the defaults gives that figure exactly:
    nothing the live face leaves out of a frame can differ."""
    from stablernn.figures.theme import apply_frame

    ex = _framed()[name]()
    base = ex.render()
    for params in _points(ex):
        expected = _json(ex.render(**params))
        framed = apply_frame(go.Figure(base), ex.frame(ex.compute(**{**ex.fixed, **ex.defaults(), **params})))
        assert _json(framed) == expected, f"{name} at {params}"


@pytest.mark.parametrize("plot", PLOTS)
@pytest.mark.parametrize("name", sorted(_framed()))
def test_the_live_figure_after_a_move_is_the_static_frame(name, plot):
    ex = _framed()[name]()
    static = ex.static_figure()
    frames = {f.name: f for f in static.frames}
    box = ex.widget(plot)
    for params in ex.grid()[:: max(1, len(ex.grid()) // 6)]:
        for key, value in params.items():
            box.explorer_inputs[key].value = value
        live = box.explorer_figure
        if plot == "light":  # a PlotView: what it drew, as plain values, read through the same paths
            live = go.Figure(live.current())
        want = frames[ex.frame_name(params)]
        for index, trace in zip(want.traces, want.data):
            for key, value in trace.to_plotly_json().items():
                if key == "type":
                    continue
                got = live.data[index][key]
                if isinstance(value, (list, tuple, np.ndarray)) and len(value) and not isinstance(value[0], str):
                    got = np.array([np.nan if v is None else v for v in got], dtype=float)
                    value = np.array([np.nan if v is None else v for v in value], dtype=float)
                    np.testing.assert_allclose(got, value, rtol=1e-3, atol=1e-12, equal_nan=True,
                                               err_msg=f"{name} {params} trace {index} {key}")
                else:
                    assert got == value, f"{name} {params} trace {index} {key}"
        if want.layout.title.text is not None:
            assert live.layout.title.text == want.layout.title.text
