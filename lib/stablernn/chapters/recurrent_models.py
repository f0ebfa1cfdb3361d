"""Chapter 1 (``01_recurrent_models``): recurrent models, spectral radius and spectral norm.

``spectral`` is the data of the chapter's explorer: the reader sets the spectral radius of ``W``,
how far ``W`` is from normal, and the horizon; it returns the eigenvalues, ``||W^k||_2`` against
``k``, the free response ``||h_t||`` of the linear system and the tanh RNN from several initial
states, and the distance between two trajectories driven by the same inputs, which is what
stability is about. The other functions are the chapter's worked numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import dynamics, linalg, stability
from .._validate import check_float, check_int
from . import Section

HIDDEN = 8  # small enough for instant updates, large enough for a cloud of eigenvalues
N_INITIAL = 3


@dataclass(frozen=True)
class SpectralData:
    """Numbers shown by the spectral-radius explorer (arrays are plain numpy)."""

    radius: float             # requested spectral radius
    nonnormality: float       # departure from normality of W
    spectral_radius: float    # measured max |eig(W)|
    spectral_norm: float      # measured ||W||_2
    contractive: bool         # the tanh RNN's sufficient condition ||W||_2 < 1 holds
    eigenvalues: np.ndarray   # (n,) complex
    power_norms: np.ndarray   # (horizon + 1,) ||W^k||_2, k = 0..horizon
    t: np.ndarray             # (horizon + 1,) time steps
    linear_norms: np.ndarray  # (N_INITIAL, horizon + 1) ||h_t|| of h_t = W h_{t-1}
    tanh_norms: np.ndarray    # (N_INITIAL, horizon + 1) ||h_t|| of h_t = tanh(W h_{t-1})
    linear_distance: np.ndarray  # (horizon + 1,) ||h_t - h'_t||, linear, same inputs
    tanh_distance: np.ndarray    # (horizon + 1,) ||h_t - h'_t||, tanh RNN, same inputs


def recurrent_matrix(radius: float, nonnormality: float, n: int = HIDDEN, seed: int = 0) -> np.ndarray:
    """The explorer's ``W``: rotation-scaled blocks (spectral radius ``radius``) plus a Schur part."""
    return linalg.matrix_with_spectrum(n, radius, nonnormality, kind="rotation", seed=seed)


def spectral(radius: float = 0.9, nonnormality: float = 0.0, horizon: int = 60, seed: int = 0) -> SpectralData:
    """Eigenvalues, norms and trajectories for one setting of the explorer.

    Parameters
    ----------
    radius : spectral radius of ``W``, in [0, 1.5].
    nonnormality : departure from normality of ``W``, in [0, 3] (0 = normal matrix).
    horizon : number of time steps, in [5, 300].
    seed : seed of the basis, the initial states and the inputs.
    """
    radius = check_float("radius", radius, low=0.0, high=1.5)
    nonnormality = check_float("nonnormality", nonnormality, low=0.0, high=3.0)
    horizon = check_int("horizon", horizon, low=5, high=300)
    W = recurrent_matrix(radius, nonnormality, seed=seed)
    rng = np.random.default_rng(seed)
    h0 = rng.normal(size=(N_INITIAL, HIDDEN))
    h0 /= np.linalg.norm(h0, axis=1, keepdims=True)  # unit initial states
    zero_input = np.zeros((N_INITIAL, horizon, HIDDEN))
    linear = dynamics.linear_trajectory(W, zero_input, h0=h0)
    tanh = dynamics.rnn_trajectory(W, np.eye(HIDDEN), zero_input, h0=h0)
    # Two initial states, one input sequence: the gap between the trajectories is what contraction bounds.
    pair = h0[:2]
    inputs = np.repeat(0.3 * rng.normal(size=(1, horizon, HIDDEN)), 2, axis=0)
    lin_pair = dynamics.linear_trajectory(W, inputs, h0=pair)
    tanh_pair = dynamics.rnn_trajectory(W, np.eye(HIDDEN), inputs, h0=pair)
    report = stability.rnn_condition(W)
    return SpectralData(
        radius=radius,
        nonnormality=nonnormality,
        spectral_radius=linalg.spectral_radius(W),
        spectral_norm=linalg.spectral_norm(W),
        contractive=report.holds,
        eigenvalues=np.linalg.eigvals(W),
        power_norms=linalg.power_norms(W, horizon),
        t=np.arange(horizon + 1),
        linear_norms=np.linalg.norm(linear, axis=-1),
        tanh_norms=np.linalg.norm(tanh, axis=-1),
        linear_distance=dynamics.trajectory_distance(lin_pair[:1], lin_pair[1:])[0],
        tanh_distance=dynamics.trajectory_distance(tanh_pair[:1], tanh_pair[1:])[0],
    )


def nonnormal_example(radius: float = 0.9, coupling: float = 1.0, horizon: int = 60) -> Section:
    """The 2 x 2 example ``[[r, c], [0, r]]``: its spectral radius and norm, and the transient of ``||A^k||_2``.

    Values: ``ex_radius``, ``ex_norm``, ``ex_peak`` (largest ``||A^k||_2``), ``ex_kpeak`` (its k),
    ``ex_kbelow`` (first k >= 1 with ``||A^k||_2 < 1``). Shows the matrix.
    """
    A = linalg.nonnormal_example(radius=radius, coupling=coupling)
    powers = linalg.power_norms(A, horizon)
    k_peak = int(np.argmax(powers))
    k_below = int(np.argmax((powers < 1) & (np.arange(horizon + 1) > 0)))
    return Section(values={"ex_radius": f"{linalg.spectral_radius(A):.1f}", "ex_norm": f"{linalg.spectral_norm(A):.3f}",
                           "ex_peak": f"{powers[k_peak]:.2f}", "ex_kpeak": k_peak, "ex_kbelow": k_below},
                   shown=A)


def nonnormality_table(radius: float = 0.9, levels: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0)) -> Section:
    """Spectral radius, spectral norm and the contraction condition of the explorer's ``W`` at a few
    non-normalities: the radius stays put while the norm grows past 1."""
    lines = ["non-normality | spectral radius | spectral norm | contractive"]
    for nonnormality in levels:
        W = recurrent_matrix(radius, nonnormality)
        holds = stability.rnn_condition(W).holds
        lines.append(f"{nonnormality:13.1f} | {linalg.spectral_radius(W):15.3f} | {linalg.spectral_norm(W):13.3f} | "
                     f"{'yes' if holds else 'no'}")
    return Section(table="\n".join(lines))
