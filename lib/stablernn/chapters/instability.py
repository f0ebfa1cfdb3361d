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
from ..dynamics import (SCALAR_OVERFLOW, scalar_derivative, scalar_loss_and_grad, scalar_loss_curve, scalar_task,
                        scalar_truncation_error)
from ..figures.instability import gradient_growth_figure, step_size_figure
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
    decay: bool = False,
) -> ScalarRun:
    """Gradient descent on ``a`` from ``a0``: ``a <- a - lr_i * clip(dL/da)``, optionally projected.

    Parameters
    ----------
    a0 : float in [-2, 2], the initial weight
    x, y : arrays (T,), inputs and targets (``scalar_task``)
    lr : float > 0;  steps : int in [1, 10000]
    clip : float > 0 or None, clip the derivative's magnitude at this value (gradient-norm
        clipping, as ``train.train(clip=...)`` does for a whole model)
    bound : float in (0, 1] or None, project ``a`` onto ``[-bound, bound]`` after every step
        (projected gradient descent onto the stable set)
    decay : bool, step sizes ``lr_i = lr / i`` at step i = 1, 2, ... instead of the constant ``lr``

    Returns
    -------
    ScalarRun
    """
    a = check_float("a0", a0, low=-2.0, high=2.0)
    lr = check_float("lr", lr, low=0.0, low_open=True)
    steps = check_int("steps", steps, low=1, high=10_000)
    clip = None if clip is None else check_float("clip", clip, low=0.0, low_open=True)
    bound = None if bound is None else check_float("bound", bound, low=0.0, high=1.0, low_open=True)
    decay = check_choice("decay", decay, (True, False))
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
        a = a - (lr / (i + 1) if decay else lr) * step
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


# -- why no fixed step size works: the loss's smoothness grows like T a^(2T) ---------------------

def scalar_curvature(a: float, x, y) -> float:
    """``L''(a)`` of ``L(a) = mean_t (h_t - y_t)^2`` for the scalar model, exactly.

    With ``s_t = dh_t/da`` and ``u_t = d^2 h_t/da^2 = 2 s_{t-1} + a u_{t-1}``,
    ``L'' = 2 mean_t (s_t^2 + (h_t - y_t) u_t)``. For ``a > 1`` it grows like
    ``4 C^2 T a^(2T) / (a^2 - 1)``, ``C = sum_j a^(-j) x_j`` (see ``curvature_prediction``).

    Parameters
    ----------
    a : float;  x, y : arrays (T,), inputs and targets
    """
    a = check_float("a", a)
    x = np.asarray(x, dtype=float)
    h, s = dynamics.scalar_states(a, x), scalar_derivative(a, x)
    y = np.asarray(y, dtype=float)
    u = np.zeros_like(h)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, len(h)):
            u[t] = 2.0 * s[t - 1] + a * u[t - 1]
        return float(2.0 * np.mean(s[1:] ** 2 + (h[1:] - y) * u[1:]))


def curvature_prediction(a: float, x) -> float:
    """The leading term ``4 C^2 T a^(2T) / (a^2 - 1)`` of ``L''(a)`` for ``a > 1``, ``C = sum_j a^(-j) x_j``.

    From ``h_t ~ a^t C``, ``s_t ~ t a^(t-1) C`` and ``u_t ~ t^2 a^(t-2) C``: each term of the mean is
    about ``2 t^2 a^(2t-2) C^2``, and the geometric sum over t is dominated by its last terms.
    """
    a = check_float("a", a, low=1.0, low_open=True)
    x = np.asarray(x, dtype=float)
    T = len(x)
    C = float(np.sum(a ** -np.arange(1.0, T + 1) * x))
    return 4.0 * C**2 * T * a ** (2 * T) / (a * a - 1.0)


CURVATURE_WEIGHTS = (0.8, 1.1, 1.2)   # a stable weight and two unstable ones
CURVATURE_T = tuple(range(10, 201, 10))
DECAY_STEPS = 5000                     # steps of the alpha/i run (it has settled long before)


@dataclass(frozen=True)
class StepSizeData:
    """The loss's curvature against T, and clipped descent from a = 1.2 with a fixed and a decaying step."""

    T: np.ndarray             # (n,) sequence lengths
    weights: tuple            # the a of each curvature row
    curvature: np.ndarray     # (len(weights), n) L''(a) on the chapter's task of length T
    predicted: np.ndarray     # (len(weights), n) 4 C^2 T a^(2T)/(a^2 - 1), NaN for a <= 1
    steps: np.ndarray         # (S,) logged steps of the two runs
    grad_fixed: np.ndarray    # (S,) |dL/da| of clipped descent with the constant step LR
    grad_decay: np.ndarray    # (S,) |dL/da| of clipped descent with steps LR / i
    run_fixed: ScalarRun
    run_decay: ScalarRun


