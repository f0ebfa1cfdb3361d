"""Chapter 5 (``05_truncation``): stable models are feed-forward models.

``truncation`` is the data of the book's central explorer: a tanh RNN ``h_t = tanh(W h_{t-1} + U x_t)``
with ``W = lam Q`` (Q orthogonal, so the spectral norm is exactly ``lam``), its k-truncated version,
the measured error against k beside the theorem's bound, and the context needed for an accuracy.
The other functions are the chapter's worked numbers: the table of sufficient context lengths, the
bound checked on the explorer's own data, and the running sum that no truncation approximates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import dynamics, linalg
from .._validate import check_float, check_int
from ..figures.truncation import running_sum_figure
from . import Section

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


def truncation(k: int = 20, lam: float = 0.9, log10_eps: float = -2.0, seed: int = 0) -> TruncationData:
    """Truncation error against k, the bound, and the context needed for accuracy ``10**log10_eps``.

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
    state_err, output_err = dynamics.truncation_errors_all_k(W, U, x, v, K_MAX)
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


# -- the chapter's worked numbers ---------------------------------------------------------------

def context_table(lams: tuple[float, ...] = (0.5, 0.9, 0.99), epss: tuple[float, ...] = (1e-1, 1e-2, 1e-3)) -> Section:
    """``dynamics.min_context(lam, 1, eps)`` for each pair (values ``mc_<100 lam>_<-log10 eps>``), and
    ``k (1 - lam)`` at ``eps = 10^-2`` (values ``kx_<100 lam>``): it grows as lam -> 1, because k grows like
    ``ln(1/(1 - lam)) / (1 - lam)``, not like ``1 / (1 - lam)``."""
    values = {f"mc_{int(round(lam * 100))}_{int(round(-np.log10(eps)))}": dynamics.min_context(lam, 1.0, eps)
              for lam in lams for eps in epss}
    values.update({f"kx_{int(round(lam * 100))}": f"{dynamics.min_context(lam, 1.0, 1e-2) * (1 - lam):.1f}"
                   for lam in lams})
    return Section(values=values)


def truncation_examples() -> Section:
    """The explorer at the settings the prose discusses: lam = 0.9, 0.99, 1 and 1.2 (values ``tx*``)."""
    ex, ex99 = truncation(k=20, lam=0.9), truncation(k=80, lam=0.99)
    ex12, ex10 = truncation(k=80, lam=1.2), truncation(k=80, lam=1.0)
    return Section(values={"tx_bound_k": ex.min_k_bound, "tx_measured_k": ex.min_k_measured,
                           "tx99_bound_k": ex99.min_k_bound, "tx99_err80": f"{ex99.error_at_k:.2f}",
                           "tx12_err80": f"{ex12.error_at_k:.1f}", "tx12_min": f"{ex12.state_error.min():.1f}",
                           "tx10_err80": f"{ex10.error_at_k:.2f}"})


@dataclass(frozen=True)
class BoundCheck:
    """The theorem checked on the explorer's data: every (lam, k) point where the bound exceeds rounding."""

    lams: tuple[float, ...]
    checked: int          # points compared
    violations: int       # points where the state error exceeds the bound (or the output error the state error)
    worst_ratio: float    # largest state error / bound over the points compared


def bound_check(lams: tuple[float, ...] = (0.05, 0.5, 0.8, 0.9, 0.95, 0.99), rounding: float = 1e-12) -> BoundCheck:
    """Compare the measured truncation error with the bound for every lam < 1 of the explorer's grid
    and its live range's ends. Below ``rounding`` the "error" is floating-point noise, so the ratio is
    taken where the bound is larger; the inequalities are checked everywhere (up to ``rounding``)."""
    checked, violations, worst = 0, 0, 0.0
    for lam in lams:
        d = truncation(k=1, lam=check_float("lam", lam, low=0.05, high=1.0, high_open=True))
        violations += int(np.sum(d.state_error > d.bound + rounding) + np.sum(d.output_error > d.state_error + rounding))
        above = d.bound > rounding
        checked += int(above.sum())
        worst = max(worst, float(np.max(d.state_error[above] / d.bound[above])))
    return BoundCheck(lams=tuple(lams), checked=checked, violations=violations, worst_ratio=worst)


def bound_summary() -> Section:
    """``bound_check`` as the prose quotes it (values ``tx_checked``, ``tx_worst``)."""
    check = bound_check()
    return Section(values={"tx_checked": check.checked, "tx_worst": f"{check.worst_ratio:.2f}"})


def running_sum(steps: int = 400, ks: tuple[int, ...] = (10, 40, 160), leak: float = 0.9) -> Section:
    """The running sum ``h_t = h_{t-1} + x_t`` truncated to k inputs against a leaky sum (values ``rs_*``)."""
    t, err = dynamics.running_sum_errors(steps, ks, lam=1.0, seed=0)
    _, leaky = dynamics.running_sum_errors(steps, ks[:1], lam=leak, seed=0)
    return Section(values={"rs_T": int(t[-1]), "rs_err_10": f"{err[0, -1]:.0f}", "rs_err_160": f"{err[2, -1]:.0f}",
                           "rs_leaky": f"{leaky[0].max():.2f}", "rs_leaky_bound": f"{leak ** ks[0] / (1 - leak):.2f}"},
                   figure=running_sum_figure(t, err, ks, leaky[0], leak))
