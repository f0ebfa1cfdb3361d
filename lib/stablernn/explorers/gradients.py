"""Gradient-connectivity explorer (Chapter 2): how far back a gradient reaches.

The reader sets the spectral radius of the recurrent matrix ``W``, how far ``W`` is from normal,
and the sequence length T. The explorer shows ``||dh_T / dh_{T-l}||_2`` against the lag l for the
tanh RNN driven by random inputs and for the linear system ``h_t = W h_{t-1} + x_t``, beside the
geometric rates ``||W||_2^l`` (spectral norm: a bound on both) and ``rho(W)^l`` (spectral radius:
the long-run rate of the linear system).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import dynamics, linalg
from .._validate import check_float, check_int, check_seed
from ..figures.gradients import gradient_figure
from .base import Control, Explorer

HIDDEN = 8  # small enough for instant updates
BATCH = 4  # input sequences averaged over
INPUT_SCALE = 1.0  # standard deviation of the inputs of the tanh RNN


@dataclass(frozen=True)
class GradientData:
    """Numbers shown by the gradient-connectivity explorer."""

    radius: float           # spectral radius rho(W) (exact by construction)
    nonnormality: float     # departure from normality of W
    spectral_norm: float    # ||W||_2, the rate lambda of the bound lambda^l
    lags: np.ndarray        # (T,) lags l = 0..T-1
    rnn: np.ndarray         # (T,) mean ||dh_T/dh_{T-l}||_2, tanh RNN on random inputs
    linear: np.ndarray      # (T,) ||W^l||_2, linear system (the Jacobian does not depend on the state)
    norm_rate: np.ndarray   # (T,) ||W||_2^l
    radius_rate: np.ndarray  # (T,) rho(W)^l


def compute(radius: float = 0.9, nonnormality: float = 0.0, length: int = 60, seed: int = 0) -> GradientData:
    """Jacobian norms against lag for one setting of the explorer.

    Used in: Chapter 2 (vanishing and exploding gradients).

    Parameters
    ----------
    radius : spectral radius of ``W``, in [0, 1.5].
    nonnormality : departure from normality of ``W``, in [0, 3] (0 = normal matrix).
    length : sequence length T, in [5, 300]; lags run from 0 to T - 1.
    seed : seed of ``W``'s basis and of the inputs, >= 0.

    Returns
    -------
    GradientData.
    """
    radius = check_float("radius", radius, low=0.0, high=1.5)
    nonnormality = check_float("nonnormality", nonnormality, low=0.0, high=3.0)
    length = check_int("length", length, low=5, high=300)
    seed = check_seed("seed", seed)
    W = linalg.matrix_with_spectrum(HIDDEN, radius, nonnormality, kind="rotation", seed=seed)
    x = INPUT_SCALE * np.random.default_rng(seed).normal(size=(BATCH, length, HIDDEN))
    states = dynamics.rnn_trajectory(W, np.eye(HIDDEN), x)
    lags = np.arange(length)
    norm = linalg.spectral_norm(W)
    return GradientData(
        radius=radius,
        nonnormality=nonnormality,
        spectral_norm=norm,
        lags=lags,
        rnn=dynamics.jacobian_norms_vs_lag(W, states, kind="rnn"),
        linear=dynamics.jacobian_norms_vs_lag(W, states[:1], kind="linear"),
        norm_rate=norm ** lags.astype(float),
        radius_rate=radius ** lags.astype(float),
    )


CONTROLS = (
    Control("radius", "spectral radius ρ(W)", (0.5, 0.8, 0.9, 1.0, 1.1), 0.9, step=0.01, fmt=".2f", live=(0.0, 1.5)),
    Control("nonnormality", "non-normality", (0.0, 1.0, 2.0), 0.0, step=0.05, fmt=".2f", live=(0.0, 3.0)),
    Control("length", "sequence length T", (30, 80), 80, step=5, fmt="d", live=(5, 300)),
)


def explorer() -> Explorer:
    """The Chapter 2 gradient-connectivity explorer."""
    return Explorer(title="Gradient size against lag", compute=compute, figure=gradient_figure, controls=CONTROLS)
