"""Chapter 7 explorers: gradient descent on an unstable model, and data-dependent stability.

* ``descent_explorer``: gradient descent on the scalar recurrence ``h_t = a h_{t-1} + x_t`` from an
  initial weight ``a0``, plain, with gradient clipping, or projected onto ``|a| <= 0.99``.
* ``contraction_explorer``: a tanh RNN with ``||W||_2`` possibly above 1, driven by inputs of a
  chosen scale; the measured contraction factors ``||diag(1 - h_t^2) W||_2`` along its trajectories.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import dynamics, linalg
from .._validate import check_choice, check_float
from ..figures.instability import contraction_figure, descent_figure
from ..lessons import part2b_instability as lesson
from .base import Control, Explorer

# ------------------------------------------------------------------ gradient descent on a scalar

A_STAR, T_SCALAR, LR, STEPS, CLIP, BOUND = 0.8, 40, 0.01, 150, 1.0, 0.99
REMEDIES = ("none", "clipping", "projection")
A_GRID = np.linspace(-1.0, 1.3, 231)  # where the loss surface is drawn


@dataclass(frozen=True)
class DescentData:
    """Loss surface and gradient-descent iterates on the scalar model."""

    a0: float
    remedy: str
    a_grid: np.ndarray      # (G,) weights where the loss is drawn
    loss_grid: np.ndarray   # (G,) L(a) (inf beyond overflow)
    iterates: np.ndarray    # (STEPS + 1,) a_i (NaN after a divergence)
    losses: np.ndarray      # (STEPS + 1,)
    grads: np.ndarray       # (STEPS,) |dL/da| before clipping
    diverged_at: int | None
    converged: bool         # last step moved a by < 1e-4 and |dL/da| < 1e-2


def descent(a0: float = 1.1, remedy: str = "none") -> DescentData:
    """Gradient descent on ``a`` for the chapter's scalar task (teacher ``a* = 0.8``, T = 40).

    Parameters
    ----------
    a0 : float in [-1, 1.3], the initial weight
    remedy : "none", "clipping" (derivative clipped at 1) or "projection" (``|a| <= 0.99``, the
        initial weight included)
    """
    a0 = check_float("a0", a0, low=-1.0, high=1.3)
    remedy = check_choice("remedy", remedy, REMEDIES)
    x, y = lesson.scalar_task(A_STAR, T_SCALAR, seed=0)
    start = float(np.clip(a0, -BOUND, BOUND)) if remedy == "projection" else a0
    run = lesson.scalar_gradient_descent(start, x, y, lr=LR, steps=STEPS,
                                         clip=CLIP if remedy == "clipping" else None,
                                         bound=BOUND if remedy == "projection" else None)
    done = run.diverged_at is None and abs(run.a[-1] - run.a[-2]) < 1e-4 and abs(run.grad[-1]) < 1e-2
    return DescentData(a0=a0, remedy=remedy, a_grid=A_GRID, loss_grid=lesson.scalar_loss_curve(A_GRID, x, y),
                       iterates=run.a, losses=run.loss, grads=np.abs(run.grad), diverged_at=run.diverged_at,
                       converged=bool(done))


DESCENT_CONTROLS = (
    Control("a0", "initial weight a₀", (0.5, 0.9, 1.0, 1.05, 1.1, 1.2), 1.1, step=0.01, fmt=".2f", live=(-1.0, 1.3)),
    Control("remedy", "remedy", REMEDIES, "none"),
)


def descent_explorer() -> Explorer:
    """Chapter 7: gradient descent on the scalar recurrence, with and without remedies."""
    return Explorer(title="Gradient descent on h_t = a h_{t-1} + x_t", compute=descent,
                    figure=descent_figure, controls=DESCENT_CONTROLS)


# ------------------------------------------------------------------ data-dependent stability

HIDDEN, INPUTS, T_RNN, N_SEQ = 16, 4, 60, 4


@dataclass(frozen=True)
class ContractionData:
    """Measured contraction factors along trajectories of a tanh RNN."""

    norm: float              # ||W||_2
    input_scale: float       # standard deviation of the inputs
    t: np.ndarray            # (T,) steps 1..T
    factors: np.ndarray      # (N_SEQ, T) lambda_hat_t = ||diag(1 - h_t^2) W||_2
    quantiles: np.ndarray    # (Q,) sorted factors at evenly spaced probabilities
    probabilities: np.ndarray  # (Q,)
    fraction_below: float    # fraction of steps with lambda_hat_t < 1
    mean_rate: float         # geometric mean of lambda_hat_t over all steps
    distance: np.ndarray     # (T + 1,) ||h_t - h'_t|| from two initial states, same inputs


def contraction_weights(norm: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The explorer's ``W`` (16 x 16, spectral norm ``norm``) and ``U`` (16 x 4, rows of norm 1).

    Unit rows make each unit's input drive ``u_i . x_t`` have standard deviation ``input_scale``.
    """
    W = linalg.random_matrix(HIDDEN, spectral_norm=norm, seed=seed)
    U = np.random.default_rng(seed + 1).standard_normal((HIDDEN, INPUTS))
    return W, U / np.linalg.norm(U, axis=1, keepdims=True)


def contraction(norm: float = 2.0, input_scale: float = 2.0, seed: int = 0) -> ContractionData:
    """Contraction factors of a tanh RNN along trajectories driven by Gaussian inputs.

    Parameters
    ----------
    norm : float in [0.1, 5], spectral norm ``||W||_2`` (above 1: not provably stable)
    input_scale : float in [0, 20], standard deviation of the inputs ``x_t``
    seed : int >= 0, seeds the weights and the inputs
    """
    norm = check_float("norm", norm, low=0.1, high=5.0)
    input_scale = check_float("input_scale", input_scale, low=0.0, high=20.0)
    W, U = contraction_weights(norm, seed)
    rng = np.random.default_rng(seed + 2)
    x = input_scale * rng.standard_normal((N_SEQ, T_RNN, INPUTS))
    states = dynamics.rnn_trajectory(W, U, x)  # from h_0 = 0, as the model is used
    factors = dynamics.contraction_factors(W, states)
    probs = np.linspace(0.0, 1.0, 41)
    h0 = rng.standard_normal((2, HIDDEN))
    pair = dynamics.rnn_trajectory(W, U, np.repeat(x[:1], 2, axis=0), h0=h0 / np.linalg.norm(h0, axis=1, keepdims=True))
    return ContractionData(
        norm=norm, input_scale=input_scale, t=np.arange(1, T_RNN + 1), factors=factors,
        quantiles=np.quantile(factors, probs), probabilities=probs,
        fraction_below=float(np.mean(factors < 1.0)), mean_rate=float(np.exp(np.mean(np.log(factors)))),
        distance=dynamics.trajectory_distance(pair[:1], pair[1:])[0],
    )


CONTRACTION_CONTROLS = (
    Control("norm", "spectral norm ‖W‖₂", (0.5, 0.9, 1.5, 2.0, 3.0, 4.0), 2.0, step=0.05, fmt=".2f", live=(0.1, 5.0)),
    Control("input_scale", "input scale σ", (0.0, 1.0, 2.0, 4.0, 8.0, 16.0), 8.0, step=0.1, fmt=".1f", live=(0.0, 20.0)),
)


def contraction_explorer() -> Explorer:
    """Chapter 7: data-dependent stability of a tanh RNN (also a Part III dashboard candidate)."""
    return Explorer(title="Contraction measured along trajectories", compute=contraction,
                    figure=contraction_figure, controls=CONTRACTION_CONTROLS)
