"""Context-length explorer (Chapter 2): is a lag learned by truncated BPTT with window k?

The numbers come from a grid of training runs made once (``lessons.part1_bptt.recall_grid``);
the slider picks the window length k and the figure shows, for every lag L of the delayed-recall
task, the test loss reached, the chance level, and the largest lag a window's gradient spans (k - 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import check_choice
from ..figures.context import context_figure
from .base import Control, Explorer


@dataclass(frozen=True)
class ContextData:
    """Results for one window length k."""

    k: int
    lags: np.ndarray     # (n_lags,) lags L of the task
    loss: np.ndarray     # (n_lags,) test mean squared error after training with window k
    learned: np.ndarray  # (n_lags,) bool, loss below the threshold
    chance: float        # loss of a model that forgets (predicts 0)
    threshold: float     # "learned" below this loss


def compute(k: int, grid) -> ContextData:
    """The row of ``grid`` for window length ``k``.

    Used in: Chapter 2 (truncated BPTT).

    Parameters
    ----------
    k : one of ``grid.ks``.
    grid : a ``lessons.part1_bptt.RecallGrid``.

    Returns
    -------
    ContextData.
    """
    if not all(hasattr(grid, a) for a in ("ks", "lags", "loss", "chance", "threshold")):
        raise TypeError(f"grid must be a RecallGrid, got {type(grid).__name__}")
    k = check_choice("k", k, grid.ks)
    i = grid.ks.index(k)
    loss = np.asarray(grid.loss[i], dtype=float)
    return ContextData(k=k, lags=np.asarray(grid.lags), loss=loss, learned=loss < grid.threshold,
                       chance=float(grid.chance), threshold=float(grid.threshold))


def explorer(grid) -> Explorer:
    """The Chapter 2 context-length explorer over a precomputed ``RecallGrid``."""
    middle = grid.ks[len(grid.ks) // 2]
    controls = (Control("k", "truncation window k", tuple(grid.ks), middle, fmt="d"),)
    return Explorer(title="Truncated BPTT: which lags are learned", compute=compute, figure=context_figure,
                    controls=controls, fixed={"grid": grid})
