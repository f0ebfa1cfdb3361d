"""Matrices with a prescribed spectrum, their norms, and projections onto the stable set.

Two numbers describe a recurrent weight matrix and must not be confused:

* the **spectral norm** ``||W||_2 = sigma_max(W)``, the largest singular value: the one-step
  amplification factor, the number that decides contraction;
* the **spectral radius** ``rho(W) = max |eig(W)|``: the asymptotic growth rate of ``||W^k||^(1/k)``.

Always ``rho(W) <= ||W||_2``, with equality for normal matrices. The gap between them is what
non-normality adds (transient amplification). numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validate import check_array, check_choice, check_float, check_int, check_seed

__all__ = [
    "spectral_norm",
    "spectral_radius",
    "inf_norm",
    "departure_from_normality",
    "power_iteration",
    "power_iteration_norm",
    "spectral_norm_at_most",
    "power_norms",
    "random_orthogonal",
    "matrix_with_spectrum",
    "matrix_with_norm",
    "nonnormal_example",
    "random_matrix",
    "project_spectral_norm",
    "RESCALE_RTOL",
    "RESCALE_PADDINGS",
    "Rescale",
    "rescale_factor",
    "rescale_spectral_norm",
    "project_rows_l1",
]

_KINDS = ("normal", "rotation", "jordan")


# --------------------------------------------------------------------------------------- norms


def spectral_norm(W: Any) -> float:
    """Spectral norm ``||W||_2``: the largest singular value, computed exactly by SVD.

    Parameters
    ----------
    W : ndarray
        Shape (n, m), finite.

    Returns
    -------
    float >= 0.
    """
    W = check_array("W", W, ndim=2)
    return float(np.linalg.svd(W, compute_uv=False)[0])


def spectral_radius(W: Any) -> float:
    """Spectral radius ``rho(W) = max |eigenvalue|`` (not a norm; ``rho(W) <= ||W||_2``).

    Eigenvalues of a strongly non-normal matrix are ill-conditioned: the computed value can be
    off by up to about ``(eps * ||W||)^(1/m)`` for a Jordan-like chain of length ``m``.

    Parameters
    ----------
    W : ndarray
        Shape (n, n), finite.

    Returns
    -------
    float >= 0.
    """
    W = check_array("W", W, square=True)
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def inf_norm(W: Any) -> float:
    """Induced l_inf norm ``||W||_inf``: the largest absolute **row** sum.

    PyTorch stores weights as out x in, so a row sum runs over the input dimension.

    Parameters
    ----------
    W : ndarray
        Shape (n, m), finite.

    Returns
    -------
    float >= 0.
    """
    W = check_array("W", W, ndim=2)
    return float(np.max(np.sum(np.abs(W), axis=1)))


def departure_from_normality(W: Any) -> float:
    """Henrici's departure from normality ``sqrt(||W||_F^2 - sum |eig|^2)``.

    It is the Frobenius norm of the strictly upper part of a Schur form; 0 iff W is normal.
    Computed from eigenvalues, so it inherits their conditioning (see ``spectral_radius``).

    Parameters
    ----------
    W : ndarray
        Shape (n, n), finite.

    Returns
    -------
    float >= 0.
    """
    W = check_array("W", W, square=True)
    gap = np.sum(W**2) - np.sum(np.abs(np.linalg.eigvals(W)) ** 2)
    return float(np.sqrt(max(gap, 0.0)))


def power_iteration(
    W: Any, n_iter: int = 100, tol: float = 1e-10, seed: int | None = 0, start: Any = None
) -> tuple[float, np.ndarray]:
    """Power iteration on ``W^T W``: an estimate of ``||W||_2`` and of its top right singular vector.

    The estimate ``||W v||`` with ``||v|| = 1`` never exceeds the true value. The vector ``v``
    approaches the top right singular vector at the rate ``(sigma_2 / sigma_1)^2`` per iteration;
    the estimate, the square root of a Rayleigh quotient of ``W^T W``, has an error of the order of
    the square of the vector's, so its relative error shrinks like ``(sigma_2 / sigma_1)^4``; it stops early once the relative change is
    below ``tol``. Cost ``O(n_iter * n * m)`` instead of the ``O(n m min(n, m))`` of an SVD.
    From a start orthogonal to the top right singular vector it converges (in exact arithmetic)
    to a smaller singular value: the estimate is a lower bound, never a certificate.

    Parameters
    ----------
    W : ndarray
        Shape (n, m), finite.
    n_iter : int
        >= 1, the maximum number of iterations.
    tol : float
        >= 0, relative change at which to stop.
    seed : int or None
        >= 0 or None, seed of the random start (ignored when ``start`` is given).
    start : ndarray or None
        Shape (m,), finite and nonzero: the start vector, e.g. the ``v`` of a previous call on a
        nearby matrix (a warm start). Carrying ``v`` over ``k`` calls of ``n_iter = 1`` gives the
        same iterates as one call of ``n_iter = k``.

    Returns
    -------
    (estimate, v): float >= 0, a lower bound on (and estimate of) ``||W||_2``; array (m,), the
    unit vector reached, to pass as ``start`` next time.
    """
    W = check_array("W", W, ndim=2)
    n_iter = check_int("n_iter", n_iter, low=1)
    tol = check_float("tol", tol, low=0.0)
    v = _start_vector(start, W.shape[1], seed)
    estimate = 0.0
    for _ in range(n_iter):
        w = W.T @ (W @ v)
        size = np.linalg.norm(w)
        if size == 0.0:  # v lies in the null space; W v = 0 for this start
            break
        v = w / size
        new = float(np.linalg.norm(W @ v))
        if abs(new - estimate) <= tol * new:
            return new, v
        estimate = new
    return estimate, v


def _start_vector(start: Any, m: int, seed: int | None) -> np.ndarray:
    """The unit start vector of power iteration: ``start`` normalised, or a seeded Gaussian."""
    if start is None:
        v = np.random.default_rng(check_seed("seed", seed)).standard_normal(m)
    else:
        v = check_array("start", start, shape=(m,))
        if not np.any(v):
            raise ValueError(f"start must be a nonzero vector of length {m}, got all zeros")
    return v / np.linalg.norm(v)


def power_iteration_norm(
    W: Any, n_iter: int = 100, tol: float = 1e-10, seed: int | None = 0, start: Any = None
) -> float:
    """Estimate ``||W||_2`` by power iteration on ``W^T W`` from a seeded random start.

    The estimate of ``power_iteration`` alone (see there for the arguments): a lower bound on
    ``||W||_2`` that converges at the rate ``(sigma_2 / sigma_1)^2`` per iteration.

    Returns
    -------
    float >= 0, a lower bound on (and estimate of) ``||W||_2``.
    """
    return power_iteration(W, n_iter=n_iter, tol=tol, seed=seed, start=start)[0]


def power_norms(A: Any, k_max: int) -> np.ndarray:
    """Spectral norms ``||A^k||_2`` for ``k = 0, ..., k_max`` (``||A^0|| = 1``).

    Parameters
    ----------
    A : ndarray
        Shape (n, n), finite.
    k_max : int
        >= 0.

    Returns
    -------
    array (k_max + 1,).
    """
    A = check_array("A", A, square=True)
    k_max = check_int("k_max", k_max, low=0)
    out = np.empty(k_max + 1)
    P = np.eye(A.shape[0])
    for k in range(k_max + 1):
        out[k] = np.linalg.svd(P, compute_uv=False)[0]
        P = P @ A
    return out


# ---------------------------------------------------------------------------------- matrices


def random_orthogonal(n: int, seed: int | None = 0) -> np.ndarray:
    """A Haar-random orthogonal n x n matrix (QR of a Gaussian matrix with sign correction).

    Parameters
    ----------
    n : int
        >= 1.
    seed : int or None
        >= 0 or None.

    Returns
    -------
    array (n, n) with ``Q^T Q = I``.
    """
    n = check_int("n", n, low=1)
    rng = np.random.default_rng(check_seed("seed", seed))
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Q * np.where(np.diag(R) < 0, -1.0, 1.0)


def _rotate(T: np.ndarray, seed: int | None) -> np.ndarray:
    """``Q T Q^T`` for a seeded random orthogonal Q (keeps eigenvalues and singular values)."""
    if seed is None:
        return T
    Q = random_orthogonal(T.shape[0], seed)
    return Q @ T @ Q.T


def _rotation_block(radius: float, theta: float, departure: float) -> np.ndarray:
    """2 x 2 block with eigenvalues ``radius * exp(+-i theta)`` and departure from normality ``departure``.

    ``[[a, -p], [q, a]]`` with ``a = radius cos(theta)`` has eigenvalues ``a +- i sqrt(p q)``
    and departure ``|p - q|``: take ``p q = (radius sin(theta))^2`` and ``p - q = departure``.
    """
    s = radius * np.sin(theta)
    p = 0.5 * (departure + np.sqrt(departure**2 + 4.0 * s**2))
    q = s**2 / p if p > 0 else 0.0
    a = radius * np.cos(theta)
    return np.array([[a, -p], [q, a]])


def _schur_form(n: int, radius: float, nonnormality: float, kind: str) -> np.ndarray:
    """Real Schur form: normal (block-)diagonal eigenvalue part plus the non-normal part."""
    if kind == "jordan":
        return radius * np.eye(n) + nonnormality * np.eye(n, k=1)
    if kind == "normal":
        upper = np.triu(np.ones((n, n)), k=1)
        scale = nonnormality / np.sqrt(upper.sum()) if n > 1 else 0.0
        return np.diag(radius * (1.0 - np.arange(n) / n)) + scale * upper  # radius, ..., radius / n
    # rotation: the departure is shared equally by the 2 x 2 blocks and the block-upper entries
    n_blocks = n // 2
    block = np.arange(n) // 2
    upper = (block[:, None] < block[None, :]).astype(float)
    share = nonnormality / np.sqrt(n_blocks + upper.sum())
    T = share * upper
    for j in range(n_blocks):  # distinct angles in (0, pi)
        theta = np.pi * (j + 1) / (n_blocks + 1)
        T[2 * j : 2 * j + 2, 2 * j : 2 * j + 2] = _rotation_block(radius, theta, share)
    if n % 2:
        T[-1, -1] = radius
    return T


def matrix_with_spectrum(
    n: int, radius: float, nonnormality: float = 0.0, kind: str = "rotation", seed: int | None = None
) -> np.ndarray:
    """An n x n real matrix with spectral radius exactly ``radius`` and a tunable non-normal part.

    The matrix is ``Q T Q^T`` with ``T`` in real Schur form: its (block-)diagonal sets the
    eigenvalues whatever the strictly (block-)upper part is, while the spectral norm grows with
    the non-normal part.

    * ``"normal"``: real eigenvalues ``radius * (1 - j/n)``, j = 0..n-1; all strictly upper
      entries equal, their Frobenius norm ``nonnormality``.
    * ``"rotation"``: 2 x 2 blocks ``radius * rotation(theta_j)``, complex eigenvalues on the
      circle of radius ``radius`` (plus the eigenvalue ``radius`` when n is odd); the departure
      from normality ``nonnormality`` is shared equally by the blocks (made non-normal with the
      same eigenvalues, see ``_rotation_block``) and the strictly block-upper entries.
    * ``"jordan"``: ``radius`` on the diagonal and ``nonnormality`` on every superdiagonal entry
      (a Jordan-like chain, departure from normality ``nonnormality * sqrt(n - 1)``;
      for n = 2 and ``nonnormality = 1`` it is ``nonnormal_example(radius)``).

    For ``"normal"`` and ``"rotation"``, ``nonnormality`` equals Henrici's departure from
    normality of the result. With ``nonnormality = 0`` the matrix is normal and its spectral norm
    equals its spectral radius. Eigenvalues of strongly non-normal results are ill-conditioned,
    so numerically computed spectral radii can differ from ``radius`` (see ``spectral_radius``).

    Parameters
    ----------
    n : int
        >= 1 (>= 2 for ``"rotation"``).
    radius : float
        >= 0, the spectral radius.
    nonnormality : float
        >= 0, the size of the strictly upper (Schur) part.
    kind : str
        "normal", "rotation" or "jordan".
    seed : int or None
        >= 0 or None; if given, rotate by a seeded random orthogonal Q.

    Returns
    -------
    array (n, n).
    """
    kind = check_choice("kind", kind, _KINDS)
    n = check_int("n", n, low=2 if kind == "rotation" else 1)
    radius = check_float("radius", radius, low=0.0)
    nonnormality = check_float("nonnormality", nonnormality, low=0.0)
    seed = check_seed("seed", seed)
    return _rotate(_schur_form(n, radius, nonnormality, kind), seed)


def _coupling_for_norm(a: float, b: float, norm: float) -> float:
    """Off-diagonal ``c`` with ``||[[a, c], [0, b]]||_2 = norm`` for ``norm >= max(|a|, |b|)``.

    The squared singular values s solve ``s^2 - (a^2 + b^2 + c^2) s + a^2 b^2 = 0``; putting
    ``s = norm^2`` gives ``c^2 = (norm^2 - a^2)(norm^2 - b^2) / norm^2``.
    """
    if norm == 0.0:
        return 0.0
    return float(np.sqrt(max((norm**2 - a**2) * (norm**2 - b**2), 0.0)) / norm)


def matrix_with_norm(n: int, radius: float, norm: float, seed: int | None = None) -> np.ndarray:
    """An n x n real matrix with spectral radius ``radius`` and spectral norm ``norm``, both exact.

    Upper triangular Schur form with diagonal ``radius * (1 - j/n)``, j = 0..n-1, and one
    off-diagonal entry ``c`` at ``(0, n-1)`` coupling the largest and smallest eigenvalues. The
    matrix is (up to a permutation) the direct sum of ``[[radius, c], [0, radius/n]]`` and a
    diagonal part whose entries are at most ``radius``, so its spectral norm is that of the
    2 x 2 block, which the closed form in ``_coupling_for_norm`` sets to ``norm``. Distinct
    diagonal entries keep the eigenvalues well conditioned. Rotated by a seeded Q if ``seed``.

    Parameters
    ----------
    n : int
        >= 1 (n = 1 requires ``norm == radius``).
    radius : float
        >= 0, the spectral radius.
    norm : float
        >= radius, the spectral norm.
    seed : int or None
        >= 0 or None.

    Returns
    -------
    array (n, n).
    """
    n = check_int("n", n, low=1)
    radius = check_float("radius", radius, low=0.0)
    norm = check_float("norm", norm, low=radius)
    seed = check_seed("seed", seed)
    if n == 1 and norm != radius:
        raise ValueError(f"norm must equal radius for n = 1 (a 1 x 1 matrix is normal), got {norm}")
    diagonal = radius * (1.0 - np.arange(n) / n)
    T = np.diag(diagonal)
    if n > 1:
        T[0, n - 1] = _coupling_for_norm(diagonal[0], diagonal[-1], norm)
    return _rotate(T, seed)


def nonnormal_example(radius: float = 0.9, coupling: float = 1.0) -> np.ndarray:
    """The 2 x 2 matrix ``[[radius, coupling], [0, radius]]``: spectral radius ``radius``.

    With the defaults its spectral norm is 1.530 and ``||A^k||_2`` peaks near 3.9 at k = 9 before
    decaying (first below 1 at k = 35): a matrix with spectral radius < 1 that is not contractive.

    Parameters
    ----------
    radius : float
        >= 0.
    coupling : float
        Float, any real.

    Returns
    -------
    array (2, 2).
    """
    radius = check_float("radius", radius, low=0.0)
    coupling = check_float("coupling", coupling)
    return np.array([[radius, coupling], [0.0, radius]])


def random_matrix(
    n: int,
    spectral_norm: float | None = None,
    spectral_radius: float | None = None,
    seed: int | None = 0,
    m: int | None = None,
) -> np.ndarray:
    """A Gaussian random matrix rescaled to a given spectral norm or spectral radius.

    Exactly one of ``spectral_norm`` and ``spectral_radius`` must be given. A rescaled Gaussian
    matrix with spectral radius r typically has spectral norm near 2r: a "stable-looking"
    eigenvalue picture does not mean contraction.

    Parameters
    ----------
    n : int
        >= 1, number of rows.
    spectral_norm : float or None
        >= 0 or None.
    spectral_radius : float or None
        >= 0 or None (square matrices only).
    seed : int or None
        >= 0 or None.
    m : int or None
        >= 1 or None, number of columns (default n).

    Returns
    -------
    array (n, m).
    """
    n = check_int("n", n, low=1)
    m = n if m is None else check_int("m", m, low=1)
    if (spectral_norm is None) == (spectral_radius is None):
        raise ValueError(
            "exactly one of spectral_norm and spectral_radius must be given, got "
            f"spectral_norm={spectral_norm!r}, spectral_radius={spectral_radius!r}"
        )
    rng = np.random.default_rng(check_seed("seed", seed))
    G = rng.standard_normal((n, m)) / np.sqrt(max(n, m))
    if spectral_norm is not None:
        target = check_float("spectral_norm", spectral_norm, low=0.0)
        return G * (target / np.linalg.svd(G, compute_uv=False)[0])
    target = check_float("spectral_radius", spectral_radius, low=0.0)
    if m != n:
        raise ValueError(f"spectral_radius needs a square matrix, got m = {m} for n = {n}")
    return G * (target / np.max(np.abs(np.linalg.eigvals(G))))


# ------------------------------------------------------------------------------- projections


def project_spectral_norm(W: Any, max_norm: float) -> np.ndarray:
    """Frobenius-nearest matrix with ``||W||_2 <= max_norm``: clip singular values at ``max_norm``.

    Exact Euclidean (Frobenius) projection onto the spectral-norm ball. Matrices already inside
    are returned unchanged (a copy). Cost: one SVD, ``O(n m min(n, m))``.

    Parameters
    ----------
    W : ndarray
        Shape (n, m), finite.
    max_norm : float
        >= 0.

    Returns
    -------
    array (n, m).
    """
    W = check_array("W", W, ndim=2)
    max_norm = check_float("max_norm", max_norm, low=0.0)
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    if s[0] <= max_norm:
        return W.copy()
    return (U * np.minimum(s, max_norm)) @ Vt


RESCALE_RTOL = 1e-6
"""Relative tolerance of the rescale's guarantee: afterwards ``||W||_2 <= max_norm * (1 + RESCALE_RTOL)``.

