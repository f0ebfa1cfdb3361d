"""presentation/plot_view.py: the dashboards' figure holds what it drew and sends only what changed."""

from __future__ import annotations

import json

import numpy as np
import plotly
import plotly.graph_objects as go
import pytest
from plotly.basedatatypes import Undefined

from stablernn.presentation.plot_view import PlotView


def two_traces() -> go.Figure:
    return go.Figure([go.Scatter(x=[0, 1, 2], y=[1.0, np.nan, 3.0], name="a"), go.Scatter(x=[0, 1], y=[5, 6])],
                     layout={"title": {"text": "t"}, "annotations": [{"text": "n"}]})


def recording(view: PlotView, monkeypatch) -> list:
    sent: list = []
    monkeypatch.setattr(view, "send", lambda content, buffers=None: sent.append((content, buffers)))
    return sent


def test_holds_the_figure_as_plain_values_with_gaps_for_non_finite_numbers():
    view = PlotView(two_traces())
    drawn = view.current()
    assert drawn["data"][0]["y"] == [1.0, None, 3.0] and drawn["layout"]["title"]["text"] == "t"
    assert json.loads(json.dumps(view.figure)) == drawn  # what the front end is sent first


def test_an_update_sets_only_the_traces_and_paths_it_names_in_one_message(monkeypatch):
    view = PlotView(two_traces())
    sent = recording(view, monkeypatch)
    view.plotly_update({"y": [np.array([7.0, np.inf, 9.0]), Undefined]},
                       {"title.text": "u", "annotations[0].text": "m", "xaxis.range": (0, 3)}, [0, 1])
    (msg, _), = sent
    assert msg == {"method": "update", "restyle": {"y": [[7.0, None, 9.0], None]},
                   "relayout": {"title.text": "u", "annotations[0].text": "m", "xaxis.range": [0, 3]},
                   "traces": [0, 1]}
    json.dumps(msg)  # numpy values have become plain ones
    drawn = view.current()
    assert drawn["data"][0]["y"] == [7.0, None, 9.0] and drawn["data"][1]["y"] == [5, 6]
    assert drawn["layout"]["annotations"][0]["text"] == "m" and drawn["layout"]["xaxis"]["range"] == [0, 3]


def test_react_draws_a_new_figure_and_a_view_opened_later_is_sent_the_figure_as_it_is(monkeypatch):
    view = PlotView(two_traces())
    sent = recording(view, monkeypatch)
    view._on_front_end(view, {"ask": "figure"}, [])
    assert sent == [], "an unchanged figure is the synced one: nothing to send"
    view.react(go.Figure(go.Bar(x=[1], y=[2])))
    view._on_front_end(view, {"ask": "figure"}, [])
    assert [m["method"] for m, _ in sent] == ["react", "react"]
    assert sent[1][0]["figure"]["data"][0]["type"] == "bar" and view.current()["data"][0]["y"] == [2]


def test_a_front_end_the_cartesian_bundle_was_not_served_to_gets_plotlys_own(monkeypatch):
    view = PlotView(two_traces())
    sent = recording(view, monkeypatch)
    view._on_front_end(view, {"ask": "plotly"}, [])
    (msg, buffers), = sent
    assert msg == {"method": "plotly"}
    assert f"plotly.js v{plotly.offline.get_plotlyjs_version()}".encode() in buffers[0][:400]


def test_refuses_what_is_not_a_plotly_figure():
    with pytest.raises(TypeError, match="go.Figure"):
        PlotView({"data": []})
