"""Training-equivalence explorer (Chapter 6): recurrent vs k-truncated gradient descent.

The static face steps through a precomputed grid over k (``lessons.part2b_equivalence``); the live
face adds a *Run* button that retrains both students for any k and number of steps (a few seconds),
because training is too slow for a slider.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .._validate import check_choice, check_int
from ..figures.equivalence import equivalence_figure
from ..lessons import part2b_equivalence as lesson
from .base import Control, Explorer, _escape, _sanitize, _varying_layout

LIVE_STEPS = (10, 200)  # range of the live "steps" slider


@dataclass(frozen=True)
class EquivalenceData:
    """What the explorer shows for one k (arrays indexed by schedule first, as ``lesson.SCHEDULES``)."""

    k: int
    steps: int
    lam: float
    schedules: tuple
    logged: np.ndarray        # (S,) steps N
    weight_gap: np.ndarray    # (2, S) for the current k
    pred_gap: np.ndarray      # (2, S)
    k_values: np.ndarray      # (K,)
    final_weight: np.ndarray  # (2, K) after N steps
    final_pred: np.ndarray    # (2, K)
    rate: np.ndarray          # (K,) lam^k scaled to the k = k_values[0] weight gap (decaying)
    current: np.ndarray       # (4,) weight, prediction (decaying), weight, prediction (constant) at k


def _check_grid(grid: Any) -> lesson.EquivalenceGrid:
    if not isinstance(grid, lesson.EquivalenceGrid):
        raise TypeError(f"grid must be an EquivalenceGrid (from equivalence_grid), got {type(grid).__name__}")
    return grid


def _data(grid: lesson.EquivalenceGrid, k: int, wgap: np.ndarray, pgap: np.ndarray,
          logged: np.ndarray, steps: int) -> EquivalenceData:
    lam = grid.setup.lam
    ks = grid.k_values.astype(float)
    final_w, final_p = grid.weight_gap[:, :, -1], grid.pred_gap[:, :, -1]
    return EquivalenceData(
        k=k, steps=steps, lam=lam, schedules=lesson.SCHEDULES, logged=logged, weight_gap=wgap, pred_gap=pgap,
        k_values=grid.k_values, final_weight=final_w, final_pred=final_p,
        rate=final_w[0, 0] * lam ** (ks - ks[0]),
        current=np.array([wgap[0, -1], pgap[0, -1], wgap[1, -1], pgap[1, -1]]),
    )


def compute(k: int = 8, grid: lesson.EquivalenceGrid | None = None) -> EquivalenceData:
    """The gaps for one k of a precomputed grid (selection only: instant).

    Parameters
    ----------
    k : int, one of ``grid.k_values``
    grid : EquivalenceGrid from ``lessons.part2b_equivalence.equivalence_grid``
    """
    grid = _check_grid(grid)
    k = check_choice("k", k, tuple(int(v) for v in grid.k_values))
    j = int(np.flatnonzero(grid.k_values == k)[0])
    return _data(grid, k, grid.weight_gap[:, j], grid.pred_gap[:, j], grid.logged, grid.steps)


def rerun(k: int, steps: int, grid: lesson.EquivalenceGrid | None = None) -> EquivalenceData:
    """Retrain both students live for one k and N steps (both schedules); a few seconds.

    The right panel keeps the grid's curves; the markers show the new run's final gaps.

    Parameters
    ----------
    k : int in [1, T], truncation length;  steps : int in ``LIVE_STEPS``, gradient steps N
    grid : EquivalenceGrid whose setup (teacher, sizes, schedules) the run reuses
    """
    grid = _check_grid(grid)
    k = check_int("k", k, low=1, high=grid.setup.steps_per_sequence)
    steps = check_int("steps", steps, low=LIVE_STEPS[0], high=LIVE_STEPS[1])
    run = lesson.equivalence_grid(grid.setup, (k,), steps)
    return _data(grid, k, run.weight_gap[:, 0], run.pred_gap[:, 0], run.logged, steps)


@dataclass
class RerunExplorer(Explorer):
    """An explorer whose live face also has a *Run* button that calls ``rerun(k, steps)``."""

    rerun: Callable[..., Any] | None = None
    k_max: int = 40

    def widget(self):
        """The base live face plus sliders for k and N and a Run button."""
        import ipywidgets as W

        box = super().widget()
        fig = box.explorer_figure
        k_in = W.IntSlider(value=self.defaults()["k"], min=1, max=self.k_max, description="re-run with k",
                           style={"description_width": "initial"}, continuous_update=False)
        n_in = W.IntSlider(value=100, min=LIVE_STEPS[0], max=LIVE_STEPS[1], step=10, description="steps N",
                           style={"description_width": "initial"}, continuous_update=False)
        button = W.Button(description="Run (a few seconds)", button_style="primary")
        note = W.HTML("")

        def run(_b: Any = None) -> None:
            button.disabled, note.value = True, "training both students…"
            try:
                new = self.figure(self.rerun(k_in.value, n_in.value))
            except (ValueError, TypeError) as err:
                note.value = f"<span style='color:#D55E00'>Not run: {_escape(err)}</span>"
                return
            finally:
                button.disabled = False
            note.value = f"done: k = {k_in.value}, N = {n_in.value}"
            with fig.batch_update():
                for old, trace in zip(fig.data, new.data):
                    old.update({key: v for key, v in _sanitize(trace).to_plotly_json().items()
                                if key not in ("type", "uid")})
                fig.layout.update(_varying_layout(new))

        button.on_click(run)
        panel = box.children[0]
        panel.children = (*panel.children, W.HTML("<b>Train live</b>"), k_in, n_in, button, note)
        box.explorer_rerun = (k_in, n_in, button)  # for tests and dashboards
        return box


def explorer(grid: lesson.EquivalenceGrid) -> RerunExplorer:
    """The Chapter 6 explorer over a precomputed grid (the k slider) with a live Run button."""
    grid = _check_grid(grid)
    ks = tuple(int(v) for v in grid.k_values)
    default = 8 if 8 in ks else ks[len(ks) // 2]
    controls = (Control("k", "truncation length k", ks, default, step=None, fmt="d"),)

    def live(k: int, steps: int) -> EquivalenceData:
        return rerun(k, steps, grid)

    return RerunExplorer(title="Recurrent vs truncated gradient descent", compute=compute,
                         figure=equivalence_figure, controls=controls, fixed={"grid": grid},
                         rerun=live, k_max=grid.setup.steps_per_sequence)
