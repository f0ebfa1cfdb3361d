"""Chapter 7 helpers: the scalar recurrence ``h_t = a h_{t-1} + x_t`` and gradient descent on ``a``.

For ``|a| > 1`` the state and its derivative ``dh_T/da`` grow geometrically: the loss surface has a
cliff at ``|a| = 1`` and gradient descent started beyond it does not converge. Everything here is
exact numpy (the model has one parameter), so the chapter can show every iterate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stablernn._validate import check_array, check_float, check_int, check_seed

__all__ = [
    "ScalarRun",
    "scalar_states",
    "scalar_derivative",
    "scalar_task",
    "scalar_loss_and_grad",
    "scalar_loss_curve",
    "scalar_gradient_descent",
    "scalar_truncation_error",
]

OVERFLOW = 1e150  # a state beyond this counts as diverged (its square would still be finite)


def _inputs(x) -> np.ndarray:
    return check_array("x", x, ndim=1)


def scalar_states(a: float, x) -> np.ndarray:
    """States ``h_0 = 0, h_t = a h_{t-1} + x_t`` for t = 1..T.

    Parameters
    ----------
    a : float, the recurrent weight (any real; ``|a| > 1`` is unstable)
    x : array (T,), the inputs

    Returns
    -------
    array (T + 1,) with ``h_0 = 0`` first (``inf`` once the state overflows).

    Used in: Chapter 7 (the unstable scalar model).
    """
    a = check_float("a", a)
    x = _inputs(x)
    h = np.zeros(len(x) + 1)
    with np.errstate(over="ignore", invalid="ignore"):
        for t, xt in enumerate(x, start=1):
            h[t] = a * h[t - 1] + xt
    return h


def scalar_derivative(a: float, x) -> np.ndarray:
    """Derivatives ``s_t = dh_t/da``, from ``s_t = h_{t-1} + a s_{t-1}``, ``s_0 = 0``.

    For constant inputs ``x_t = 1`` and ``a > 1``, ``s_T / (T a^T) -> 1 / (a (a - 1))``:
    the gradient grows like ``T a^T``.

    Returns
    -------
    array (T + 1,)

    Used in: Chapter 7 (exploding gradients).
    """
    a = check_float("a", a)
    h = scalar_states(a, x)
    s = np.zeros_like(h)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, len(h)):
            s[t] = h[t - 1] + a * s[t - 1]
    return s


def scalar_task(a_star: float = 0.8, steps: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``x`` (T,) standard normal and targets ``y_t = h_t`` of the teacher with weight ``a_star``.

    Parameters
    ----------
    a_star : float in [-2, 2];  steps : int in [2, 1000], T;  seed : int >= 0

    Used in: Chapter 7 (gradient descent on the scalar model).
    """
    a_star = check_float("a_star", a_star, low=-2.0, high=2.0)
    steps = check_int("steps", steps, low=2, high=1000)
    x = np.random.default_rng(check_seed("seed", seed)).standard_normal(steps)
    return x, scalar_states(a_star, x)[1:]


def scalar_loss_and_grad(a: float, x, y) -> tuple[float, float]:
    """Loss ``L(a) = mean_t (h_t - y_t)^2`` and its derivative ``2 mean_t (h_t - y_t) dh_t/da``.

    Non-finite (``inf`` or ``nan``) once the states overflow.

    Used in: Chapter 7.
    """
    x = _inputs(x)
    y = check_array("y", y, shape=(len(x),))
    h, s = scalar_states(a, x)[1:], scalar_derivative(a, x)[1:]
    with np.errstate(over="ignore", invalid="ignore"):
        r = h - y
        return float(np.mean(r * r)), float(2.0 * np.mean(r * s))


def scalar_loss_curve(a_values, x, y) -> np.ndarray:
    """``L(a)`` on a grid of weights (vectorised over ``a``; ``inf`` where it overflows).

    Used in: Chapter 7 (the cliff in the loss surface).
    """
    a = check_array("a_values", a_values, ndim=1)
    x = _inputs(x)
    y = check_array("y", y, shape=(len(x),))
    h, total = np.zeros_like(a), np.zeros_like(a)
    with np.errstate(over="ignore", invalid="ignore"):
        for xt, yt in zip(x, y):
            h = a * h + xt
            total += (h - yt) ** 2
        out = total / len(x)
    return np.where(np.isfinite(out), out, np.inf)


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

    Used in: Chapter 7 (gradient descent that does not converge; clipping; projection).
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
        if not (np.isfinite(loss) and np.isfinite(g) and abs(loss) < OVERFLOW):
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


def scalar_truncation_error(a: float, x, k: int) -> float:
    """``max_t |h_t - h^k_t|`` between the scalar model and its k-truncated version (``= |a|^k |h_{t-k}|``).

    Parameters
    ----------
    a : float;  x : array (T,);  k : int >= 1

    Used in: Chapter 7 (an unstable model is not truncatable).
    """
    a = check_float("a", a)
    x = _inputs(x)
    k = check_int("k", k, low=1)
    h = scalar_states(a, x)
    if k >= len(x):
        return 0.0
    # h_t - h^k_t = a^k h_{t-k}: the part of the state that the window of k inputs does not see
    return float(np.max(np.abs(a) ** k * np.abs(h[1 : len(x) - k + 1])))