def step_sizes() -> StepSizeData:
    """Curvature ``L''(a)`` against T at ``CURVATURE_WEIGHTS``; clipped descent from 1.2 (T = 40) with the
    constant step ``LR`` for ``DECAY_STEPS`` steps and with ``LR / i``."""
    T = np.array(CURVATURE_T)
    curv, pred = np.empty((len(CURVATURE_WEIGHTS), len(T))), np.full((len(CURVATURE_WEIGHTS), len(T)), np.nan)
    for j, t in enumerate(T):
        x, y = scalar_task(A_STAR, int(t), seed=0)
        for i, a in enumerate(CURVATURE_WEIGHTS):
            curv[i, j] = scalar_curvature(a, x, y)
            if a > 1:
                pred[i, j] = curvature_prediction(a, x)
    x, y = scalar_task(A_STAR, T_SCALAR, seed=0)
    fixed = scalar_gradient_descent(1.2, x, y, lr=LR, steps=DECAY_STEPS, clip=CLIP)
    decay = scalar_gradient_descent(1.2, x, y, lr=LR, steps=DECAY_STEPS, clip=CLIP, decay=True)
    logged = np.unique(np.round(np.geomspace(1, DECAY_STEPS, 60)).astype(int)) - 1
    return StepSizeData(T=T, weights=CURVATURE_WEIGHTS, curvature=curv, predicted=pred, steps=logged + 1,
                        grad_fixed=np.abs(fixed.grad[logged]), grad_decay=np.abs(decay.grad[logged]),
                        run_fixed=fixed, run_decay=decay)


def step_size_runs() -> Section:
    """Why no fixed step size works: the curvature at the ravine's minimum and in the valley, its growth in
    T, and clipped descent with steps LR / i, which settles in the ravine (values and the figure)."""
    d = step_sizes()
    x, y = scalar_task(A_STAR, T_SCALAR, seed=0)
    a_min = float(d.run_decay.a[-1])
    curv_min, curv_star = scalar_curvature(a_min, x, y), scalar_curvature(A_STAR, x, y)
    i12 = CURVATURE_WEIGHTS.index(1.2)
    col = {int(t): j for j, t in enumerate(d.T)}
    return Section(values={
        "dec_a": f"{a_min:.3f}", "dec_grad": f"{abs(d.run_decay.grad[-1]):.0e}",
        "dec_loss": f"{d.run_decay.loss[-1]:.2f}", "dec_steps": DECAY_STEPS,
        "curv_min": f"{curv_min:.1e}", "curv_star": f"{curv_star:.0f}",
        "step_max": f"{2 / curv_min:.1e}", "step_star": f"{2 / curv_star:.2f}",
        "curv12_40": f"{d.curvature[i12, col[40]]:.1e}", "curv12_80": f"{d.curvature[i12, col[80]]:.1e}",
        "curv12_200": f"{d.curvature[i12, col[200]]:.1e}",
        "curv08_max": f"{np.max(np.abs(d.curvature[CURVATURE_WEIGHTS.index(0.8)])):.0f}",
        "fixed_grad": f"{np.nanmax(np.abs(d.run_fixed.grad[-2:])):.0f}",
    }, figure=step_size_figure(d))


def clipping_exercise(epochs: int = 100) -> Section:
    """The exercise 'Clipping a whole model': an unstable TanhRNN (``||W||_2 = 1.5``) trained on Chapter 6's
    teacher data by full-batch SGD (lr 0.5) without and with clipping at 1 (values ``ce_*``)."""
    import torch

    from .. import models, train
    from . import training as lesson

    epochs = check_int("epochs", epochs, low=1, high=1000)
    x, y, x_test, y_test = lesson.teacher_task(lesson.EquivalenceSetup())
    out = {}
    for name, clip in (("none", None), ("clip", 1.0)):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model = models.TanhRNN(2, 12, 1).double()
        with torch.no_grad():
            W = model.rnn.weight_hh_l0
            W.mul_(1.5 / torch.linalg.matrix_norm(W, 2))
        result = train.train(model, (x, y), loss="mse", epochs=epochs, lr=0.5, optimizer="sgd",
                             batch_size=len(x), clip=clip, progress=False)
        out[name] = (model, float(result.train_loss[-1]))
        if clip is None:  # the first epoch whose training loss exceeds 1 (the targets are of order 0.3)
            blow = next((i + 1 for i, v in enumerate(result.train_loss) if not v <= 1.0), None)
    model, loss = out["clip"]
    with torch.no_grad():
        full = model(x)[0]
        trunc = {k: float((full - models.truncated_forward(model, x, k)).abs().max()) for k in (5, 20)}
        states = model.rnn(x)[0].numpy()  # (B, T, n), h_1..h_T
    W = model.rnn.weight_hh_l0.detach().numpy()
    factors = dynamics.contraction_factors(W, np.concatenate([np.zeros_like(states[:, :1]), states], axis=1))
    return Section(values={
        "ce_loss_none": f"{out['none'][1]:.0e}", "ce_blow": blow if blow is not None else "never", "ce_loss_clip": f"{loss:.1e}",
        "ce_test_clip": f"{train.evaluate(model, (x_test, y_test), 'mse'):.1e}",
        "ce_norm_clip": f"{linalg.spectral_norm(W):.2f}",
        "ce_trunc5": f"{trunc[5]:.1e}", "ce_trunc20": f"{trunc[20]:.1e}",
        "ce_out_scale": f"{float(full.abs().max()):.2f}",
        "ce_frac_below": f"{100 * float(np.mean(factors < 1)):.0f}",
    })
