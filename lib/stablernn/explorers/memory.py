"""Context-length explorer (Chapter 9): how much of the past do trained models use?

Built from ``results/truncation.json``: for every trained model, the test metric of its
k-truncated version (each prediction from the k most recent inputs only) divided by the metric
with full context, against k. The slider picks a context length k; markers show where each model
stands at that k and the title counts the models within 1 % of full context.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import check_choice, check_int
from ..figures.memory import LABELS, PANELS, truncation_figure
from .base import Control, Explorer

EXPERIMENTS = tuple(e for e, _ in PANELS)


@dataclass(frozen=True)
class MemoryData:
    """Numbers shown by the context-length explorer."""

    k: int                 # chosen context length
    k_max: int             # largest k of the grid
    tolerance: float       # relative tolerance of "within" (0.01)
    curves: dict           # experiment -> label -> (ks, metric(k) / metric(full)) arrays
    at_k: dict             # experiment -> list (per label) of the ratio at k, or None
    within: dict           # experiment -> number of models within tolerance at k
    counted: dict          # experiment -> number of models with a value at k
    y_range: dict          # experiment -> (low, high) in log10 units, fixed over k
    title: str


def grid(results: dict) -> tuple[int, ...]:
    """Every context length k that the results evaluate, sorted.

    Used in: Chapter 9 (the explorer's slider).
    """
    return tuple(sorted({int(k) for row in results["metrics"]["models"] for k in row["k"]}))


def compute(results: dict, k: int = 8) -> MemoryData:
    """Ratios metric(k) / metric(full) for every model, and where each stands at the chosen k.

    Parameters
    ----------
    results : a validated ``truncation`` results dictionary (``stablernn.experiments.schema.load``)
    k : int, one of ``grid(results)``

    Used in: Chapter 9 (context-length explorer).
    """
    if not isinstance(results, dict) or results.get("name") != "truncation":
        raise TypeError("results must be the dictionary of results/truncation.json")
    k = check_choice("k", check_int("k", k, low=1), grid(results))
    tol = float(results["metrics"]["tolerance"])
    curves = {e: {label: (np.zeros(0, int), np.zeros(0)) for label in LABELS} for e in EXPERIMENTS}
    at_k = {e: [None] * len(LABELS) for e in EXPERIMENTS}
    for row in results["metrics"]["models"]:
        ks = np.asarray(row["k"], dtype=int)
        ratio = np.asarray(row["values"], dtype=float) / float(row["full"])
        curves[row["experiment"]][row["model"]] = (ks, ratio)
        if k in ks:
            at_k[row["experiment"]][LABELS.index(row["model"])] = float(ratio[list(ks).index(k)])
    within = {e: sum(v is not None and v <= 1 + tol for v in at_k[e]) for e in EXPERIMENTS}
    counted = {e: sum(v is not None for v in at_k[e]) for e in EXPERIMENTS}
    y_range = {e: _log_range([r for _, r in curves[e].values()], tol) for e in EXPERIMENTS}
    parts = [f"{within[e]} of {counted[e]} {name}" for e, name in (("music", "music models"), ("wordlm", "word LMs"))
             if counted[e]]
    detail = (f"within {tol:.0%} of full context: " + ", ".join(parts)) if parts else "no model evaluated at this k"
    title = f"Context k = {k}<br><sup>{detail}</sup>"
    return MemoryData(k, max(grid(results)), tol, curves, at_k, within, counted, y_range, title)


def _log_range(ratios: list[np.ndarray], tol: float) -> tuple[float, float]:
    values = np.concatenate([np.asarray(r, float) for r in ratios] + [np.array([1.0, 1 + 2 * tol])])
    values = values[np.isfinite(values) & (values > 0)]
    low, high = np.log10(values.min()), np.log10(values.max())
    pad = 0.05 * max(high - low, 0.01)
    return float(low - pad), float(high + pad)


def explorer(results: dict | None = None, directory: str = "results") -> Explorer:
    """The context-length explorer over the k grid of ``results`` (default: read ``directory/truncation.json``).

    Used in: Chapter 9.
    """
    from ..experiments.schema import load, validate

    results = load("truncation", directory) if results is None else validate(results)
    ks = grid(results)
    default = 8 if 8 in ks else ks[len(ks) // 2]
    control = Control("k", "context k (most recent inputs)", values=ks, default=default, step=None, fmt="d")
    return Explorer("Context length", compute, truncation_figure, (control,), fixed={"results": results})
