"""Helpers for Chapters 4 (stability) and 5 (truncation): the numerical checks those chapters run.

Each function is one experiment of the chapters, seeded and small enough to run while the book
is built: the LSTM contraction check on random parameters and states, a briefly trained tanh RNN
whose recurrent matrix is then projected, the cost of SVD against power iteration, and the
running-sum counterexample.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .. import dynamics, linalg, stability
from .._validate import check_choice, check_float, check_int, check_seed

__all__ = [
    "sample_stable_lstm",
    "LSTMCheck",
    "lstm_contraction_check",
    "delayed_recall",
    "train_toy_rnn",
    "ProjectionTimings",
    "projection_timings",
    "running_sum_errors",
]


# ------------------------------------------------------------------------ LSTM contraction (Ch. 4)


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def sample_stable_lstm(n: int, m: int, lam: float, input_bound: float = 1.0, seed: int | None = 0) -> dict:
    """Random LSTM parameters for which ``stability.lstm_condition`` certifies exactly ``lam``.

    The certified factor is ``f + ||W_z|| + (||W_i|| + ||W_o||)/4 + ||W_f||/(4(1 - f))`` with ``f``
    the forget-gate bound (norms induced l_inf). We draw ``f`` in ``(0.05 lam, 0.9 lam)``, split the
    rest ``lam - f`` at random over the four weight terms, give each block a random direction with
    that l_inf norm, and choose the forget-gate biases so that ``forget_gate_bound`` equals ``f``.

    Used in: Chapter 4 (the LSTM condition checked on random states).

    Parameters
    ----------
    n : int
        >= 1, hidden size.
    m : int
        >= 1, input size.
    lam : float
        In (0, 1), the factor to certify.
    input_bound : float
        > 0, the bound on ``||x_t||_inf`` that the forget-gate bound assumes.
    seed : int or None
        >= 0 or None.

    Returns
    -------
    dict with the keys of ``dynamics.LSTM_KEYS``.
    """
    n, m = check_int("n", n, low=1), check_int("m", m, low=1)
    lam = check_float("lam", lam, low=0.0, high=1.0, low_open=True, high_open=True)
    input_bound = check_float("input_bound", input_bound, low=0.0, low_open=True)
    rng = np.random.default_rng(check_seed("seed", seed))
    p = dynamics.random_lstm_params(n, m, scale=1.0, seed=int(rng.integers(2**31)))
    f = rng.uniform(0.05, 0.9) * lam
    share = rng.dirichlet(np.ones(4)) * (lam - f)  # terms of z, i, o, f
    radius = {"W_z": share[0], "W_i": 4.0 * share[1], "W_o": 4.0 * share[2], "W_f": 4.0 * (1.0 - f) * share[3]}
    for key, r in radius.items():
        p[key] = p[key] * (r / max(linalg.inf_norm(p[key]), 1e-300))
    # sigmoid(|W_f| row sum + |U_f| row sum * B_x + b_f) <= f on every row, with equality on one
    slack = rng.uniform(0.0, 2.0, n)
    slack[rng.integers(n)] = 0.0
    p["b_f"] = _logit(f) - np.abs(p["W_f"]).sum(1) - np.abs(p["U_f"]).sum(1) * input_bound - slack
    return p


@dataclass(frozen=True)
class LSTMCheck:
    """Result of ``lstm_contraction_check``: one entry per random parameter set."""

    certified: np.ndarray  # (n_models,) lambda certified by stability.lstm_condition
    measured: np.ndarray   # (n_models,) largest ratio ||phi(s) - phi(s')||_inf / ||s - s'||_inf over the pairs
    n_pairs: int           # state pairs per parameter set


def _distance(c: np.ndarray, h: np.ndarray, c2: np.ndarray, h2: np.ndarray) -> np.ndarray:
    """``max(||c - c2||_inf, ||h - h2||_inf)`` row by row."""
    return np.maximum(np.abs(c - c2).max(axis=-1), np.abs(h - h2).max(axis=-1))


def lstm_contraction_check(
    n_models: int = 60, n_pairs: int = 400, n: int = 8, m: int = 3, input_bound: float = 1.0, seed: int | None = 0
) -> LSTMCheck:
    """Sample stable LSTMs and state pairs; measure one-step contraction ratios in l_inf on (c, h).

    For each parameter set (``sample_stable_lstm`` with lambda uniform in [0.2, 0.99]) the states
    are drawn from the invariant set ``|h| <= 1``, ``|c| <= 1/(1 - f)``, the inputs from
    ``|x| <= input_bound``; half of the second states are drawn anywhere in the set, half close
    to the first (where the ratio approaches the local Jacobian norm). Both states get the same input.

    Used in: Chapter 4 (the LSTM condition checked numerically).

    Parameters
    ----------
    n_models : int
        >= 1.
    n_pairs : int
        >= 2, state pairs per parameter set.
    n, m : int
        >= 1, hidden and input sizes.
    input_bound : float
        > 0.
    seed : int or None
        >= 0 or None.

    Returns
    -------
    LSTMCheck.
    """
    n_models = check_int("n_models", n_models, low=1)
    n_pairs = check_int("n_pairs", n_pairs, low=2)
    n, m = check_int("n", n, low=1), check_int("m", m, low=1)
    input_bound = check_float("input_bound", input_bound, low=0.0, low_open=True)
    rng = np.random.default_rng(check_seed("seed", seed))
    certified, measured = np.empty(n_models), np.empty(n_models)
    for i in range(n_models):
        p = sample_stable_lstm(n, m, rng.uniform(0.2, 0.99), input_bound, seed=int(rng.integers(2**31)))
        report = stability.lstm_condition(p, input_bound=input_bound)
        b_c = 1.0 / (1.0 - stability.forget_gate_bound(p, input_bound))
        c, h = rng.uniform(-b_c, b_c, (n_pairs, n)), rng.uniform(-1.0, 1.0, (n_pairs, n))
        near = (np.arange(n_pairs) >= n_pairs // 2)[:, None]
        c2 = np.where(near, np.clip(c + 1e-3 * rng.standard_normal(c.shape), -b_c, b_c), rng.uniform(-b_c, b_c, c.shape))
        h2 = np.where(near, np.clip(h + 1e-3 * rng.standard_normal(h.shape), -1, 1), rng.uniform(-1, 1, h.shape))
        x = rng.uniform(-input_bound, input_bound, (n_pairs, m))
        c_next, h_next = dynamics.lstm_step(p, c, h, x)[:2]
        c2_next, h2_next = dynamics.lstm_step(p, c2, h2, x)[:2]
        ratio = _distance(c_next, h_next, c2_next, h2_next) / _distance(c, h, c2, h2)
        certified[i], measured[i] = report.contraction, float(ratio.max())
    return LSTMCheck(certified=certified, measured=measured, n_pairs=n_pairs)


# ----------------------------------------------------------------- projected training (Ch. 4)


def delayed_recall(n: int, steps: int, delay: int, seed: int):
    """Toy task: repeat the input seen ``delay`` steps ago, ``y_t = x_{t-delay}`` (0 before the start).

    Used in: Chapter 4 (a briefly trained RNN to project).

    Parameters
    ----------
    n : int
        >= 1, number of sequences.
    steps : int
        > delay, sequence length.
    delay : int
        >= 0.
    seed : int
        >= 0.

    Returns
    -------
    (X, Y): float32 torch tensors (n, steps, 1).
    """
    import torch

    n = check_int("n", n, low=1)
    delay = check_int("delay", delay, low=0)
    steps = check_int("steps", steps, low=delay + 1)
    rng = np.random.default_rng(check_seed("seed", seed))
    x = rng.standard_normal((n, steps, 1))
    y = np.zeros_like(x)
    y[:, delay:] = x[:, : steps - delay]
    return torch.from_numpy(x).float(), torch.from_numpy(y).float()


def train_toy_rnn(
    hidden: int = 32, delay: int = 8, epochs: int = 30, seed: int = 0, project: bool = False, progress: bool = False
):
    """Train a ``TanhRNN`` briefly on ``delayed_recall`` with full BPTT, unconstrained or projected.

    Used in: Chapter 4 (singular values before and after projection).

    Parameters
    ----------
    hidden : int
        >= 1, state size.
    delay : int
        >= 0, how far back the target looks.
    epochs : int
        >= 1.
    seed : int
        >= 0, seeds the data, the initial weights and the training.
    project : bool
        Projected gradient descent: clip ``||W||_2`` at 0.999 by SVD after every step.
    progress : bool
        Show a progress bar.

    Returns
    -------
    (model, TrainResult, valid_data).
    """
    import torch

    from ..models import TanhRNN
    from ..train import train

    hidden = check_int("hidden", hidden, low=1)
    seed = check_int("seed", seed, low=0)
    project = check_choice("project", project, (True, False))
    data = delayed_recall(256, 40, delay, seed)
    valid = delayed_recall(128, 40, delay, seed + 1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = TanhRNN(1, hidden, 1, stable=project)
    result = train(model, data, mode="full", loss="mse", epochs=epochs, lr=3e-3, batch_size=32,
                   seed=seed, progress=progress, device="cpu")
    return model, result, valid


# --------------------------------------------------------------- SVD vs power iteration (Ch. 4)


@dataclass(frozen=True)
class ProjectionTimings:
    """Seconds per call of the two ways of keeping ``||W||_2 <= max_norm``, by matrix size."""

    sizes: np.ndarray          # (s,) matrix sizes n (n x n)
    svd_seconds: np.ndarray    # (s,) linalg.project_spectral_norm (exact projection, one SVD)
    power_seconds: np.ndarray  # (s,) linalg.rescale_spectral_norm (power iteration, n_iter iterations)
    power_rel_error: np.ndarray  # (s,) (||W||_2 - estimate) / ||W||_2 of the power-iteration estimate
    n_iter: int


def _best_time(fn, repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return float(best)


def projection_timings(sizes=(32, 64, 128, 256), repeats: int = 5, n_iter: int = 20, seed: int = 0) -> ProjectionTimings:
    """Time the SVD projection and the power-iteration rescale on Gaussian matrices (best of ``repeats``).

    Both run with one BLAS thread: on a shared machine, multithreaded LAPACK timings measure thread
    scheduling more than the algorithms.

    Used in: Chapter 4 (the cost of imposing stability).

    Parameters
    ----------
    sizes : sequence of int
        Each in [2, 2048].
    repeats : int
        >= 1.
    n_iter : int
        >= 1, power iterations.
    seed : int
        >= 0.

    Returns
    -------
    ProjectionTimings.
    """
    sizes = np.array([check_int("sizes", int(s) if isinstance(s, np.integer) else s, low=2, high=2048) for s in sizes])
    repeats = check_int("repeats", repeats, low=1)
    n_iter = check_int("n_iter", n_iter, low=1)
    seed = check_int("seed", seed, low=0)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        rows = [_time_one(int(n), repeats, n_iter, seed) for n in sizes]
    svd_s, power_s, err = (np.array(col) for col in zip(*rows))
    return ProjectionTimings(sizes, svd_s, power_s, err, n_iter)


def _time_one(n: int, repeats: int, n_iter: int, seed: int) -> tuple[float, float, float]:
    """SVD seconds, power-iteration seconds and the power estimate's relative error for one size."""
    W = linalg.random_matrix(n, spectral_norm=1.5, seed=seed)
    svd = _best_time(lambda: linalg.project_spectral_norm(W, 1.0), repeats)
    power = _best_time(lambda: linalg.rescale_spectral_norm(W, 1.0, n_iter=n_iter, seed=seed), repeats)
    estimate = linalg.power_iteration_norm(W, n_iter=n_iter, tol=0.0, seed=seed)
    return svd, power, (1.5 - estimate) / 1.5


