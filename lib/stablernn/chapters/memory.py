"""Chapter 9 (``09_memory``): how much of the past do trained models use?

The chapter reads the committed results of ``python -m stablernn.experiments truncation`` and
``datastability``: ``context_length`` is the data of its explorer (for every trained model, the test
metric with context k over the metric with full context), ``results_section`` the numbers it quotes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .._validate import check_choice, check_int
from ..experiments import report, schema
from ..figures.memory import PANELS
from ..models import LABELS
from . import Section

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
    """Every context length k that the results evaluate, sorted (the explorer's slider)."""
    return tuple(sorted({int(k) for row in results["metrics"]["models"] for k in row["k"]}))


def context_length(results: dict, k: int = 8) -> MemoryData:
    """Ratios metric(k) / metric(full) for every model, and where each stands at the chosen k.

    Parameters
    ----------
    results : a validated ``truncation`` results dictionary (``stablernn.experiments.schema.load``)
    k : int, one of ``grid(results)``
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


def load_results(directory: str | os.PathLike) -> tuple[dict, dict]:
    """The validated ``truncation`` and ``datastability`` results in ``directory``."""
    return schema.load("truncation", directory), schema.load("datastability", directory)


def results_section(truncation: dict, datastability: dict) -> Section:
    """Every number the chapter quotes from the two results files (``tr_*``, ``ds_*``)."""
    return Section.from_report({**report.truncation_values(truncation), **report.datastability_values(datastability)})
