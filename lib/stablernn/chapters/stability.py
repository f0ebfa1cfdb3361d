"""Chapter 4 (``04_stability``): stability, spectral norm against spectral radius, and how to impose it.

``transient`` is the data of the non-normal transient explorer (``A = [[r, c], [0, r]]``: spectral
radius below one, yet no contraction). The other functions are the chapter's numerical checks, each
seeded and small enough to run while the book is built: the Jacobian bound along trajectories, the
LSTM condition on random parameters and states, a briefly trained tanh RNN whose recurrent matrix is
then projected, and the cost of SVD against power iteration.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import dynamics, linalg, stability
from .._validate import check_choice, check_float, check_int, check_ints, check_seed
from ..data.tasks import delayed_recall
from ..figures.stability import (jacobian_figure, lstm_ratio_figure, projection_cost_figure,
                                 singular_values_figure)
from ..models import LSTMModel, TanhRNN
from ..timing import best_seconds
from ..train import evaluate, train
from . import Section

PROJECTION_NORM = 0.999  # the bound ||W||_2 <= 0.999 of the chapter's projection



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
        p = stability.sample_stable_lstm(n, m, rng.uniform(0.2, 0.99), input_bound, seed=int(rng.integers(2**31)))
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


# -- projected training ------------------------------------------------------------------------


def train_toy_rnn(
    hidden: int = 32, delay: int = 8, epochs: int = 30, seed: int = 0, project: bool = False, progress: bool = False
):
    """Train a ``TanhRNN`` briefly on ``delayed_recall`` with full BPTT, unconstrained or projected.

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
        Projected gradient descent: clip ``||W||_2`` at ``PROJECTION_NORM`` by SVD after every step.
    progress : bool
        Show a progress bar.

    Returns
    -------
    (model, TrainResult, valid_data).
    """
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


# -- SVD against power iteration ---------------------------------------------------------------


@dataclass(frozen=True)
class ProjectionTimings:
    """Seconds per call of the two ways of keeping ``||W||_2 <= max_norm``, by matrix size."""

    sizes: np.ndarray          # (s,) matrix sizes n (n x n)
    svd_seconds: np.ndarray    # (s,) linalg.project_spectral_norm (exact projection, one SVD)
    power_seconds: np.ndarray  # (s,) linalg.rescale_spectral_norm (n_iter warm-started iterations + its check)
    power_rel_error: np.ndarray  # (s,) (||W||_2 - estimate) / ||W||_2 of the power-iteration estimate
    n_iter: int


def projection_timings(sizes=(32, 64, 128, 256), repeats: int = 5, n_iter: int = 20, seed: int = 0) -> ProjectionTimings:
    """Time the SVD projection and the power-iteration rescale on Gaussian matrices (best of ``repeats``).

    Both run with one BLAS thread: on a shared machine, multithreaded LAPACK timings measure thread
    scheduling more than the algorithms.

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
    sizes = np.array(check_ints("sizes", sizes, low=2, high=2048))
    repeats = check_int("repeats", repeats, low=1)
    n_iter = check_int("n_iter", n_iter, low=1)
    seed = check_int("seed", seed, low=0)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        rows = [_time_one(int(n), repeats, n_iter, seed) for n in sizes]
    svd_s, power_s, err = (np.array(col) for col in zip(*rows))
    return ProjectionTimings(sizes, svd_s, power_s, err, n_iter)


def _time_one(n: int, repeats: int, n_iter: int, seed: int) -> tuple[float, float, float]:
    """SVD seconds, power-iteration seconds and the power estimate's relative error for one size.

    The rescale is timed as training uses it: warm-started from the vector of the previous call,
    here on a nearby matrix (a 1 % step), so that its check certifies the estimate (padded by 1e-3 at
    most, at these sizes) without an SVD."""
    W = linalg.random_matrix(n, spectral_norm=1.5, seed=seed)
    previous = W + 0.01 * linalg.random_matrix(n, spectral_norm=1.0, seed=seed + 1)
    start = linalg.rescale_factor(previous, 1.0, n_iter=n_iter, seed=seed).start
    svd = best_seconds(lambda: linalg.project_spectral_norm(W, 1.0), repeats)
    power = best_seconds(lambda: linalg.rescale_spectral_norm(W, 1.0, n_iter=n_iter, start=start), repeats)
    estimate = linalg.power_iteration_norm(W, n_iter=n_iter, tol=0.0, seed=seed)
    return svd, power, (1.5 - estimate) / 1.5


# -- the non-normal transient explorer ---------------------------------------------------------

INPUT_SCALE = 0.3  # size of the shared inputs of the two trajectories


