"""Truncation explorer (Chapter 5, the book's central figure): a stable RNN is a feed-forward model.

A tanh RNN ``h_t = tanh(W h_{t-1} + U x_t)`` with ``W = lam Q`` (Q orthogonal, so the spectral
norm ``||W||_2`` is exactly ``lam``) is compared with its k-truncated version ``h^k_t``, which
runs the same recursion from a zero state over the last k inputs only. The explorer shows the
measured ``max_t ||h_t - h^k_t||`` (over a few input sequences) and the error of a fixed linear
readout against k, the theorem's bound ``lam^k L_x B_x / (1 - lam)`` beside them, and the
smallest k that the bound certifies for an accuracy eps. For ``lam >= 1`` there is no bound and
the error stays large: inputs are small, so the state stays away from saturation, where tanh would
contract on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import dynamics, linalg
from .._validate import check_array, check_float, check_int
from ..figures.truncation import truncation_figure
from .base import Control, Explorer

HIDDEN = 16
K_MAX = 80           # largest context length shown
STEPS = 2 * K_MAX    # sequence length: every k has K_MAX times t > k to take the maximum over
N_SEQUENCES = 3
INPUT_NORM = 0.1     # every input has ||x_t||_2 = INPUT_NORM; with U = I, L_x B_x = 0.1


@dataclass(frozen=True)
class TruncationData:
    """Numbers shown by the truncation explorer (arrays are plain numpy)."""

    lam: float                # ||W||_2, the contraction factor when < 1
    k: int                    # the current context length
    eps: float                # the accuracy asked for
    lx_bx: float              # L_x B_x = ||U||_2 max_t ||x_t||_2
    ks: np.ndarray            # (K_MAX,) context lengths 1..K_MAX
    state_error: np.ndarray   # (K_MAX,) max over t and sequences of ||h_t - h^k_t||_2
    output_error: np.ndarray  # (K_MAX,) max over t and sequences of |v . (h_t - h^k_t)|, ||v||_2 = 1
    bound: np.ndarray         # (K_MAX,) lam^k L_x B_x / (1 - lam); empty when lam >= 1
    error_at_k: float         # state error at the current k (dynamics.truncation_error)
    bound_at_k: float | None  # the bound at the current k (None when lam >= 1)
    min_k_bound: int | None   # dynamics.min_context(lam, L_x B_x, eps) (None when lam >= 1)
    min_k_measured: int | None  # smallest k <= K_MAX with measured state error <= eps (None: none)
    t: np.ndarray             # (STEPS,) time steps 1..STEPS
    y_full: np.ndarray        # (STEPS,) readout of the recurrent model, first sequence
    y_truncated: np.ndarray   # (STEPS,) readout of the k-truncated model, first sequence


def problem(lam: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The explorer's model and data: ``W = lam Q``, ``U = I``, inputs (N_SEQUENCES, STEPS, HIDDEN), readout v.

    Used in: Chapter 5 (the truncation explorer).

    Parameters
    ----------
    lam : float
        > 0, the spectral norm of W.
    seed : int
        >= 0.

    Returns
    -------
    (W (n, n), U (n, n), x (N_SEQUENCES, STEPS, n), v (n,)).
    """
    lam = check_float("lam", lam, low=0.0, low_open=True)
    seed = check_int("seed", seed, low=0)
    W = lam * linalg.random_orthogonal(HIDDEN, seed=seed)
    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal((N_SEQUENCES, STEPS, HIDDEN))
    x *= INPUT_NORM / np.linalg.norm(x, axis=-1, keepdims=True)
    v = rng.standard_normal(HIDDEN)
    return W, np.eye(HIDDEN), x, v / np.linalg.norm(v)


