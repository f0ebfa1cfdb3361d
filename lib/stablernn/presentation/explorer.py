"""The explorer: one interactive figure with a static face and a live face.

An explorer is built from a pure ``compute(**params)`` that returns plain arrays, a pure
``figure(data) -> go.Figure`` and a tuple of :class:`Control`. This module turns those into

* ``static_figure()``: one plotly figure with a frame per point of the controls' grid and one slider
  per control. With one control, plotly's own slider animation picks the frame; with several, the
  book's small script ``explorer-sliders.js`` picks the frame named by all sliders' values together
  (plotly's sliders are independent of each other).
* ``widget()``: ipywidgets controls driving a ``FigureWidget`` updated in place, with errors and
  non-finite values caught so that no slider position crashes the widget or plots NaN. Each slider
  move goes through the one public update step, :meth:`Explorer.update`. An explorer with a
  ``frame`` (what its figure changes from one parameter value to the next, as plain arrays and
  layout paths, from the chapter's figure module) computes that alone and sends only what changed
  in one ``plotly_update``: no figure is rebuilt or re-validated on a slider move. Without one, the
  whole figure is built and diffed in.

What is too slow for a slider (retraining, a training run) is an :class:`Action`: a button on the
live face with controls of its own, whose ``run`` returns the explorer's data (and may report
intermediate data, progress and status while it runs, in a background thread with a Stop button).
Its result is drawn by the same :meth:`Explorer.draw` as every slider move.

Every interactive figure of the book is an :class:`Explorer`; dashboards compose the same objects.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, Callable, Sequence

import numpy as np
import plotly.graph_objects as go

from .._validate import check_choice
from ..figures.theme import round_sig
from .plot_view import PlotView

PLOTS = ("figurewidget", "light")  # the live face's two figures (Explorer.widget)
SLIDER_PX = 85  # vertical room per static slider (current value above, tick labels below)
_ARRAY_KEYS = ("x", "y", "z", "r", "theta", "customdata")


@dataclass(frozen=True)
class Control:
    """One parameter of an explorer.

    Parameters
    ----------
    name : keyword of ``compute``.
    label : readable label with units, shown beside the control.
    values : the grid of the static face (numbers, or strings for a choice). A control with a
        single value has no slider on the static face (that value is fixed there).
    default : starting value; must be one of ``values``.
    step : for numbers, the live face is a continuous slider with this step from ``min(values)``
        to ``max(values)``, or over ``live``; ``None`` keeps the live face on ``values`` only.
    fmt : format spec for numbers (labels and frame names).
    live : (low, high) range of the live slider when it differs from the static grid's.
    """

    name: str
    label: str
    values: tuple
    default: Any
    step: float | None = None
    fmt: str = ".3g"
    live: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError(f"control {self.name!r}: values must not be empty")
        if self.default not in self.values:
            raise ValueError(f"control {self.name!r}: default {self.default!r} is not one of its values")

    @property
    def numeric(self) -> bool:
        return all(isinstance(v, Real) and not isinstance(v, bool) for v in self.values)

    @property
    def integer(self) -> bool:
        return self.numeric and all(float(v).is_integer() for v in self.values) and (
            self.step is None or float(self.step).is_integer()
        )

    def text(self, value: Any) -> str:
        """The value as shown on a slider step and used in frame names."""
        return format(value, self.fmt) if self.numeric else str(value)


@dataclass(frozen=True)
class Action:
    """A button on the live face for work too slow for a slider: a re-run, a training run.

    Parameters
    ----------
    label : text of the button.
    run : ``run(report, **values) -> data`` for the explorer's figure, with ``values`` those of
        ``controls``. ``report(data=None, *, done=None, total=None, status=None) -> bool`` draws
        intermediate data, moves the progress bar, shows a status line, and returns False once the
        reader pressed Stop. It raises ValueError or TypeError (shown, nothing drawn) on bad input.
    controls : the action's own inputs, read when the button is pressed (no grid: live face only).
    heading : shown above the action's controls.
    background : run in a thread, with a progress bar and a Stop button (for runs of many seconds).
    """

    label: str
    run: Callable[..., Any]
    controls: Sequence[Control] = ()
    heading: str = ""
    background: bool = False


@dataclass
class Explorer:
    """An interactive figure: ``compute``, ``figure`` and the controls that drive them.

    ``continuous`` makes the live sliders update while dragging (use it when ``compute`` is fast);
    ``actions`` add buttons to the live face (see :class:`Action`). ``frame(data)`` returns
    ``{"data": [dict per trace], "layout": {path: value}}``, everything ``figure(data)`` changes with
    the data (``figures.theme.apply_frame`` sets it when the figure is built, so the two agree).
    """

    title: str
    compute: Callable[..., Any]
    figure: Callable[[Any], go.Figure]
    controls: Sequence[Control]
    fixed: dict = field(default_factory=dict)
    continuous: bool = True
    actions: Sequence[Action] = ()
    frame: Callable[[Any], dict] | None = None

    # -- shared ---------------------------------------------------------------------------------
    def defaults(self) -> dict:
        return {c.name: c.default for c in self.controls}

    def render(self, **params: Any) -> go.Figure:
        """The figure for one set of parameters (missing ones take their default)."""
        return self.figure(self.compute(**{**self.fixed, **self.defaults(), **params}))

    def grid(self) -> list[dict]:
        """Every point of the static grid, as keyword dictionaries."""
        names = [c.name for c in self.controls]
        return [dict(zip(names, combo)) for combo in itertools.product(*(c.values for c in self.controls))]

    def frame_name(self, params: dict) -> str:
        """Frame name: the values of the static sliders (controls with more than one value), joined."""
        return "|".join(c.text(params[c.name]) for c in self.controls if len(c.values) > 1)

    # -- static face ----------------------------------------------------------------------------
    def static_figure(self) -> go.Figure:
        """Frames over the grid and one slider per control: interactive with no kernel.

        Frames carry only what changes: a trace, or a key of a trace, that is the same in every
        frame is left out of all of them (plotly merges frames into the traces already drawn), and so
        is a layout value that is the same in every frame (an axis range fixed by an equal aspect
        stays the figure's own, so the aspect holds after a slider move).
        """
        base = self.render()
        n_traces = len(base.data)
        names, traces, layouts = [], [], []
        for params in self.grid():
            fig = self.render(**params)
            if len(fig.data) != n_traces:
                raise RuntimeError(f"{self.title}: figure has {len(fig.data)} traces at {params}, "
                                   f"{n_traces} at the defaults; explorers keep the trace count fixed")
            names.append(self.frame_name(params))
            traces.append([_light(t).to_plotly_json() for t in fig.data])
            layouts.append(_varying_layout(fig))
        varying = _varying_keys(traces)
        layouts = _only_varying(layouts)
        indices = [i for i, keys in enumerate(varying) if keys]
        frames = [go.Frame(name=name, layout=layout, traces=indices,
                           data=[{"type": data[i]["type"], **{k: data[i][k] for k in varying[i]}} for i in indices])
                  for name, data, layout in zip(names, traces, layouts)]
        out = go.Figure(data=[_light(t) for t in base.data], layout=base.layout, frames=frames)
        _add_sliders(out, [c for c in self.controls if len(c.values) > 1],
                     joint=sum(len(c.values) > 1 for c in self.controls) > 1)
        return out

    # -- live face ------------------------------------------------------------------------------
    def draw(self, fig: Any, new: go.Figure) -> None:
        """Draw a figure built by ``figure`` into the live ``FigureWidget``: its traces' data and the
        layout values that vary with the parameters."""
        if isinstance(fig, PlotView):
            fig.react(new)
            return
        with fig.batch_update():
            for old, trace in zip(fig.data, new.data):
                old.update({k: v for k, v in _sanitize(trace).to_plotly_json().items() if k not in ("type", "uid")})
            fig.layout.update(_changed(fig.layout.to_plotly_json(), _varying_layout(new)))

    def show_data(self, fig: Any, data: Any) -> None:
        """Draw the explorer's data into the live ``FigureWidget``: its frame when it has one (only the
        values that changed are sent), else the whole figure."""
        if self.frame is None:
            self.draw(fig, self.figure(data))
        else:
            send_frame(fig, self.frame(data))

    def update(self, fig: Any, **params: Any) -> str | None:
        """Compute and draw the figure for ``params`` (the public update step of the live face);
        return the reason if they were refused."""
        try:
            data = self.compute(**{**self.fixed, **self.defaults(), **params})
            new = self.figure(data) if self.frame is None else self.frame(data)
        except (ValueError, TypeError, FloatingPointError) as err:
            return str(err)
        if self.frame is None:
            self.draw(fig, new)
        else:
            send_frame(fig, new)
        return None

    def widget(self, plot: str = "figurewidget"):
        """ipywidgets controls beside a figure that is updated in place, and the actions' buttons.

        ``plot`` is ``"figurewidget"`` (plotly's ``FigureWidget``: the chapters in JupyterLab) or
        ``"light"`` (:class:`~stablernn.presentation.plot_view.PlotView`: the dashboards)."""
        import ipywidgets as W

        check_choice("plot", plot, PLOTS)
        first = self.render()
        traces = [_sanitize(t) for t in first.data]
        fig = (go.FigureWidget(data=traces, layout=first.layout) if plot == "figurewidget"
               else PlotView(go.Figure(data=traces, layout=first.layout)))
        inputs = {c.name: _make_input(W, c, self.continuous) for c in self.controls}
        message = W.HTML(value="", layout=W.Layout(min_height="1.5em"))

        def on_change(_change: Any = None) -> None:
            refused = self.update(fig, **{name: w.value for name, w in inputs.items()})
            message.value = "" if refused is None else f"<span style='color:#D55E00'>Not shown: {_escape(refused)}</span>"

        for w in inputs.values():
            w.observe(on_change, names="value")
        actions = {a.label: _ActionPanel(W, self, a, fig) for a in self.actions}
        parts = [W.HTML(f"<b>{_escape(self.title)}</b>"), *inputs.values(), message]
        for panel in actions.values():
            parts.extend(panel.children)
        panel = W.VBox(parts, layout=W.Layout(width="320px", min_width="260px", padding="0 12px 0 0"))
        box = W.HBox([panel, W.Box([fig], layout=W.Layout(flex="1 1 560px", min_width="0"))],
                     layout=W.Layout(flex_flow="row wrap", align_items="flex-start", width="100%"))
        box.explorer_inputs = inputs  # for dashboards and tests: the controls by name
        box.explorer_figure = fig
        box.explorer_actions = actions  # label -> _ActionPanel (its inputs, button, status)
        return box


class _ActionPanel:
    """The live face of one :class:`Action`: its controls, button, status line (and progress, Stop)."""

    def __init__(self, W: Any, explorer: Explorer, action: Action, fig: Any) -> None:
        self.explorer, self.action, self.fig = explorer, action, fig
        self.inputs = {c.name: _make_input(W, c, False) for c in action.controls}
        self.button = W.Button(description=action.label, button_style="primary")
        self.status = W.HTML("", layout=W.Layout(min_height="1.5em"))
        self.progress = W.IntProgress(value=0, min=0, max=1, layout=W.Layout(width="100%"))
        self.stop_button = W.Button(description="Stop", button_style="warning", disabled=True,
                                    tooltip="stop after the current step")
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.button.on_click(lambda _b: self.start())
        self.stop_button.on_click(lambda _b: self._stop.set())
        buttons = [self.button, self.stop_button] if action.background else [self.button]
        self.children = ([W.HTML(f"<b>{_escape(action.heading)}</b>")] if action.heading else []) + [
            *self.inputs.values(), W.HBox(buttons), *([self.progress] if action.background else []), self.status]

    def report(self, data: Any = None, *, done: int | None = None, total: int | None = None,
               status: str | None = None) -> bool:
        """Draw intermediate data, move the progress bar, show a status; False once Stop was pressed."""
        with self._lock:
            if data is not None:
                self.explorer.show_data(self.fig, data)
            if total is not None:
                self.progress.max = max(1, total)
            if done is not None:
                self.progress.value = min(done, self.progress.max)
            if status is not None:
                self._reported = True
                self.status.value = status
        return not self._stop.is_set()

    def start(self, wait: bool = False) -> None:
        """Run the action (in a thread if it is a background action; ``wait`` joins it)."""
        if self.thread is not None and self.thread.is_alive():
            return
        self._stop.clear()
        self._reported = False
        self.button.disabled, self.stop_button.disabled = True, False
        self.status.value = "running…"
        if self.action.background:
            self.thread = threading.Thread(target=self._run, daemon=True)
            self.thread.start()
            if wait:
                self.thread.join()
        else:
            self._run()

    def _run(self) -> None:
        values = {name: w.value for name, w in self.inputs.items()}
        try:
            data = self.action.run(self.report, **values)
        except (ValueError, TypeError, RuntimeError, OSError) as err:
            self.status.value = f"<span style='color:#D55E00'>Not run: {_escape(err)}</span>"
        else:
            self.report(data)
            if not self._reported:
                shown = ", ".join(f"{name} = {value}" for name, value in values.items())
                self.status.value = f"done: {shown}" if shown else "done"
        finally:
            self.button.disabled, self.stop_button.disabled = False, True


# -- helpers ------------------------------------------------------------------------------------
def send_frame(fig: Any, frame: dict) -> None:
    """Set a frame's values on a ``FigureWidget`` in one ``plotly_update``, sending only what differs
    from what the figure holds (non-finite numbers become gaps). Nothing is validated or rebuilt:
    the frame comes from the same function that built the figure."""
    from plotly.basedatatypes import Undefined

    restyle: dict[str, list] = {}
    for i, (held, keys) in enumerate(zip(fig._data, frame["data"])):  # the traces' own dictionaries
        for key, value in keys.items():
            value = _gapped(value)
            if not _same(_get_path(held, key), value):
                restyle.setdefault(key, [Undefined] * len(fig._data))[i] = value
    layout = fig._layout
    relayout = {path: value for path, value in frame["layout"].items() if not _same(_get_path(layout, path), value)}
    if restyle or relayout:
        fig.plotly_update(restyle_data=restyle, relayout_data=relayout, trace_indexes=list(range(len(fig._data))))


def _gapped(value: Any) -> Any:
    """A numeric array as float64, or as a list with ``None`` where it is not finite (a gap)."""
    if isinstance(value, (str, bool, dict)) or value is None or np.isscalar(value):
        return value
    arr = np.asarray(value)
    if arr.dtype == object:
        if not all(v is None or isinstance(v, (int, float, np.number)) for v in arr.ravel()):
            return value
        arr = np.array([np.nan if v is None else v for v in arr.ravel()], dtype=float).reshape(arr.shape)
    if arr.dtype.kind not in "fiu":
        return value
    arr = arr.astype(float)
    finite = np.isfinite(arr)
    return arr if finite.all() else np.where(finite, arr, None).tolist()


def _get_path(held: dict, path: str) -> Any:
    """The value at a plotly path (``"marker.color"``, ``"annotations[1].text"``) of a figure's own
    dictionaries, or ``None`` when it is not set."""
    node: Any = held
    for part in path.replace("]", "").replace("[", ".").split("."):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
        if node is None:
            return None
    return node


def _same(held: Any, value: Any) -> bool:
    if isinstance(held, np.ndarray) or isinstance(value, np.ndarray):
        try:
            return np.array_equal(np.asarray(held, dtype=float), np.asarray(value, dtype=float))
        except (TypeError, ValueError):
            return False
    if isinstance(held, tuple) or isinstance(value, tuple):  # plotly keeps some arrays (ranges) as tuples
        return list(held) == list(value) if isinstance(held, (list, tuple)) and isinstance(value, (list, tuple)) else False
    return held == value


def _make_input(W: Any, c: Control, continuous: bool):
    style = {"description_width": "initial"}
    layout = W.Layout(width="100%")
    common = dict(description=c.label, style=style, layout=layout, continuous_update=continuous)
    if not c.numeric:
        return W.Dropdown(options=list(c.values), value=c.default, description=c.label,
                          style=style, layout=layout)
    lo, hi = c.live if c.live is not None else (min(c.values), max(c.values))
    if c.step is None:
        return W.SelectionSlider(options=[(c.text(v), v) for v in c.values], value=c.default, **common)
    if c.integer:
        return W.IntSlider(min=int(lo), max=int(hi), step=int(c.step), value=int(c.default), **common)
    decimals = max(0, -int(np.floor(np.log10(c.step)))) if c.step < 1 else 0
    return W.FloatSlider(min=lo, max=hi, step=c.step, value=c.default, readout_format=f".{decimals}f",
                         **common)


def _sanitize(trace: Any) -> Any:
    """A copy of the trace whose arrays hold ``None`` where values are not finite."""
    trace = go.Figure(data=[trace]).data[0]
    for key in _ARRAY_KEYS:
        values = getattr(trace, key, None)
        if values is None or isinstance(values, str):
            continue
        arr = np.asarray(values, dtype=object)
        if arr.dtype == object and arr.size and all(isinstance(v, (int, float, np.number)) or v is None
                                                    for v in arr.ravel()):
            num = np.array([np.nan if v is None else float(v) for v in arr.ravel()]).reshape(arr.shape)
            if not np.all(np.isfinite(num)):
                trace[key] = np.where(np.isfinite(num), num, None).tolist()
    return trace


def _light(trace: Any) -> Any:
    """Sanitised trace with numbers rounded to four significant figures (keeps pages light)."""
    trace = _sanitize(trace)
    for key in ("x", "y", "z"):
        values = getattr(trace, key, None)
        if values is None or isinstance(values, str):
            continue
        arr = np.asarray(values)
        if arr.dtype.kind == "f":
            trace[key] = round_sig(arr, 4)
    return trace


def _varying_keys(traces: list[list[dict]]) -> list[list[str]]:
    """For each trace index, the keys whose values differ between frames."""
    import json

    out = []
    for i in range(len(traces[0])):
        keys = set().union(*(t[i].keys() for t in traces)) - {"type"}
        dumped = [{k: json.dumps(t[i].get(k), default=_jsonable, sort_keys=True) for k in keys} for t in traces]
        out.append(sorted(k for k in keys if any(d[k] != dumped[0][k] for d in dumped[1:])))
    return out


def _jsonable(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else str(value)


def _only_varying(layouts: list[dict]) -> list[dict]:
    """The frames' layouts reduced to the values that differ between frames (axes key by key)."""
    import json

    def dumped(value: Any) -> str:
        return json.dumps(value, default=_jsonable, sort_keys=True)

    keys = set().union(*layouts)
    out: list[dict] = [{} for _ in layouts]
    for key in sorted(keys):
        values = [layout.get(key) for layout in layouts]
        if key.startswith(("xaxis", "yaxis")):
            subkeys = set().union(*(v or {} for v in values))
            moving = [sk for sk in sorted(subkeys) if len({dumped((v or {}).get(sk)) for v in values}) > 1]
            if "range" in moving and any("type" in (v or {}) for v in values):
                moving.append("type")  # a range in log units is read with the axis type it belongs to
            for frame, value in zip(out, values):
                part = {sk: (value or {})[sk] for sk in moving if sk in (value or {})}
                if part:
                    frame[key] = part
        elif len({dumped(v) for v in values}) > 1:
            for frame, value in zip(out, values):
                frame[key] = value
    return out


def _changed(current: dict, new: dict) -> dict:
    """The part of ``new`` (a ``_varying_layout``) that differs from the live figure's layout, axes key
    by key: an axis range that did not move is not sent again (it would undo an equal aspect)."""
    import json

    def same(a: Any, b: Any) -> bool:
        return json.dumps(a, default=_jsonable, sort_keys=True) == json.dumps(b, default=_jsonable, sort_keys=True)

    out = {}
    for key, value in new.items():
        if key.startswith(("xaxis", "yaxis")) and isinstance(value, dict):
            part = {k: v for k, v in value.items() if not same((current.get(key) or {}).get(k), v)}
            if part:
                out[key] = part
        elif not same(current.get(key), value):
            out[key] = value
    return out


def _varying_layout(fig: go.Figure) -> dict:
    """The parts of a layout that may change from one parameter value to the next."""
    layout = fig.layout.to_plotly_json()
    out = {"title": layout.get("title", {}), "annotations": layout.get("annotations", []),
           "shapes": layout.get("shapes", [])}
    for key, value in layout.items():
        if key.startswith(("xaxis", "yaxis")) and isinstance(value, dict):
            # an axis may change its range, scale or title with the parameters (log for perplexity, ...)
            axis = {k: value[k] for k in ("range", "type", "title") if k in value}
            if "type" in axis and "range" not in axis:
                axis["autorange"] = True
            if axis:
                out[key] = axis
    return out


def _add_sliders(fig: go.Figure, controls: Sequence[Control], *, joint: bool) -> None:
    """One slider per control below the plot; ``joint`` defers frame choice to the book's script."""
    n = len(controls)
    old_height = fig.layout.height or 450
    height = old_height + SLIDER_PX * n
    margin_b = (fig.layout.margin.b or 55) + SLIDER_PX * n
    margin_t = fig.layout.margin.t or 70
    plot_px = height - margin_t - margin_b
    sliders = []
    for i, c in enumerate(controls):
        steps = []
        for v in c.values:
            if joint:
                steps.append(dict(method="skip", label=c.text(v), value=c.text(v), args=[None]))
            else:
                steps.append(dict(method="animate", label=c.text(v), value=c.text(v),
                                  args=[[c.text(v)], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                                          transition=dict(duration=0))]))
        sliders.append(dict(
            active=list(c.values).index(c.default),
            steps=steps,
            currentvalue=dict(prefix=f"{c.label}: ", font=dict(size=13)),
            x=0.0, len=1.0, xanchor="left",
            y=-(60 + SLIDER_PX * i) / plot_px, yanchor="top",
            pad=dict(t=0, b=0),
            name=c.name,
        ))
    # A title or legend pinned to the container (theme.pin_header) keeps its distance from the top edge.
    for part in ("title", "legend"):
        box = getattr(fig.layout, part)
        if box.yref == "container" and box.y is not None:
            box.y = 1 - (1 - box.y) * old_height / height
    # The sliders' offsets below the plot in pixels: the book's figure-fit.js keeps them when it gives the
    # plot area less height on a narrow screen (a slider's y is a fraction of the plot area's height).
    fig.update_layout(height=height, margin=dict(b=margin_b), sliders=sliders,
                      meta={"stablernn_joint_sliders": joint,
                            "stablernn_slider_px": [60 + SLIDER_PX * i for i in range(n)]})


def _escape(text: Any) -> str:
    import html

    return html.escape(str(text))
