"""Tests of stablernn.dynamics: trajectories, Jacobian products and the truncation theorem."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    assert [dynamics.min_context(0.9, 1.0, eps) for eps in (1e-1, 1e-2, 1e-3)] == [44, 66, 88]
    for lam, lx_bx, eps in [(0.5, 2.0, 1e-4), (0.99, 0.3, 1e-2), (0.2, 1e-6, 1.0), (0.9, 0.0, 1e-3)]:
        k = dynamics.min_context(lam, lx_bx, eps)
        assert dynamics.truncation_bound(lam, k, lx_bx) <= eps
        assert k == 1 or dynamics.truncation_bound(lam, k - 1, lx_bx) > eps


def test_truncation_bound_over_an_array_of_k_and_state_bound():
    ks = np.arange(1, 6)
    np.testing.assert_allclose(dynamics.truncation_bound(0.5, ks, 1.0), 0.5**ks / 0.5)
    assert dynamics.state_bound(0.75, 2.0) == pytest.approx(8.0)