@dataclass(frozen=True)
class TransientData:
    """Numbers shown by the non-normal transient explorer (arrays are plain numpy)."""

    radius: float              # r, the spectral radius of A
    coupling: float            # c, the off-diagonal entry
    spectral_norm: float       # ||A||_2
    k: np.ndarray              # (horizon + 1,) powers k = 0..horizon
    power_norms: np.ndarray    # (horizon + 1,) ||A^k||_2
    peak: float | None         # max over k >= 0 of ||A^k||_2 (None: unbounded, r >= 1 and A != 0)
    k_peak: int | None         # the k where it is reached
    k_below_one: int | None    # first k >= 1 with ||A^k||_2 < 1 (None: never, r >= 1)
    lyapunov_factor: float | None     # ||A||_P < 1 in the Lyapunov norm (None when r >= 1)
    lyapunov_condition: float | None  # sqrt(cond(P)): ||A^k||_2 <= this * factor^k
    linear_distance: np.ndarray  # (horizon + 1,) ||h_t - h'_t||, linear system, same inputs
    tanh_distance: np.ndarray    # (horizon + 1,) ||h_t - h'_t||, tanh RNN, same inputs


def transient(radius: float = 0.9, coupling: float = 1.0, horizon: int = 60, seed: int = 0) -> TransientData:
    """Norms of powers and trajectory distances for ``A = [[r, c], [0, r]]``.

    Parameters
    ----------
    radius : float
        In [0, 1.2], the spectral radius r.
    coupling : float
        In [0, 4], the coupling c.
    horizon : int
        In [10, 300], number of powers and time steps shown.
    seed : int
        >= 0, seed of the shared inputs.

    Returns
    -------
    TransientData.
    """
    radius = check_float("radius", radius, low=0.0, high=1.2)
    coupling = check_float("coupling", coupling, low=0.0, high=4.0)
    horizon = check_int("horizon", horizon, low=10, high=300)
    A = linalg.nonnormal_example(radius, coupling)
    k = np.arange(horizon + 1)
    peak, k_peak, k_below = linalg.transient_summary(radius, coupling)
    lyap = stability.lyapunov_certificate(A)
    # Two trajectories, the same inputs, initial states one unit apart along e2: the direction that
    # the coupling feeds into the first coordinate.
    rng = np.random.default_rng(check_int("seed", seed, low=0))
    x = np.repeat(INPUT_SCALE * rng.standard_normal((1, horizon, 2)), 2, axis=0)
    h0 = np.array([[0.0, 0.0], [0.0, 1.0]])
    lin = dynamics.linear_trajectory(A, x, h0=h0)
    tanh = dynamics.rnn_trajectory(A, np.eye(2), x, h0=h0)
    return TransientData(
        radius=radius, coupling=coupling, spectral_norm=linalg.spectral_norm(A), k=k,
        power_norms=linalg.power_norms(A, horizon), peak=peak, k_peak=k_peak, k_below_one=k_below,
        lyapunov_factor=None if lyap is None else lyap[0],
        lyapunov_condition=None if lyap is None else lyap[1],
        linear_distance=dynamics.trajectory_distance(lin[0], lin[1]),
        tanh_distance=dynamics.trajectory_distance(tanh[0], tanh[1]),
    )


# -- the chapter's worked numbers ---------------------------------------------------------------

def jacobian_bound(lam: float = 0.9) -> Section:
    """``||dh_t/dh_{t-l}||_2`` along trajectories of a tanh RNN with ``||W||_2 = lam``, worst of 8
    sequences, against the bound ``lam^l`` (values ``jac_lam``, ``jac_worst``: the largest ratio)."""
    W = linalg.random_matrix(16, spectral_norm=lam, seed=0)
    U = linalg.random_matrix(16, spectral_norm=1.0, seed=1, m=4)
    x = np.random.default_rng(2).standard_normal((8, 30, 4))
    states = dynamics.rnn_trajectory(W, U, x)
    jac = dynamics.jacobian_norms_vs_lag(W, states, average=False).max(axis=0)  # worst sequence per lag
    lags = np.arange(len(jac))
    return Section(values={"jac_lam": f"{linalg.spectral_norm(W):.2f}",
                           "jac_worst": f"{np.max(jac[1:] / lam ** lags[1:]):.2f}"},
                   figure=jacobian_figure(lags, jac, lam, "measured, worst of 8 sequences"))


def transient_example() -> Section:
    """The explorer's default matrix (r = 0.9, c = 1) and its Lyapunov-norm certificate (values ``tr_*``)."""
    ex = transient(radius=0.9, coupling=1.0, horizon=60)
    lam_p, cond_p = stability.lyapunov_certificate(linalg.nonnormal_example(0.9, 1.0), target=0.95)
    return Section(values={"tr_norm": f"{ex.spectral_norm:.3f}", "tr_peak": f"{ex.peak:.2f}", "tr_kpeak": ex.k_peak,
                           "tr_kbelow": ex.k_below_one, "tr_lyap_lam": f"{lam_p:.4f}",
                           "tr_lyap_gap": f"{0.95 - lam_p:.1e}", "tr_lyap_cond": f"{cond_p:.1f}"})


