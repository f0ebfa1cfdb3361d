"""Tests of stablernn.linalg: constructed spectra, norms, power iteration, projections, the 2 x 2
Jordan-type example in closed form, and the messages of bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from reference import NONNORMAL_FIRST_BELOW_ONE, NONNORMAL_NORM, NONNORMAL_PEAK, NONNORMAL_PEAK_K
from stablernn import linalg

FAST = settings(max_examples=40, deadline=None, derandomize=True)
radii = st.floats(0.05, 3.0)
seeds = st.integers(0, 10_000)


# ------------------------------------------------------------------- the 2 x 2 example (§4)


def test_nonnormal_example_numbers_of_the_book():
    A = linalg.nonnormal_example(0.9, 1.0)
    norms = linalg.power_norms(A, 80)
    assert linalg.spectral_radius(A) == pytest.approx(0.9, rel=1e-12)
    assert linalg.spectral_norm(A) == pytest.approx(NONNORMAL_NORM, abs=1e-4)
    assert int(np.argmax(norms)) == NONNORMAL_PEAK_K
    assert norms.max() == pytest.approx(NONNORMAL_PEAK, abs=1e-4)
    assert int(np.argmax(norms < 1.0)) == NONNORMAL_FIRST_BELOW_ONE  # first k with ||A^k||_2 < 1
    assert np.all(norms[1:NONNORMAL_FIRST_BELOW_ONE] >= 1.0)


def test_power_norms_start_at_identity_and_match_matrix_power():
    A = linalg.random_matrix(4, spectral_norm=1.3, seed=2)
    norms = linalg.power_norms(A, 6)
    assert norms[0] == 1.0
    for k in range(7):
        assert norms[k] == pytest.approx(np.linalg.norm(np.linalg.matrix_power(A, k), 2), rel=1e-12)


def test_spectral_radius_never_exceeds_spectral_norm():
    for seed in range(20):
        W = np.random.default_rng(seed).standard_normal((5, 5))
        assert linalg.spectral_radius(W) <= linalg.spectral_norm(W) * (1 + 1e-12)


def test_inf_norm_is_max_row_sum_and_the_induced_norm():
    W = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -0.1]])
    assert linalg.inf_norm(W) == pytest.approx(3.5)  # row sums 3.5 and 3.1, column sums differ
    x = np.sign(W[0])  # the maximiser of ||W x||_inf over ||x||_inf <= 1
    assert np.max(np.abs(W @ x)) == pytest.approx(linalg.inf_norm(W))


# ------------------------------------------------------------------------ constructed spectra


@FAST
@given(n=st.integers(2, 7), radius=radii, nu=st.floats(0.0, 2.0), kind=st.sampled_from(["normal", "rotation"]),
       seed=st.one_of(st.none(), seeds))
def test_matrix_with_spectrum_has_the_requested_spectral_radius(n, radius, nu, kind, seed):
    M = linalg.matrix_with_spectrum(n, radius, nu * radius, kind, seed)
    assert linalg.spectral_radius(M) == pytest.approx(radius, rel=1e-9)
    # nonnormality is Henrici's departure from normality; the spectral norm grows with it
    assert linalg.departure_from_normality(M) == pytest.approx(nu * radius, rel=1e-6, abs=1e-6 * radius)
    assert linalg.spectral_norm(M) >= radius * (1 - 1e-12)


@FAST
@given(n=st.integers(1, 7), radius=radii, kind=st.sampled_from(["normal", "rotation", "jordan"]), seed=seeds)
def test_normal_construction_has_norm_equal_to_radius(n, radius, kind, seed):
    n = max(n, 2) if kind == "rotation" else n
    M = linalg.matrix_with_spectrum(n, radius, 0.0, kind, seed)
    assert linalg.spectral_norm(M) == pytest.approx(radius, rel=1e-9)
    assert linalg.spectral_radius(M) == pytest.approx(radius, rel=1e-9)


def test_rotation_kind_puts_every_eigenvalue_on_the_circle():
    M = linalg.matrix_with_spectrum(7, 0.8, 0.5, "rotation", seed=1)
    np.testing.assert_allclose(np.abs(np.linalg.eigvals(M)), 0.8, rtol=1e-9)
    assert np.sum(np.abs(np.linalg.eigvals(M).imag) > 1e-6) == 6


@FAST
@given(n=st.integers(1, 6), radius=radii, nu=st.floats(0.0, 3.0))
def test_jordan_kind_is_exact_in_schur_form(n, radius, nu):
    T = linalg.matrix_with_spectrum(n, radius, nu, "jordan")
    np.testing.assert_array_equal(T, radius * np.eye(n) + nu * np.eye(n, k=1))
    # eigenvalues of a triangular matrix are its diagonal, computed exactly
    assert linalg.spectral_radius(T) == pytest.approx(radius, rel=1e-12)


def test_jordan_kind_rotated_keeps_singular_values_eigenvalues_only_to_conditioning():
    T = linalg.matrix_with_spectrum(4, 0.7, 1.0, "jordan")
    M = linalg.matrix_with_spectrum(4, 0.7, 1.0, "jordan", seed=5)
    np.testing.assert_allclose(np.linalg.svd(M, compute_uv=False), np.linalg.svd(T, compute_uv=False), rtol=1e-12)
    # a defective eigenvalue moves by about (eps ||M||)^(1/4) under rounding: not 1e-9
    assert linalg.spectral_radius(M) == pytest.approx(0.7, abs=1e-3)


def test_nonnormality_increases_spectral_norm_at_fixed_radius():
    for kind in ("normal", "rotation", "jordan"):
        norms = [linalg.spectral_norm(linalg.matrix_with_spectrum(5, 0.9, nu, kind, seed=0)) for nu in (0, 0.5, 1, 2)]
        assert np.all(np.diff(norms) > 0), kind


@FAST
@given(n=st.integers(1, 8), radius=st.floats(0.0, 2.0), extra=st.floats(0.0, 3.0), seed=st.one_of(st.none(), seeds))
def test_matrix_with_norm_has_both_numbers_exactly(n, radius, extra, seed):
    norm = radius + (extra if n > 1 else 0.0)
    M = linalg.matrix_with_norm(n, radius, norm, seed)
    assert linalg.spectral_norm(M) == pytest.approx(norm, rel=1e-9, abs=1e-12)
    if radius > 0.05:
        assert linalg.spectral_radius(M) == pytest.approx(radius, rel=1e-9)
    else:  # the eigenvalue 0 of a nilpotent part is computed only to sqrt(eps)
        assert linalg.spectral_radius(M) <= radius + 1e-6


def test_matrix_with_norm_one_by_one_needs_equal_numbers():
    assert linalg.matrix_with_norm(1, 0.5, 0.5)[0, 0] == 0.5
    with pytest.raises(ValueError, match="norm"):
        linalg.matrix_with_norm(1, 0.5, 0.7)


@FAST
@given(n=st.integers(1, 8), target=st.floats(0.0, 3.0), seed=seeds, which=st.booleans())
def test_random_matrix_is_rescaled_exactly(n, target, seed, which):
    if which:
        M = linalg.random_matrix(n, spectral_norm=target, seed=seed)
        assert linalg.spectral_norm(M) == pytest.approx(target, rel=1e-9, abs=1e-15)
    else:
        M = linalg.random_matrix(n, spectral_radius=target, seed=seed)
        assert linalg.spectral_radius(M) == pytest.approx(target, rel=1e-9, abs=1e-15)


def test_random_matrix_is_seeded_and_rectangular():
    a = linalg.random_matrix(4, spectral_norm=1.0, seed=3, m=6)
    assert a.shape == (4, 6)
    np.testing.assert_array_equal(a, linalg.random_matrix(4, spectral_norm=1.0, seed=3, m=6))
    assert not np.array_equal(a, linalg.random_matrix(4, spectral_norm=1.0, seed=4, m=6))


def test_random_matrix_with_stable_radius_is_often_not_contractive():
    # a Gaussian matrix rescaled to spectral radius 0.9 has spectral norm well above 1
    norms = [linalg.spectral_norm(linalg.random_matrix(32, spectral_radius=0.9, seed=s)) for s in range(5)]
    assert min(norms) > 1.2


# ------------------------------------------------------------------------------ power iteration


@FAST
@given(n=st.integers(2, 20), m=st.integers(2, 20), seed=seeds)
def test_power_iteration_agrees_with_svd(n, m, seed):
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.standard_normal((n, n)))
    V, _ = np.linalg.qr(rng.standard_normal((m, m)))
    s = np.sort(rng.uniform(0.1, 1.0, min(n, m)))[::-1]
    s[0] = 1.5 * s[1] + 0.1  # a spectral gap sigma_2 / sigma_1 < 2/3
    W = (U[:, : len(s)] * s) @ V[:, : len(s)].T
    est = linalg.power_iteration_norm(W, n_iter=200, tol=1e-14, seed=seed)
    assert est == pytest.approx(linalg.spectral_norm(W), rel=1e-4)
    assert est <= linalg.spectral_norm(W) * (1 + 1e-12)  # a Rayleigh quotient: never above


def test_power_iteration_of_zero_matrix_is_zero():
    assert linalg.power_iteration_norm(np.zeros((3, 3))) == 0.0


# ---------------------------------------------------------------------------------- projections


def _feasible_points(shape, max_norm, rng, count=200):
    """Random matrices inside (and on the boundary of) the spectral-norm ball."""
    for _ in range(count):
        Y = rng.standard_normal(shape)
        yield Y * (max_norm * rng.uniform(0.0, 1.0) ** 0.2 / np.linalg.norm(Y, 2))


@FAST
@given(n=st.integers(1, 6), m=st.integers(1, 6), max_norm=st.floats(0.1, 2.0), seed=seeds)
def test_project_spectral_norm_is_the_projection(n, m, max_norm, seed):
    rng = np.random.default_rng(seed)
    W = 2.0 * rng.standard_normal((n, m))
    P = linalg.project_spectral_norm(W, max_norm)
    assert linalg.spectral_norm(P) <= max_norm * (1 + 1e-12)
    # variational inequality of a convex projection: <W - P, Y - P> <= 0 for every feasible Y
    for Y in _feasible_points((n, m), max_norm, rng, 50):
        assert np.sum((W - P) * (Y - P)) <= 1e-9 * (1 + np.sum(W**2))


def test_project_spectral_norm_leaves_feasible_points_and_matches_scipy():
    W = linalg.random_matrix(3, spectral_norm=0.8, seed=1)
    np.testing.assert_array_equal(linalg.project_spectral_norm(W, 1.0), W)
    X = np.random.default_rng(0).standard_normal((2, 2)) * 2
    P = linalg.project_spectral_norm(X, 1.0)
    res = minimize(
        lambda y: np.sum((y - X.ravel()) ** 2), np.zeros(4), method="SLSQP",
        constraints=[{"type": "ineq", "fun": lambda y: 1.0 - np.linalg.norm(y.reshape(2, 2), 2)}],
        options={"ftol": 1e-12, "maxiter": 500},
    )
    assert np.sum((P - X) ** 2) <= res.fun + 1e-7
    np.testing.assert_allclose(P.ravel(), res.x, atol=1e-4)


def test_rescale_spectral_norm_shrinks_uniformly_and_is_not_the_projection():
    W = linalg.matrix_with_norm(4, 0.5, 2.0, seed=0)
    R = linalg.rescale_spectral_norm(W, 1.0, n_iter=200)
    P = linalg.project_spectral_norm(W, 1.0)
    assert linalg.spectral_norm(R) == pytest.approx(1.0, rel=1e-6)
    np.testing.assert_allclose(R, W * (R[0, 0] / W[0, 0]))
    assert np.sum((W - P) ** 2) < np.sum((W - R) ** 2)  # the projection is strictly closer
    feasible = linalg.random_matrix(4, spectral_norm=0.9, seed=0)
    np.testing.assert_array_equal(linalg.rescale_spectral_norm(feasible, 1.0), feasible)


def _l1_kkt(w, p, r):
    """Optimality certificate of p = argmin ||p - w|| s.t. ||p||_1 <= r, with its multiplier theta."""
    if np.sum(np.abs(w)) <= r:
        return np.array_equal(p, w)
    theta = np.max(np.abs(w - p))
    on = p != 0
    ok_support = np.allclose((w - p)[on], theta * np.sign(p[on]), atol=1e-9)
    ok_zero = np.all(np.abs(w[~on]) <= theta + 1e-9)
    return ok_support and ok_zero and abs(np.sum(np.abs(p)) - r) <= 1e-9 * (1 + r) and theta >= 0


@FAST
@given(n=st.integers(1, 6), d=st.integers(1, 12), seed=seeds, per_row=st.booleans())
def test_project_rows_l1_satisfies_kkt(n, d, seed, per_row):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((n, d)) * rng.uniform(0.1, 3.0)
    W[rng.random((n, d)) < 0.2] = 0.0
    r = rng.uniform(0.0, 2.0, n) if per_row else float(rng.uniform(0.0, 2.0))
    P = linalg.project_rows_l1(W, r)
    radius = np.broadcast_to(r, (n,))
    assert np.all(np.sum(np.abs(P), axis=1) <= radius * (1 + 1e-12) + 1e-12)
    for w, p, rr in zip(W, P, radius):
        assert _l1_kkt(w, p, rr)


def test_project_rows_l1_leaves_rows_inside_and_matches_scipy():
    W = np.array([[0.2, -0.3, 0.1], [3.0, -1.0, 0.5], [0.0, 0.0, 0.0]])
    P = linalg.project_rows_l1(W, 1.0)
    np.testing.assert_array_equal(P[[0, 2]], W[[0, 2]])
    res = minimize(
        lambda y: np.sum((y - W[1]) ** 2), np.zeros(3), method="SLSQP",
        constraints=[{"type": "ineq", "fun": lambda y: 1.0 - np.sum(np.sqrt(y**2 + 1e-14))}],
        options={"ftol": 1e-14, "maxiter": 500},
    )
    np.testing.assert_allclose(P[1], res.x, atol=1e-5)
    np.testing.assert_allclose(P[1], [1.0, 0.0, 0.0], atol=1e-12)  # theta = 2 kills two entries
    assert linalg.inf_norm(P) <= 1.0 + 1e-12
    np.testing.assert_array_equal(linalg.project_rows_l1(W, 0.0), np.zeros_like(W))
    np.testing.assert_array_equal(linalg.project_rows_l1(W, [0.0, 1.0, 0.0])[0], [0.0, 0.0, 0.0])


def test_jordan_kind_of_size_two_is_the_book_example():
    np.testing.assert_array_equal(linalg.matrix_with_spectrum(2, 0.9, 1.0, "jordan"), linalg.nonnormal_example())
    R = linalg.matrix_with_spectrum(2, 0.9, 1.0, "rotation")  # one non-normal 2 x 2 rotation block
    assert linalg.departure_from_normality(R) == pytest.approx(1.0, rel=1e-12)
    assert linalg.spectral_norm(R) > 0.9 + 0.3


def test_projection_clips_only_the_large_singular_values():
    """Chapter 4: the projection onto ||W||_2 <= 0.999 replaces each singular value s by min(s, 0.999)."""
    W = linalg.random_matrix(32, spectral_norm=1.9, seed=4)
    s_before = np.linalg.svd(W, compute_uv=False)
    s_after = np.linalg.svd(linalg.project_spectral_norm(W, 0.999), compute_uv=False)
    assert np.allclose(s_after, np.minimum(s_before, 0.999), atol=1e-10)


# ------------------------------------------------------- the 2 x 2 example in closed form (Ch. 4)


@FAST
@given(r=st.floats(0.0, 1.2), c=st.floats(0.0, 4.0))
def test_closed_form_matches_matrix_powers(r, c):
    k = np.arange(0, 40)
    exact = linalg.power_norms(linalg.nonnormal_example(r, c), 39)
    assert np.allclose(linalg.jordan_power_norms(r, c, k), exact, rtol=1e-9, atol=1e-12)


@FAST
@given(r=st.floats(0.0, 0.99), c=st.floats(0.0, 4.0))
def test_summary_finds_the_true_peak_and_the_first_k_below_one(r, c):
    peak, k_peak, k_below = linalg.transient_summary(r, c)
    norms = linalg.power_norms(linalg.nonnormal_example(r, c), k_below + 200)
    assert np.all(norms[1:k_below] >= 1.0) and norms[k_below] < 1.0
    assert peak == pytest.approx(norms.max(), rel=1e-9) and k_peak == int(np.argmax(norms))


def test_summary_without_a_contraction_in_any_norm():
    """r >= 1: never below one; with a coupling the norms grow without bound (peak None)."""
    assert linalg.transient_summary(1.0, 0.5) == (None, None, None)
    assert linalg.transient_summary(1.0, 0.0) == (1.0, 0, None)
    assert linalg.transient_summary(1.1, 0.0) == (None, None, None)


def test_summary_of_the_book_example():
    peak, k_peak, k_below = linalg.transient_summary(0.9, 1.0)
    assert peak == pytest.approx(NONNORMAL_PEAK, abs=1e-4)
    assert (k_peak, k_below) == (NONNORMAL_PEAK_K, NONNORMAL_FIRST_BELOW_ONE)


# ----------------------------------------------------------------------------- bad input


I2 = np.eye(2)
NAN = np.array([[1.0, np.nan], [0.0, 1.0]])

BAD_INPUT = [
    ("radius < 0", lambda: linalg.matrix_with_spectrum(3, -0.5), ValueError, "radius"),
    ("NaN radius", lambda: linalg.matrix_with_spectrum(3, float("nan")), ValueError, "radius"),
    ("negative nonnormality", lambda: linalg.matrix_with_spectrum(3, 0.5, -1.0), ValueError, "nonnormality"),
    ("unknown kind", lambda: linalg.matrix_with_spectrum(3, 0.5, kind="schur"), ValueError, "kind"),
    ("rotation n = 1", lambda: linalg.matrix_with_spectrum(1, 0.5, kind="rotation"), ValueError, "n must"),
    ("n as string", lambda: linalg.matrix_with_spectrum("3", 0.5), TypeError, "n must"),
    ("negative seed", lambda: linalg.matrix_with_spectrum(3, 0.5, seed=-1), ValueError, "seed"),
    ("norm < radius", lambda: linalg.matrix_with_norm(3, 0.9, 0.5), ValueError, "norm"),
    ("NaN matrix", lambda: linalg.spectral_norm(NAN), ValueError, "W must contain only finite"),
    ("non-square radius", lambda: linalg.spectral_radius(np.ones((2, 3))), ValueError, "W must be a square"),
    ("1-D matrix", lambda: linalg.spectral_norm(np.ones(3)), ValueError, "W must have 2 dimensions"),
    ("string matrix", lambda: linalg.inf_norm("abc"), TypeError, "W must be an array"),
    ("n_iter = 0", lambda: linalg.power_iteration_norm(I2, n_iter=0), ValueError, "n_iter"),
    ("negative tol", lambda: linalg.power_iteration_norm(I2, tol=-1.0), ValueError, "tol"),
    ("k_max < 0", lambda: linalg.power_norms(I2, -1), ValueError, "k_max"),
    ("both targets", lambda: linalg.random_matrix(3, spectral_norm=1.0, spectral_radius=1.0), ValueError,
     "spectral_norm and spectral_radius"),
    ("no target", lambda: linalg.random_matrix(3), ValueError, "spectral_norm and spectral_radius"),
    ("rectangular radius", lambda: linalg.random_matrix(3, spectral_radius=1.0, m=4), ValueError, "spectral_radius"),
    ("negative max_norm", lambda: linalg.project_spectral_norm(I2, -1.0), ValueError, "max_norm"),
    ("string max_norm", lambda: linalg.rescale_spectral_norm(I2, "1"), TypeError, "max_norm"),
    ("negative l1 radius", lambda: linalg.project_rows_l1(I2, -0.1), ValueError, "radius"),
    ("wrong number of radii", lambda: linalg.project_rows_l1(I2, [1.0, 1.0, 1.0]), ValueError, "radius"),
    ("one negative radius", lambda: linalg.project_rows_l1(I2, [1.0, -1.0]), ValueError, "radius"),
    ("string l1 radius", lambda: linalg.project_rows_l1(I2, "1"), TypeError, "radius"),
    ("negative Jordan radius", lambda: linalg.jordan_power_norms(-0.1, 1.0, np.arange(3)), ValueError, "radius"),
    ("negative power", lambda: linalg.jordan_power_norms(0.9, 1.0, np.array([0, -1])), ValueError, "k must"),
    ("fractional power", lambda: linalg.jordan_power_norms(0.9, 1.0, np.array([0.5])), ValueError, "k must"),
    ("NaN coupling", lambda: linalg.transient_summary(0.9, float("nan")), ValueError, "coupling"),
]


@pytest.mark.parametrize("name, call, error, match", BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_is_rejected_with_a_message_naming_the_argument(name, call, error, match):
    with pytest.raises(error, match=match):
        call()