# ------------------------------------------------------------------ the running sum (Ch. 5)


def running_sum_errors(steps: int, ks, lam: float = 1.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Error ``|h_t - h^k_t|`` of the k-truncated scalar system ``h_t = lam h_{t-1} + x_t``, x_t uniform on [0, 1].

    ``h_t - h^k_t = lam^k h_{t-k}`` exactly: the truncated model misses the state built before its
    window. For the running sum (lam = 1) that is the whole sum ``x_1 + ... + x_{t-k}``.

    Used in: Chapter 5 (the running-sum counterexample).

    Parameters
    ----------
    steps : int
        >= 1, sequence length T.
    ks : sequence of int
        Each >= 1, context lengths.
    lam : float
        In [0, 1].
    seed : int
        >= 0.

    Returns
    -------
    (t (T,), errors (len(ks), T)).
    """
    steps = check_int("steps", steps, low=1)
    ks = [check_int("ks", int(k) if isinstance(k, np.integer) else k, low=1) for k in ks]
    lam = check_float("lam", lam, low=0.0, high=1.0)
    x = np.random.default_rng(check_int("seed", seed, low=0)).uniform(0.0, 1.0, steps)
    h = dynamics.linear_trajectory([[lam]], x[:, None])[:, 0]  # h_0 = 0, ..., h_T
    t = np.arange(1, steps + 1)
    errors = np.array([np.where(t > k, lam**k * h[np.maximum(t - k, 0)], 0.0) for k in ks])
    return t, errors