def transient_answers() -> Section:
    """The Try-it answers: a larger coupling, and a radius closer to one (values ``tr_c2_*``, ``tr_r95_*``)."""
    peak_c2, _, below_c2 = linalg.transient_summary(0.9, 2.0)
    peak_r95, _, below_r95 = linalg.transient_summary(0.95, 1.0)
    return Section(values={"tr_c2_peak": f"{peak_c2:.2f}", "tr_c2_below": below_c2,
                           "tr_r95_below": below_r95, "tr_r95_peak": f"{peak_r95:.2f}"})


def lstm_check(forget_bound: float = 0.6) -> Section:
    """The LSTM condition: the factor at the boundary of the recalled condition, and the certificate
    checked on random stable LSTMs and state pairs (values ``lstm_*``)."""
    p = dynamics.random_lstm_params(8, 3, seed=0)
    f = forget_bound
    for key, r in {"W_i": 1 - f, "W_o": 1 - f, "W_z": (1 - f) / 4, "W_f": (1 - f) ** 2}.items():
        p[key] = p[key] * (r / linalg.inf_norm(p[key]))
    check = lstm_contraction_check(n_models=60, n_pairs=400, seed=0)
    return Section(values={"lstm_boundary": f"{stability.lstm_contraction_factor(stability.lstm_block_norms(p), f):.6f}",
                           "lstm_models": len(check.certified), "lstm_pairs": check.n_pairs,
                           "lstm_violations": int(np.sum(check.measured > check.certified)),
                           "lstm_worst": f"{np.max(check.measured / check.certified):.2f}"},
                   figure=lstm_ratio_figure(check.certified, check.measured))


def certified_lstm(forget_bound: float = 0.5, input_bound: float = 1.0) -> Section:
    """An LSTM whose forget gates start wide open (bias +4), before and after ``LSTMModel.project_()``:
    the forget-gate bound from the weights and the certificate (values ``cl_*``)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = LSTMModel(3, 8, 1, forget_bound=forget_bound, input_bound=input_bound)
    n = model.hidden_size
    with torch.no_grad():
        model.rnn.bias_ih_l0[n:2 * n] += 4.0  # forget gates held open, as unconstrained training often leaves them
    p_before = stability.lstm_params_from_torch(model.rnn)
    before = model.certificate(input_bound=input_bound)
    model.project_()
    p_after = stability.lstm_params_from_torch(model.rnn)
    after = model.certificate(input_bound=input_bound)
    return Section(values={
        "cl_fbar": f"{forget_bound:g}", "cl_bx": f"{input_bound:g}",
        "cl_forget_before": f"{stability.forget_gate_bound(p_before, input_bound):.3f}",
        "cl_forget_after": f"{stability.forget_gate_bound(p_after, input_bound):.3f}",
        "cl_before": "holds" if before.holds else "does not hold",
        "cl_after": "holds" if after.holds else "does not hold", "cl_lam": f"{after.contraction:.4f}"})


def projection_example() -> Section:
    """A tanh RNN trained without constraint, then projected once, against one trained with projection
    after every step: norms and validation losses (values ``pgd_*``) and the singular values."""
    model, _, valid = train_toy_rnn(project=False)
    W = model.recurrent_weights()[0]
    W_before = W.detach().double().numpy().copy()
    loss_before = evaluate(model, valid, "mse")
    stability.project_rnn_(W.data, max_norm=PROJECTION_NORM)
    W_after = W.detach().double().numpy()
    loss_after = evaluate(model, valid, "mse")
    pgd_model, _, _ = train_toy_rnn(project=True)
    sv_before, sv_after = np.linalg.svd(W_before, compute_uv=False), np.linalg.svd(W_after, compute_uv=False)
    return Section(values={
        "pgd_norm": f"{linalg.spectral_norm(W_before):.2f}", "pgd_radius": f"{linalg.spectral_radius(W_before):.2f}",
        "pgd_n_above": int(np.sum(sv_before > PROJECTION_NORM)),
        "pgd_loss_before": f"{loss_before:.4f}", "pgd_loss_after": f"{loss_after:.3f}",
        "pgd_loss_pgd": f"{evaluate(pgd_model, valid, 'mse'):.4f}",
        "pgd_norm_pgd": f"{linalg.spectral_norm(pgd_model.recurrent_weights()[0].detach().numpy()):.3f}",
    }, figure=singular_values_figure(sv_before, sv_after, PROJECTION_NORM))


def projection_cost(sizes: tuple[int, ...] = (32, 64, 128, 256)) -> Section:
    """Seconds per call of the SVD projection and the power-iteration rescale (values ``cost_*``)."""
    timing = projection_timings(sizes=sizes, repeats=5, n_iter=20, seed=0)
    ratio = timing.svd_seconds / timing.power_seconds
    return Section(values={"cost_n": int(timing.sizes[-1]), "cost_svd_ms": f"{1e3 * timing.svd_seconds[-1]:.1f}",
                           "cost_power_ms": f"{1e3 * timing.power_seconds[-1]:.2f}", "cost_ratio": f"{ratio[-1]:.0f}",
                           "cost_err": f"{100 * timing.power_rel_error.max():.1f}"},
                   figure=projection_cost_figure(timing.sizes, timing.svd_seconds, timing.power_seconds))
