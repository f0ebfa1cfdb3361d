"""Chapter 7 (``07_instability``): what goes wrong without stability, and data-dependent stability.

``descent`` is the data of the gradient-descent explorer (the scalar recurrence
``h_t = a h_{t-1} + x_t`` from an unstable start, with and without clipping or projection);
``contraction`` is the data of the data-dependent stability explorer (contraction factors of a
nominally unstable tanh RNN measured along the trajectories its inputs produce). The scalar model's
states, gradients and losses are in :mod:`stablernn.dynamics`, its task in :mod:`stablernn.data.tasks`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import dynamics, linalg
from .._validate import check_choice, check_float, check_int
from ..data.tasks import scalar_task
from ..dynamics import SCALAR_OVERFLOW, scalar_loss_and_grad, scalar_loss_curve, scalar_truncation_error, scalar_derivative
from ..figures.instability import gradient_growth_figure
from . import Section


@dataclass(frozen=True)
class ScalarRun:
    """Iterates of gradient descent on the scalar model.

    ``a`` (steps + 1,), ``loss`` (steps + 1,) at each iterate, ``grad`` (steps,) the raw derivative
    before clipping; after a divergence the remaining entries are NaN. ``diverged_at`` is the first
    step whose state overflowed, or None.
    """

    a: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    diverged_at: int | None


def scalar_gradient_descent(
    a0: float,
    x,
    y,
    lr: float = 0.01,
    steps: int = 60,
    clip: float | None = None,
    bound: float | None = None,
) -> ScalarRun:
    """Gradient descent on ``a`` from ``a0``: ``a <- a - lr * clip(dL/da)``, optionally projected.

    Parameters
    ----------
    a0 : float in [-2, 2], the initial weight
    x, y : arrays (T,), inputs and targets (``scalar_task``)
    lr : float > 0;  steps : int in [1, 10000]
    clip : float > 0 or None, clip the derivative's magnitude at this value (gradient-norm
        clipping, as ``train.train(clip=...)`` does for a whole model)
    bound : float in (0, 1] or None, project ``a`` onto ``[-bound, bound]`` after every step
        (projected gradient descent onto the stable set)

    Returns
    -------
    ScalarRun
    """
    a = check_float("a0", a0, low=-2.0, high=2.0)
    lr = check_float("lr", lr, low=0.0, low_open=True)
    steps = check_int("steps", steps, low=1, high=10_000)
    clip = None if clip is None else check_float("clip", clip, low=0.0, low_open=True)
    bound = None if bound is None else check_float("bound", bound, low=0.0, high=1.0, low_open=True)
    iterates, losses, grads = np.full(steps + 1, np.nan), np.full(steps + 1, np.nan), np.full(steps, np.nan)
    diverged = None
    for i in range(steps + 1):
        loss, g = scalar_loss_and_grad(a, x, y)
        if not (np.isfinite(loss) and np.isfinite(g) and abs(loss) < SCALAR_OVERFLOW):
            diverged = i
            break
        iterates[i], losses[i] = a, loss
        if i == steps:
            break
        grads[i] = g
        step = g if clip is None else float(np.clip(g, -clip, clip))
        a = a - lr * step
        if bound is not None:
            a = float(np.clip(a, -bound, bound))
        if not np.isfinite(a):
            diverged = i + 1
            break
    return ScalarRun(a=iterates, loss=losses, grad=grads, diverged_at=diverged)


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
    x, y = scalar_task(A_STAR, T_SCALAR, seed=0)
    start = float(np.clip(a0, -BOUND, BOUND)) if remedy == "projection" else a0
    run = scalar_gradient_descent(start, x, y, lr=LR, steps=STEPS,
                                  clip=CLIP if remedy == "clipping" else None,
                                  bound=BOUND if remedy == "projection" else None)
    done = run.diverged_at is None and abs(run.a[-1] - run.a[-2]) < 1e-4 and abs(run.grad[-1]) < 1e-2
    return DescentData(a0=a0, remedy=remedy, a_grid=A_GRID, loss_grid=scalar_loss_curve(A_GRID, x, y),
                       iterates=run.a, losses=run.loss, grads=np.abs(run.grad), diverged_at=run.diverged_at,
                       converged=bool(done))


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


# -- the chapter's worked numbers ---------------------------------------------------------------

def gradient_growth(a: float = 1.1, horizon: int = 80) -> Section:
    """``dh_T/da`` for constant inputs against T at a few weights, and its ratio to ``T a^T`` (values)."""
    T = np.arange(1, horizon + 1)
    derivs = {w: np.array([scalar_derivative(w, np.ones(t))[-1] for t in T]) for w in (0.9, 1.0, 1.05, 1.1)}
    ratios = {t: scalar_derivative(a, np.ones(t))[-1] / (t * a**t) for t in (20, 80, 320)}
    return Section(values={"ratio_20": f"{ratios[20]:.2f}", "ratio_80": f"{ratios[80]:.2f}",
                           "ratio_320": f"{ratios[320]:.2f}", "ratio_lim": f"{1 / (a * (a - 1)):.2f}",
                           "d80_11": f"{derivs[1.1][-1]:.1e}", "d80_09": f"{derivs[0.9][-1]:.1f}"},
                   figure=gradient_growth_figure(T, derivs))


def descent_runs() -> Section:
    """Gradient descent from a = 1.1 and 1.2, plain, clipped and projected, as the prose quotes it (values)."""
    runs = {(a0, r): descent(a0, r) for a0 in (1.1, 1.2) for r in REMEDIES}
    plain, clipped, stuck, projected = runs[1.1, "none"], runs[1.1, "clipping"], runs[1.2, "clipping"], runs[1.2, "projection"]
    x, _ = scalar_task(A_STAR, T_SCALAR, seed=0)
    a_stuck = stuck.iterates[-1]
    return Section(values={
        "plain_div": plain.diverged_at, "plain_g0": f"{plain.grads[0]:.1e}",
        "clip_final": f"{clipped.iterates[-1]:.3f}",
        "stuck_lo": f"{np.min(stuck.iterates[-2:]):.3f}", "stuck_hi": f"{np.max(stuck.iterates[-2:]):.3f}",
        "stuck_grad": f"{np.max(stuck.grads[-2:]):.0f}", "stuck_loss": f"{stuck.losses[-1]:.2f}",
        "proj_final": f"{projected.iterates[-1]:.3f}",
        "trunc_stuck": f"{scalar_truncation_error(a_stuck, x, 10):.1f}",
        "trunc_star": f"{scalar_truncation_error(A_STAR, x, 10):.2f}", "steps": STEPS})


def contraction_cases() -> Section:
    """The data-dependent contraction at two norms and two input scales, as the prose quotes it (values)."""
    dd = {(n, s): contraction(n, s) for n in (0.9, 2.0) for s in (0.0, 8.0)}
    return Section(values={
        "frac_2_8": f"{100 * dd[2.0, 8.0].fraction_below:.0f}", "rate_2_8": f"{dd[2.0, 8.0].mean_rate:.2f}",
        "frac_2_0": f"{100 * dd[2.0, 0.0].fraction_below:.0f}", "frac_09_0": f"{100 * dd[0.9, 0.0].fraction_below:.0f}",
        "merge_2_8": int(np.argmax(dd[2.0, 8.0].distance < 1e-12)), "dist_2_0": f"{dd[2.0, 0.0].distance[-1]:.2f}"})
