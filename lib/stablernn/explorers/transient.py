"""Non-normal transient explorer (Chapter 4): spectral radius below one, yet no contraction.

The reader sets the diagonal ``r`` and the coupling ``c`` of ``A = [[r, c], [0, r]]`` (spectral
radius ``r``, spectral norm larger as soon as ``c != 0``). The explorer shows ``||A^k||_2`` against
``k`` beside ``r^k`` and the one-step bound ``||A||_2^k``, the bound that a Lyapunov norm gives
when ``r < 1``, and the distance between two trajectories of the linear system and of the tanh
RNN driven by the same inputs. It reports the largest ``||A^k||_2`` and the first ``k`` with
``||A^k||_2 < 1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_discrete_lyapunov

from .. import dynamics, linalg
from .._validate import check_array, check_float, check_int
from ..figures.transient import transient_figure
from .base import Control, Explorer

INPUT_SCALE = 0.3  # size of the shared inputs of the two trajectories
_SEARCH_LIMIT = 10**7  # ||A^k||_2 < 1 is searched for up to this k


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


def jordan_power_norms(radius: float, coupling: float, k: np.ndarray) -> np.ndarray:
    """``||A^k||_2`` for ``A = [[r, c], [0, r]]`` in closed form, any integer array ``k >= 0``.

    ``A^k = [[a, b], [0, a]]`` with ``a = r^k``, ``b = k r^(k-1) c``, and the largest singular
    value of that matrix is ``(|b| + sqrt(b^2 + 4 a^2)) / 2``.

    Used in: Chapter 4 (transient amplification).

    Parameters
    ----------
    radius : float
        >= 0, the diagonal r.
    coupling : float
        Any real, the coupling c.
    k : ndarray
        Integers >= 0.

    Returns
    -------
    array shaped like k.
    """
    radius = check_float("radius", radius, low=0.0)
    coupling = check_float("coupling", coupling)
    k = check_array("k", k, ndim=1)
    if np.any(k < 0) or np.any(k != np.round(k)):
        raise ValueError("k must hold integers >= 0")
    a = radius**k
    with np.errstate(divide="ignore", invalid="ignore"):
        b = np.where(k == 0, 0.0, k * radius ** np.maximum(k - 1, 0) * abs(coupling))
    return 0.5 * (b + np.sqrt(b**2 + 4.0 * a**2))


def transient_summary(radius: float, coupling: float) -> tuple[float | None, int | None, int | None]:
    """Peak of ``||A^k||_2`` over all k >= 0, where it is reached, and the first k >= 1 below one.

    For ``r < 1`` the off-diagonal ``k r^(k-1) c`` decreases once ``k > -1 / ln r``, so a scan
    that goes past that point and past the first k below one sees both. For ``r >= 1`` the norms
    never fall below one (``||A^k||_2 >= r^k``), and they grow without bound unless ``c = 0``.

    Used in: Chapter 4 (transient amplification).

    Parameters
    ----------
    radius : float
        >= 0.
    coupling : float
        Any real.

    Returns
    -------
    (peak, k_peak, k_below_one); None where the quantity does not exist.
    """
    radius = check_float("radius", radius, low=0.0)
    coupling = check_float("coupling", coupling)
    if radius >= 1.0:
        if coupling == 0.0 and radius == 1.0:
            return 1.0, 0, None
        return None, None, None
    turn = 1 if radius == 0.0 else int(np.ceil(-1.0 / np.log(radius))) + 1
    limit = max(64, 2 * turn)
    while True:
        k = np.arange(limit + 1)
        norms = jordan_power_norms(radius, coupling, k)
        below = np.flatnonzero((norms < 1.0) & (k >= 1))
        if below.size or limit >= _SEARCH_LIMIT:
            break
        limit *= 4
    k_peak = int(np.argmax(norms))
    return float(norms[k_peak]), k_peak, (int(below[0]) if below.size else None)


def lyapunov_certificate(A: np.ndarray, target: float | None = None) -> tuple[float, float] | None:
    """Contraction factor of ``A`` in a Lyapunov norm, and the price of changing norms.

    For spectral radius ``rho < target <= 1``, ``B = A / target`` has spectral radius < 1, and ``P``
    solving ``B^T P B - P = -I`` is symmetric with ``P >= I``. In ``||v||_P = sqrt(v^T P v)``,
    ``||B v||_P^2 = ||v||_P^2 - ||v||^2 <= (1 - 1/p_max) ||v||_P^2``, so ``A`` is
    ``lam_P = target sqrt(1 - 1/p_max)``-contractive in that norm (``lam_P < target``), and back in
    l2 ``||A^k||_2 <= sqrt(cond(P)) lam_P^k``. A target closer to ``rho`` costs a larger condition number.

    Used in: Chapter 4 (every spectral radius below one is a contraction in some norm).

    Parameters
    ----------
    A : ndarray
        Shape (n, n).
    target : float or None
        In (0, 1]; None for ``(1 + rho) / 2``. Must exceed the spectral radius.

    Returns
    -------
    (lam_P, sqrt(cond(P))), or None when the spectral radius is >= 1.
    """
    A = check_array("A", A, square=True)
    rho = linalg.spectral_radius(A)
    if rho >= 1.0:
        return None
    target = 0.5 * (1.0 + rho) if target is None else check_float("target", target, low=0.0, high=1.0, low_open=True)
    if target <= rho:
        raise ValueError(f"target must exceed the spectral radius {rho:.6g}, got {target}")
    P = solve_discrete_lyapunov((A / target).T, np.eye(A.shape[0]))
    p = np.linalg.eigvalsh(0.5 * (P + P.T))
    return float(target * np.sqrt(1.0 - 1.0 / p[-1])), float(np.sqrt(p[-1] / p[0]))


def compute(radius: float = 0.9, coupling: float = 1.0, horizon: int = 60, seed: int = 0) -> TransientData:
    """Norms of powers and trajectory distances for ``A = [[r, c], [0, r]]``.

    Used in: Chapter 4 (the non-normal transient explorer).

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
    peak, k_peak, k_below = transient_summary(radius, coupling)
    lyap = lyapunov_certificate(A)
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


CONTROLS = (
    Control("radius", "spectral radius r", (0.5, 0.7, 0.8, 0.9, 0.95, 1.0), 0.9, step=0.01, fmt=".2f",
            live=(0.0, 1.2)),
    Control("coupling", "coupling c", (0.0, 0.25, 0.5, 1.0, 2.0), 1.0, step=0.05, fmt=".2f", live=(0.0, 4.0)),
    Control("horizon", "horizon", (60,), 60, step=5, fmt="d", live=(10, 300)),
)


def explorer() -> Explorer:
    """The Chapter 4 explorer: a non-normal 2 x 2 matrix with spectral radius below one."""
    return Explorer(title="Transient amplification: A = [[r, c], [0, r]]",
                    compute=compute, figure=transient_figure, controls=CONTROLS)