About ten float32 roundoffs (the dtype models train in). A tighter tolerance asks more of the
power-iteration estimate, so the check fails, and the SVD runs, more often."""

RESCALE_PADDINGS = (1e-4, 1e-3, 1e-2)
"""Relative paddings of the power estimate that the rescale tries to certify, in turn, before an SVD."""


def spectral_norm_at_most(W: Any, bound: float) -> bool:
    """Whether ``||W||_2 <= bound`` is certified, by a cheap norm bound or else a Cholesky factorisation.

    First ``min(||W||_F, sqrt(||W||_1 ||W||_inf))`` (``O(n m)``), an upper bound on ``||W||_2``;
    if it does not certify, the Cholesky factorisation of ``bound^2 I - G``, ``G`` the smaller of
    ``W^T W`` and ``W W^T`` (one matrix product and one factorisation, ``O(n m k)`` with
    ``k = min(n, m)``, several times cheaper than an SVD): it succeeds exactly when ``bound^2 I - G``
    is positive definite, i.e. ``||W||_2 < bound``. Both tests are run at ``bound`` lowered by the
    worst-case rounding of the product and the factorisation (relative ``4 (n k + k^2) eps`` in
    ``bound^2``), so ``True`` is a certificate in float64 arithmetic; ``False`` means "not certified",
    not "above": a matrix within that margin of ``bound`` is not certified.

    Parameters
    ----------
    W : ndarray
        Shape (n, m), finite.
    bound : float
        >= 0.

    Returns
    -------
    bool.
    """
    W = check_array("W", W, ndim=2)
    bound = check_float("bound", bound, low=0.0)
    return _cheap_certifies(W, bound) or _gram_certifies(_gram(W), bound, W.shape)


def _level_sq(bound: float, shape: tuple[int, int]) -> float:
    """``bound^2`` lowered by the worst-case rounding of the Gram product and its Cholesky factorisation."""
    n, m = shape
    k = min(n, m)
    return bound**2 * (1.0 - 4.0 * (n * k + k * k) * np.finfo(np.float64).eps)


def _cheap_certifies(W: np.ndarray, bound: float) -> bool:
    """``min(||W||_F, sqrt(||W||_1 ||W||_inf)) <= bound`` (with the rounding margin); ``O(n m)``."""
    level_sq = _level_sq(bound, W.shape)
    if level_sq <= 0.0:
        return not np.any(W)
    norm_1, norm_inf = np.max(np.sum(np.abs(W), axis=0)), np.max(np.sum(np.abs(W), axis=1))
    return bool(min(np.sum(W**2), norm_1 * norm_inf) <= level_sq)


def _gram(W: np.ndarray) -> np.ndarray:
    """The smaller of ``W^T W`` and ``W W^T``: same nonzero eigenvalues, ``||W||_2^2`` the largest."""
    return W.T @ W if W.shape[1] <= W.shape[0] else W @ W.T


def _gram_certifies(G: np.ndarray, bound: float, shape: tuple[int, int]) -> bool:
    """Whether ``level^2 I - G`` has a Cholesky factorisation, ``level`` = ``bound`` less the rounding margin."""
    level_sq = _level_sq(bound, shape)
    if level_sq <= 0.0:
        return not np.any(G)
    try:
        np.linalg.cholesky(level_sq * np.eye(G.shape[0]) - G)
    except np.linalg.LinAlgError:
        return False
    return True


@dataclass(frozen=True)
class Rescale:
    """The factor of a certified rescale, the start vector for the next call, and how it was certified.

    Attributes
    ----------
    factor : float
        In [0, 1]: the result is ``factor * W``.
    start : ndarray or None
        Shape (m,): the estimate of the top right singular vector to pass as ``start`` next time
        (the ``start`` given, possibly None, when no power iteration was needed).
    certificate : str
        "norm bound" (a cheap bound certified ``W`` inside; no power iteration), "power iteration"
        (a Cholesky check certified ``||W||_2 <= s (1 + padding)`` for the estimate ``s``), or "svd"
        (no check succeeded, and the exact ``||W||_2`` from an SVD was used).
    padding : float
        0, or the one of ``RESCALE_PADDINGS`` at which the check succeeded: the result is shrunk
        by at most a factor ``1 + padding`` more than needed.
    """

    factor: float
    start: np.ndarray | None
    certificate: str
    padding: float = 0.0


def rescale_factor(
    W: Any, max_norm: float, n_iter: int = 20, seed: int | None = 0, start: Any = None
) -> Rescale:
    """The factor ``alpha`` with ``||alpha W||_2 <= max_norm (1 + RESCALE_RTOL)``: power iteration, checked.

    1. If a cheap norm bound (Frobenius or ``sqrt(||W||_1 ||W||_inf)``) certifies
       ``||W||_2 <= max_norm``, ``alpha = 1`` (no power iteration).
    2. Else power iteration (``n_iter`` iterations from ``start``, or from a seeded random vector)
       gives a lower bound ``s <= ||W||_2``.
    3. A Cholesky factorisation (``spectral_norm_at_most``) tries to certify the upper bound
       ``||W||_2 <= max(s, max_norm) (1 + RESCALE_RTOL)``; then ``alpha = min(1, max_norm / s)``.
       Failing that, ``||W||_2 <= s (1 + p)`` for each padding ``p`` of ``RESCALE_PADDINGS``
       (1e-4, 1e-3, 1e-2) in turn, reusing the Gram matrix; then ``alpha = max_norm / (s (1 + p))``.
    4. If none certifies (the estimate was low by more than 1 %: too few iterations, close top
       singular values, or a start orthogonal to the top singular vector), an SVD gives the exact
       ``||W||_2`` and ``alpha = min(1, max_norm / ||W||_2)``; its top right singular vector
       becomes the next start.

    Guarantee, for every finite ``W``, ``start`` and ``n_iter``: ``||alpha W||_2 <= max_norm
    (1 + RESCALE_RTOL)`` (in float64, up to its rounding, relative 1e-15 or so), and with
    ``alpha* = min(1, max_norm / ||W||_2)`` the exact factor,
    ``alpha* / (1 + Rescale.padding) <= alpha <= alpha* (1 + RESCALE_RTOL)``: never more than 1 %
    below it. Cost: ``O(n_iter n m)``, plus one Gram product and a few Cholesky factorisations
    (several times cheaper than an SVD) unless step 1 certifies, plus one SVD only in step 4. A
    warm start (the ``start`` returned by the previous call, on the previous iterate of training)
    makes the estimate accurate and step 4 rare.

    Parameters
    ----------
    W : ndarray
        Shape (n, m), finite.
    max_norm : float
        >= 0.
    n_iter : int
        >= 1, power iterations.
    seed : int or None
        >= 0 or None, seed of the random start when ``start`` is None.
    start : ndarray or None
        Shape (m,), nonzero, e.g. ``Rescale.start`` of the previous call.

    Returns
    -------
    Rescale.
    """
    W = check_array("W", W, ndim=2)
    max_norm = check_float("max_norm", max_norm, low=0.0)
    n_iter = check_int("n_iter", n_iter, low=1)
    seed = check_seed("seed", seed)
    if start is not None:
        start = _start_vector(start, W.shape[1], seed)
    if _cheap_certifies(W, max_norm):
        return Rescale(1.0, start, "norm bound")
    estimate, v = power_iteration(W, n_iter=n_iter, tol=0.0, seed=seed, start=start)
    G = _gram(W)
    if _gram_certifies(G, max(estimate, max_norm) * (1.0 + RESCALE_RTOL), W.shape):
        factor = 1.0 if estimate <= max_norm else max_norm / estimate
        return Rescale(factor, v, "power iteration")
    for padding in RESCALE_PADDINGS:
        bound = estimate * (1.0 + padding)
        if bound > max_norm and _gram_certifies(G, bound, W.shape):
            return Rescale(max_norm / bound, v, "power iteration", padding)
    _, s, Vt = np.linalg.svd(W, full_matrices=False)
    return Rescale(min(1.0, max_norm / s[0]), Vt[0], "svd")


def rescale_spectral_norm(
    W: Any, max_norm: float, n_iter: int = 20, seed: int | None = 0, start: Any = None
) -> np.ndarray:
    """Rescale ``W`` to ``max_norm`` if its power-iteration estimate of ``||W||_2`` exceeds it, checked.

    ``rescale_factor(W, max_norm, n_iter, seed, start).factor * W`` (see there): after the call
    ``||W||_2 <= max_norm * (1 + RESCALE_RTOL)`` (``RESCALE_RTOL = 1e-6``) for **every** finite
    ``W``, whatever the start vector and ``n_iter``, and ``W`` was shrunk by at most 1 % more than
    needed: an estimate that is too low is caught by a Cholesky check, padded by up to 1 %, or
    replaced by the exact norm from an SVD. Not a projection: it shrinks all singular values by
    the same factor (the projection clips only those above ``max_norm``). Its merit is cost:
    ``O(n_iter n m)`` plus a check several times cheaper than an SVD, when the estimate is good;
    pass the ``start`` of ``rescale_factor`` from call to call for that.

    Parameters
    ----------
    W : ndarray
        Shape (n, m), finite.
    max_norm : float
        >= 0.
    n_iter : int
        >= 1, power iterations.
    seed : int or None
        >= 0 or None, seed of the power iteration when ``start`` is None.
    start : ndarray or None
        Shape (m,), nonzero, or None: the start vector of the power iteration.

    Returns
    -------
    array (n, m).
    """
    W = check_array("W", W, ndim=2)
    return W * rescale_factor(W, max_norm, n_iter=n_iter, seed=seed, start=start).factor


def project_rows_l1(W: Any, radius: Any) -> np.ndarray:
    """Euclidean projection of each row of ``W`` onto the l1 ball of the given radius.

    Sort-based algorithm of Duchi et al. (2008), ``O(d log d)`` per row: for a row ``w`` with
    ``||w||_1 > r`` the projection is ``sign(w) * max(|w| - theta, 0)`` with the threshold
    ``theta > 0`` chosen so that the result has l1 norm exactly ``r``. Rows already inside the
    ball are unchanged. Afterwards ``inf_norm(result) <= max(radius)``.

    Parameters
    ----------
    W : ndarray
        Shape (n, d), finite.
    radius : float
        >= 0, or array (n,) of values >= 0 (one radius per row).

    Returns
    -------
    array (n, d).
    """
    W = check_array("W", W, ndim=2)
    r = _row_radii(radius, W.shape[0])
    out = W.copy()
    outside = np.sum(np.abs(W), axis=1) > r
    if not outside.any():
        return out
    A = np.abs(W[outside])
    r_out = r[outside]
    u = -np.sort(-A, axis=1)  # each row sorted in decreasing order
    css = np.cumsum(u, axis=1) - r_out[:, None]
    j = np.arange(1, A.shape[1] + 1)
    positive = u - css / j > 0  # true for a prefix of each row
    count = np.maximum(np.sum(positive, axis=1), 1)  # 0 only for radius 0: theta = max |w|
    theta = css[np.arange(A.shape[0]), count - 1] / count
    out[outside] = np.sign(W[outside]) * np.maximum(A - theta[:, None], 0.0)
    return out


def _row_radii(radius: Any, n_rows: int) -> np.ndarray:
    """One non-negative radius per row from a scalar or an array of length n_rows."""
    if np.ndim(radius) == 0 and not isinstance(radius, (str, bytes)):
        return np.full(n_rows, check_float("radius", radius, low=0.0))
    r = check_array("radius", radius, shape=(n_rows,))
    if np.any(r < 0):
        raise ValueError(f"radius must be >= 0 for every row, got minimum {r.min()}")
    return r


# -- the 2 x 2 Jordan-type matrix [[r, c], [0, r]] --------------------------------------------------

_SEARCH_LIMIT = 10**7  # ||A^k||_2 < 1 is searched for up to this k


def jordan_power_norms(radius: float, coupling: float, k: np.ndarray) -> np.ndarray:
    """``||A^k||_2`` for ``A = [[r, c], [0, r]]`` in closed form, any integer array ``k >= 0``.

    ``A^k = [[a, b], [0, a]]`` with ``a = r^k``, ``b = k r^(k-1) c``, and the largest singular
    value of that matrix is ``(|b| + sqrt(b^2 + 4 a^2)) / 2``.

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
