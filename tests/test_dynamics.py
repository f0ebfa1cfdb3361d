"""Tests of stablernn.dynamics: trajectories, Jacobian products, the truncation theorem and the context
it asks for, the scalar recurrence of Chapters 5 and 7, and the messages of bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import MIN_CONTEXT_09
from stablernn import dynamics, linalg

FAST = settings(max_examples=30, deadline=None, derandomize=True)
seeds = st.integers(0, 10_000)


def _rnn(n, m, lam, seed, input_scale=1.0):
    rng = np.random.default_rng(seed)
    W = linalg.random_matrix(n, spectral_norm=lam, seed=seed)
    U = rng.standard_normal((n, m)) * input_scale / np.sqrt(m)
    return W, U, rng


# --------------------------------------------------------------------------------- trajectories


def test_linear_trajectory_matches_the_recursion_and_shapes():
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((3, 3)) * 0.5, rng.standard_normal((3, 2))
    x, h0 = rng.standard_normal((4, 6, 2)), rng.standard_normal((4, 3))
    states = dynamics.linear_trajectory(A, x, B, h0)
    assert states.shape == (4, 7, 3)
    h = h0
    for t in range(6):
        h = h @ A.T + x[:, t] @ B.T
        np.testing.assert_allclose(states[:, t + 1], h, rtol=1e-12)
    single = dynamics.linear_trajectory(A, x[0] @ B.T)  # B None: identity, h0 None: zeros
    assert single.shape == (7, 3)
    np.testing.assert_allclose(single, dynamics.linear_trajectory(A, x[:1], B)[0], rtol=1e-12)


def test_rnn_trajectory_matches_the_recursion():
    W, U, rng = _rnn(4, 3, 0.9, 1)
    b, x, h0 = rng.standard_normal(4), rng.standard_normal((2, 5, 3)), rng.uniform(-1, 1, 4)
    states = dynamics.rnn_trajectory(W, U, x, h0, b)
    assert states.shape == (2, 6, 4)
    h = np.broadcast_to(h0, (2, 4))
    for t in range(5):
        h = np.tanh(h @ W.T + x[:, t] @ U.T + b)
        np.testing.assert_allclose(states[:, t + 1], h, rtol=1e-12)
    np.testing.assert_allclose(states[:, 0], np.broadcast_to(h0, (2, 4)))


def test_lstm_trajectory_matches_one_step_by_hand():
    p = dynamics.random_lstm_params(3, 2, scale=0.8, seed=4)
    x = np.random.default_rng(0).standard_normal((1, 2))
    h, c = dynamics.lstm_trajectory(p, x)
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    i, f, o = (sig(p[f"U_{g}"] @ x[0] + p[f"b_{g}"]) for g in "ifo")
    z = np.tanh(p["U_z"] @ x[0] + p["b_z"])
    np.testing.assert_allclose(c[1], i * z, rtol=1e-12)  # c_0 = 0, h_0 = 0
    np.testing.assert_allclose(h[1], o * np.tanh(i * z), rtol=1e-12)
    assert np.all(np.abs(h) < 1)


def test_trajectory_distance_is_euclidean():
    a = np.zeros((2, 3, 2))
    b = a.copy()
    b[1, 2] = [3.0, 4.0]
    np.testing.assert_array_equal(dynamics.trajectory_distance(a, b), [[0, 0, 0], [0, 0, 5.0]])


@FAST
@given(n=st.integers(1, 6), lam=st.floats(0.05, 0.99), seed=seeds)
def test_stable_linear_system_forgets_its_initial_state_at_rate_spectral_norm(n, lam, seed):
    rng = np.random.default_rng(seed)
    A = linalg.random_matrix(n, spectral_norm=lam, seed=seed)
    x = rng.standard_normal((2, 15, n))
    a = dynamics.linear_trajectory(A, x, h0=rng.standard_normal((2, n)))
    b = dynamics.linear_trajectory(A, x, h0=rng.standard_normal((2, n)))
    d = dynamics.trajectory_distance(a, b)
    assert np.all(d[:, 1:] <= lam * d[:, :-1] * (1 + 1e-9) + 1e-12)


# --------------------------------------------------------------------------------- Jacobians


def _finite_difference_jacobian(W, U, x, states, t_from, t_to, step=1e-6):
    """d h_{t_to} / d h_{t_from} by central differences, rerunning the recursion."""
    n = W.shape[0]
    J = np.empty((n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = step
        ends = []
        for sign in (1, -1):
            h = states[t_from] + sign * e
            for t in range(t_from + 1, t_to + 1):
                h = np.tanh(W @ h + U @ x[t - 1])
            ends.append(h)
        J[:, j] = (ends[0] - ends[1]) / (2 * step)
    return J


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_jacobian_norms_agree_with_finite_differences(seed):
    W, U, rng = _rnn(4, 2, 1.3, seed)  # not contractive: the products must still be right
    x = rng.standard_normal((6, 2))
    states = dynamics.rnn_trajectory(W, U, x)
    norms = dynamics.jacobian_norms_vs_lag(W, states)
    T = 6
    assert norms.shape == (T,) and norms[0] == pytest.approx(1.0)
    for lag in range(1, T):
        J = _finite_difference_jacobian(W, U, x, states, T - lag, T)
        assert norms[lag] == pytest.approx(np.linalg.norm(J, 2), rel=1e-6)


def test_jacobian_norms_batch_average_and_linear_kind():
    W, U, rng = _rnn(3, 2, 0.8, 5)
    x = rng.standard_normal((4, 7, 2))
    states = dynamics.rnn_trajectory(W, U, x)
    per = dynamics.jacobian_norms_vs_lag(W, states, average=False)
    assert per.shape == (4, 7)
    np.testing.assert_allclose(dynamics.jacobian_norms_vs_lag(W, states), per.mean(0))
    np.testing.assert_allclose(dynamics.jacobian_norms_vs_lag(W, states, "linear"), linalg.power_norms(W, 6))
    # stability: ||dh_T / dh_{T-l}|| <= ||W||_2^l
    assert np.all(per <= 0.8 ** np.arange(7) * (1 + 1e-9))


def test_contraction_factors_are_jacobian_norms_below_spectral_norm():
    W, U, rng = _rnn(4, 3, 1.5, 2)
    x = rng.standard_normal((2, 8, 3)) * 2
    states = dynamics.rnn_trajectory(W, U, x)
    lam_hat = dynamics.contraction_factors(W, states)
    assert lam_hat.shape == (2, 8)
    for t in (1, 5, 8):
        J = _finite_difference_jacobian(W, U, x[0], states[0], t - 1, t)
        assert lam_hat[0, t - 1] == pytest.approx(np.linalg.norm(J, 2), rel=1e-6)
    assert np.all(lam_hat <= 1.5 * (1 + 1e-12))
    assert np.all(lam_hat < 1.5 - 1e-3)  # saturation makes the measured factor smaller
    assert dynamics.contraction_factors(W, states[0]).shape == (8,)


# -------------------------------------------------------------------------------- truncation


def test_truncated_states_match_brute_force_windows():
    W, U, rng = _rnn(3, 2, 1.2, 3)
    b, x, k = rng.standard_normal(3), rng.standard_normal((2, 9, 2)), 4
    H = dynamics.truncated_rnn_states(W, U, x, k, b)
    assert H.shape == (2, 9, 3)
    for t in range(1, 10):
        window = x[:, max(0, t - k) : t]
        expected = dynamics.rnn_trajectory(W, U, window, b=b)[:, -1]
        np.testing.assert_allclose(H[:, t - 1], expected, rtol=1e-12, atol=1e-15)
    full = dynamics.rnn_trajectory(W, U, x, b=b)[:, 1:]
    np.testing.assert_allclose(H[:, :k], full[:, :k], rtol=1e-12)  # t <= k: the full state
    np.testing.assert_allclose(dynamics.truncated_rnn_states(W, U, x, 50, b), full, rtol=1e-12)


@FAST
@given(n=st.integers(1, 6), m=st.integers(1, 4), lam=st.floats(0.1, 0.95), k=st.integers(1, 12),
       scale=st.floats(0.1, 3.0), seed=seeds)
def test_truncation_error_never_exceeds_the_bound(n, m, lam, k, scale, seed):
    """Theorem: ||h_t - h^k_t|| <= lam^k L_x B_x / (1 - lam), lam = ||W||_2, L_x = ||U||_2."""
    W, U, rng = _rnn(n, m, lam, seed, scale)
    x = rng.standard_normal((3, 25, m))
    err = dynamics.truncation_error(W, U, x, k)
    lx_bx = linalg.spectral_norm(U) * np.max(np.linalg.norm(x, axis=-1))
    assert np.all(err <= dynamics.truncation_bound(lam, k, lx_bx) * (1 + 1e-9) + 1e-14)
    states = dynamics.rnn_trajectory(W, U, x)
    assert np.all(np.linalg.norm(states, axis=-1) <= dynamics.state_bound(lam, lx_bx) * (1 + 1e-9))


def test_truncation_bound_is_nearly_attained_without_saturation():
    """W = lam I and a small constant input: tanh is almost linear, the error is ~ the bound."""
    lam, n = 0.9, 3
    W, U = lam * np.eye(n), 1e-3 * np.eye(n)
    x = np.ones((1, 200, n)) / np.sqrt(n)  # ||x_t|| = 1 = B_x, L_x = 1e-3
    ratios = []
    for k in (1, 5, 10, 20):
        err = dynamics.truncation_error(W, U, x, k)
        ratios.append(err.max() / dynamics.truncation_bound(lam, k, 1e-3))
    assert min(ratios) >= 0.99  # measured / bound: the bound is tight here, not vacuous
    assert max(ratios) <= 1.0


def test_min_context_numbers_of_the_book_and_minimality():
    assert tuple(dynamics.min_context(0.9, 1.0, eps) for eps in (1e-1, 1e-2, 1e-3)) == MIN_CONTEXT_09
    for lam, lx_bx, eps in [(0.5, 2.0, 1e-4), (0.99, 0.3, 1e-2), (0.2, 1e-6, 1.0), (0.9, 0.0, 1e-3)]:
        k = dynamics.min_context(lam, lx_bx, eps)
        assert dynamics.truncation_bound(lam, k, lx_bx) <= eps
        assert k == 1 or dynamics.truncation_bound(lam, k - 1, lx_bx) > eps


def test_min_context_table_of_chapter_5():
    """Chapter 5's table: the smallest sufficient k for each lam and eps (L_x B_x = 1), and each factor of
    ten in accuracy costs ln 10 / ln(1/lam) steps (up to rounding)."""
    for lam in (0.5, 0.9, 0.99):
        for eps in (1e-1, 1e-2, 1e-3):
            k = dynamics.min_context(lam, 1.0, eps)
            assert dynamics.truncation_bound(lam, k, 1.0) <= eps
            assert k == 1 or dynamics.truncation_bound(lam, k - 1, 1.0) > eps
    ks = [dynamics.min_context(0.99, 1.0, eps) for eps in (1e-1, 1e-2, 1e-3)]
    assert abs((ks[2] - ks[1]) - np.log(10) / np.log(1 / 0.99)) <= 1


def test_truncation_bound_over_an_array_of_k_and_state_bound():
    ks = np.arange(1, 6)
    np.testing.assert_allclose(dynamics.truncation_bound(0.5, ks, 1.0), 0.5**ks / 0.5)
    assert dynamics.state_bound(0.75, 2.0) == pytest.approx(8.0)


# -------------------------------------------------------------- the running sum (Chapter 5)


def test_running_sum_truncation_error_is_the_forgotten_sum():
    """h_t - h^k_t = x_1 + ... + x_{t-k}: it grows without bound in t, for every k."""
    t, err = dynamics.running_sum_errors(400, (10, 40, 160), lam=1.0, seed=0)
    x = np.random.default_rng(0).uniform(0.0, 1.0, 400)
    for row, k in zip(err, (10, 40, 160)):
        expected = np.array([x[: ti - k].sum() if ti > k else 0.0 for ti in t])
        assert np.allclose(row, expected)
        assert np.all(np.diff(row) >= 0)  # non-negative inputs: the error only grows
        assert row[-1] == pytest.approx((400 - k) / 2, rel=0.1)  # linear growth, mean input 1/2
    assert err[0, -1] > err[2, -1] > 100


def test_leaky_sum_error_stays_below_its_bound():
    """Stable comparison: h_t = 0.9 h_{t-1} + x_t with x in [0, 1]: error <= 0.9^k / (1 - 0.9)."""
    _, leaky = dynamics.running_sum_errors(400, (10,), lam=0.9, seed=0)
    assert leaky.max() <= dynamics.truncation_bound(0.9, 10, 1.0)
    assert leaky.max() > 0.5 * dynamics.truncation_bound(0.9, 10, 1.0)  # and the bound is not loose here


# ------------------------------------------------------------ the scalar recurrence (Chapter 7)


@FAST
@given(st.floats(1.01, 1.5), st.integers(2, 200))
def test_derivative_matches_the_closed_form(a, T):
    """Proposition 7.1: dh_T/da = (T a^{T-1}(a-1) - (a^T - 1)) / (a-1)^2 for x_t = 1."""
    s = dynamics.scalar_derivative(a, np.ones(T))[-1]
    closed = (T * a ** (T - 1) * (a - 1) - (a**T - 1)) / (a - 1) ** 2
    assert s == pytest.approx(closed, rel=1e-9)


def test_gradient_grows_like_T_a_to_the_T():
    """§7.1: (dh_T/da) / (T a^T) -> 1/(a(a-1)), with error (1 - a^-T) / (T (a-1)^2)."""
    a = 1.1
    ratios = [dynamics.scalar_derivative(a, np.ones(T))[-1] / (T * a**T) for T in (20, 80, 320)]
    assert np.all(np.diff(ratios) > 0)
    assert ratios[-1] == pytest.approx(1 / (a * (a - 1)), rel=0.05)
    for T, r in zip((20, 80, 320), ratios):
        assert 1 / (a * (a - 1)) - r == pytest.approx((1 - a**-T) / (T * (a - 1) ** 2), rel=1e-6)


@FAST
@given(st.floats(-0.95, 0.95), st.integers(2, 300), st.integers(0, 1000))
def test_stable_derivative_is_bounded_independently_of_T(a, T, seed):
    """Exercise 7.1: |dh_T/da| <= 1/(1-|a|)^2 for |x_t| <= 1."""
    x = np.random.default_rng(seed).uniform(-1, 1, T)
    assert abs(dynamics.scalar_derivative(a, x)[-1]) <= 1 / (1 - abs(a)) ** 2 + 1e-9


def test_scalar_task_targets_are_the_teachers_states():
    x, y = dynamics.scalar_task(0.8, 40, seed=0)
    assert x.shape == y.shape == (40,)
    np.testing.assert_allclose(y, dynamics.scalar_states(0.8, x)[1:], rtol=0)
    np.testing.assert_allclose(y[1:], 0.8 * y[:-1] + x[1:], rtol=1e-12)


def test_gradient_of_the_loss_matches_finite_differences():
    x, y = dynamics.scalar_task(0.8, 40, seed=0)
    for a in (0.3, 0.9, 1.05):
        _, g = dynamics.scalar_loss_and_grad(a, x, y)
        lp, _ = dynamics.scalar_loss_and_grad(a + 1e-6, x, y)
        lm, _ = dynamics.scalar_loss_and_grad(a - 1e-6, x, y)
        assert g == pytest.approx((lp - lm) / 2e-6, rel=1e-5)
    curve = dynamics.scalar_loss_curve(np.array([0.3, 0.9, 1.05]), x, y)
    assert curve == pytest.approx([dynamics.scalar_loss_and_grad(a, x, y)[0] for a in (0.3, 0.9, 1.05)], rel=1e-9)


def test_scalar_truncation_error_formula():
    x = np.random.default_rng(1).standard_normal(30)
    a, k = 0.7, 5
    h = dynamics.scalar_states(a, x)
    trunc = [sum(a**j * x[t - 1 - j] for j in range(min(k, t))) for t in range(1, 31)]
    assert dynamics.scalar_truncation_error(a, x, k) == pytest.approx(np.max(np.abs(h[1:] - trunc)), rel=1e-12)


# -------------------------------------------- "the smallest k within 1 % of full context" (Ch. 9)


def test_smallest_k_within_on_a_synthetic_sweep():
    ks = [1, 2, 4, 8, 16]
    full = 10.0
    assert dynamics.smallest_k_within(ks, [13.0, 11.0, 10.2, 10.05, 10.0], full) == 8  # 10.2 is 2 % above
    assert dynamics.smallest_k_within(ks, [13.0, 11.0, 10.1, 10.05, 10.0], full) == 4  # exactly 1 % counts
    assert dynamics.smallest_k_within(ks, [13.0, 9.0, 12.0, 10.5, 10.3], full) == 2  # better than full counts
    assert dynamics.smallest_k_within(ks, [13.0, 12.0, 11.0, 10.5, 10.3], full) is None
    assert dynamics.smallest_k_within(ks, [13.0, 12.0, 11.0, 10.5, 10.3], full, tolerance=0.05) == 8


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.floats(0.5, 3.0), min_size=2, max_size=9), st.floats(0.001, 0.2))
def test_smallest_k_within_is_the_first_qualifying_k(values, tol):
    ks = [2**i for i in range(len(values))]
    full = 1.0
    k = dynamics.smallest_k_within(ks, values, full, tol)
    ok = [v <= (1 + tol) * full for v in values]
    if k is None:
        assert not any(ok)
    else:
        i = ks.index(k)
        assert ok[i] and not any(ok[:i])


@pytest.mark.parametrize("bad", [dict(ks=[2, 1], values=[1, 1]), dict(ks=[1, 2], values=[1]),
                                 dict(ks=[0, 1], values=[1, 1]), dict(ks=[1, 2], values=[1, np.nan])])
def test_smallest_k_within_rejects_bad_input(bad):
    with pytest.raises(ValueError, match="ks|values"):
        dynamics.smallest_k_within(bad["ks"], bad["values"], 1.0)
    with pytest.raises(ValueError, match="tolerance"):
        dynamics.smallest_k_within([1, 2], [1.0, 1.0], 1.0, tolerance=0.0)


# ----------------------------------------------------------------------------- bad input


I2 = np.eye(2)
X = np.zeros((1, 3, 2))

BAD_INPUT = [
    ("k = 0 truncation", lambda: dynamics.truncated_rnn_states(I2, I2, X, 0), ValueError, "k must"),
    ("k float", lambda: dynamics.truncation_error(I2, I2, X, 2.5), TypeError, "k must"),
    ("k = 0 bound", lambda: dynamics.truncation_bound(0.5, 0, 1.0), ValueError, "k must"),
    ("k array with 0", lambda: dynamics.truncation_bound(0.5, np.array([0, 1]), 1.0), ValueError, "k must"),
    ("k float array", lambda: dynamics.truncation_bound(0.5, np.array([1.5]), 1.0), TypeError, "k must"),
    ("lam = 1 bound", lambda: dynamics.truncation_bound(1.0, 3, 1.0), ValueError, "lam"),
    ("lam > 1 context", lambda: dynamics.min_context(1.2, 1.0, 0.1), ValueError, "lam"),
    ("lam = 0", lambda: dynamics.state_bound(0.0, 1.0), ValueError, "lam"),
    ("eps = 0", lambda: dynamics.min_context(0.9, 1.0, 0.0), ValueError, "eps"),
    ("eps < 0", lambda: dynamics.min_context(0.9, 1.0, -1e-3), ValueError, "eps"),
    ("negative lx_bx", lambda: dynamics.truncation_bound(0.5, 2, -1.0), ValueError, "lx_bx"),
    ("x wrong ndim", lambda: dynamics.rnn_trajectory(I2, I2, np.zeros(3)), ValueError, "x must have 2 or 3"),
    ("x wrong width", lambda: dynamics.rnn_trajectory(I2, I2, np.zeros((3, 5))), ValueError, "x must have 2"),
    ("U wrong rows", lambda: dynamics.rnn_trajectory(I2, np.ones((3, 2)), X), ValueError, "U must"),
    ("h0 wrong size", lambda: dynamics.rnn_trajectory(I2, I2, X, h0=np.zeros(3)), ValueError, "h0"),
    ("NaN inputs", lambda: dynamics.linear_trajectory(I2, np.full((3, 2), np.nan)), ValueError, "x must"),
    ("bad jacobian kind", lambda: dynamics.jacobian_norms_vs_lag(I2, np.zeros((3, 2)), kind="lstm"), ValueError,
     "kind"),
    ("states too short", lambda: dynamics.contraction_factors(I2, np.zeros((1, 2))), ValueError, "states"),
    ("distance shapes", lambda: dynamics.trajectory_distance(np.zeros((3, 2)), np.zeros((4, 2))), ValueError,
     "states_b"),
    ("params not dict", lambda: dynamics.lstm_trajectory([1, 2], X), TypeError, "params"),
    ("params missing key", lambda: dynamics.lstm_trajectory({"W_i": I2}, X), ValueError, "params"),
    ("scale < 0", lambda: dynamics.random_lstm_params(2, 2, scale=-1.0), ValueError, "scale"),
    ("readout wrong size", lambda: dynamics.truncation_errors_all_k(I2, I2, X, np.ones(3), 5), ValueError, "v must"),
    ("k_max = 0", lambda: dynamics.truncation_errors_all_k(I2, I2, X, np.ones(2), 0), ValueError, "k_max"),
    ("context length 0", lambda: dynamics.running_sum_errors(10, (0,)), ValueError, "ks"),
    ("no context lengths", lambda: dynamics.running_sum_errors(10, ()), TypeError, "ks"),
    ("leak > 1", lambda: dynamics.running_sum_errors(10, (1,), lam=1.5), ValueError, "lam"),
    ("scalar targets", lambda: dynamics.scalar_loss_and_grad(0.5, np.ones(3), np.ones(4)), ValueError, "y"),
    ("scalar task steps", lambda: dynamics.scalar_task(0.8, 1, seed=0), ValueError, "steps"),
    ("scalar task a_star", lambda: dynamics.scalar_task(2.5, 10, seed=0), ValueError, "a_star"),
    ("scalar k = 0", lambda: dynamics.scalar_truncation_error(0.5, np.ones(3), 0), ValueError, "k must"),
]


@pytest.mark.parametrize("name, call, error, match", BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_is_rejected_with_a_message_naming_the_argument(name, call, error, match):
    with pytest.raises(error, match=match):
        call()