def errors_for_all_k(W: np.ndarray, U: np.ndarray, x: np.ndarray, v: np.ndarray, k_max: int) -> tuple[np.ndarray, np.ndarray]:
    """Max over t and sequences of ``||h_t - h^k_t||`` and ``|v . (h_t - h^k_t)|`` for k = 1..k_max.

    All k at once, in one pass over time: ``G[:, j]`` holds ``h^{j+1}_t``, the state at t of the run
    started from zero at input ``t - j``. One step later that run has length ``j + 2``, so
    ``G <- tanh([0, G[:, :-1]] W^T + U x_{t+1})``. Runs that start before the sequence see zero
    state and no input, which is exactly the full model: ``h^k_t = h_t`` for ``k >= t``.
    ``O(T k_max n^2)`` work instead of one truncated model per k.

    Used in: Chapter 5 (the truncation explorer).

    Parameters
    ----------
    W : ndarray
        Shape (n, n).
    U : ndarray
        Shape (n, m).
    x : ndarray
        Shape (batch, T, m).
    v : ndarray
        Shape (n,), the readout.
    k_max : int
        >= 1.

    Returns
    -------
    (state_error (k_max,), output_error (k_max,)).
    """
    W = check_array("W", W, square=True)
    n = W.shape[0]
    U = check_array("U", U, shape=(n, None))
    x = check_array("x", x, shape=(None, None, U.shape[1]))
    v = check_array("v", v, shape=(n,))
    k_max = check_int("k_max", k_max, low=1)
    batch, steps = x.shape[0], x.shape[1]
    full = dynamics.rnn_trajectory(W, U, x)[:, 1:]
    drive = x @ U.T
    G = np.zeros((batch, k_max, n))
    state_err, output_err = np.zeros(k_max), np.zeros(k_max)
    for t in range(steps):
        G[:, 1:] = G[:, :-1]
        G[:, 0] = 0.0
        G = np.tanh(G @ W.T + drive[:, t, None, :])
        diff = full[:, t, None, :] - G  # (batch, k_max, n)
        state_err = np.maximum(state_err, np.linalg.norm(diff, axis=-1).max(axis=0))
        output_err = np.maximum(output_err, np.abs(diff @ v).max(axis=0))
    return state_err, output_err


def compute(k: int = 20, lam: float = 0.9, log10_eps: float = -2.0, seed: int = 0) -> TruncationData:
    """Truncation error against k, the bound, and the context needed for accuracy ``10**log10_eps``.

    Used in: Chapter 5 (the truncation explorer; also the Truncation dashboard).

    Parameters
    ----------
    k : int
        In [1, K_MAX], the context length of the truncated model.
    lam : float
        In [0.05, 1.5], the spectral norm of W (a contraction factor when < 1).
    log10_eps : float
        In [-7, -0.5], the accuracy asked for is ``eps = 10**log10_eps``.
    seed : int
        >= 0, seed of W, the inputs and the readout.

    Returns
    -------
    TruncationData.
    """
    k = check_int("k", k, low=1, high=K_MAX)
    lam = check_float("lam", lam, low=0.05, high=1.5)
    eps = 10.0 ** check_float("log10_eps", log10_eps, low=-7.0, high=-0.5)
    W, U, x, v = problem(lam, seed)
    state_err, output_err = errors_for_all_k(W, U, x, v, K_MAX)
    lx_bx = linalg.spectral_norm(U) * float(np.linalg.norm(x, axis=-1).max())
    ks = np.arange(1, K_MAX + 1)
    stable = lam < 1.0
    ok = np.flatnonzero(state_err <= eps)
    # the current k through the library's own truncated model (the curve above must agree with it)
    error_at_k = float(dynamics.truncation_error(W, U, x, k).max())
    y_trunc = dynamics.truncated_rnn_states(W, U, x[0], k) @ v
    return TruncationData(
        lam=lam, k=k, eps=eps, lx_bx=lx_bx, ks=ks, state_error=state_err, output_error=output_err,
        bound=dynamics.truncation_bound(lam, ks, lx_bx) if stable else np.zeros(0),
        error_at_k=error_at_k,
        bound_at_k=float(dynamics.truncation_bound(lam, k, lx_bx)) if stable else None,
        min_k_bound=dynamics.min_context(lam, lx_bx, eps) if stable else None,
        min_k_measured=int(ks[ok[0]]) if ok.size else None,
        t=np.arange(1, STEPS + 1), y_full=dynamics.rnn_trajectory(W, U, x[0])[1:] @ v, y_truncated=y_trunc,
    )


CONTROLS = (
    Control("k", "context length k", (1, 5, 10, 20, 40, 80), 20, step=1, fmt="d", live=(1, K_MAX)),
    Control("lam", "λ = ‖W‖₂", (0.5, 0.8, 0.9, 0.95, 1.0, 1.2), 0.9, step=0.01, fmt=".2f", live=(0.05, 1.5)),
    Control("log10_eps", "log₁₀ ε", (-2.0,), -2.0, step=0.5, fmt=".1f", live=(-7.0, -0.5)),
)


def explorer() -> Explorer:
    """The Chapter 5 explorer (also the Truncation dashboard)."""
    return Explorer(title="Truncating a recurrent model to its last k inputs",
                    compute=compute, figure=truncation_figure, controls=CONTROLS)
