"""The claims of Chapters 4 and 5 that do not come from an explorer, on the chapters' own seeded setups.

Chapter 4: the gradient bound on a stable tanh RNN, the LSTM condition (derived, and the recalled
one with zero margin), the LSTM contraction check, projection and its cost. Chapter 5: the table of
context lengths and the running-sum counterexample. The training claims are in
``test_part2a_training.py``.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stablernn import dynamics, linalg, stability
from stablernn.lessons import part2a

FAST = settings(max_examples=25, deadline=None, derandomize=True)


# ---------------------------------------------------------------------------------- Chapter 4


def test_jacobian_products_below_lambda_to_the_k():
    """Proposition: ||dh_t/dh_{t-k}||_2 <= lambda^k, on the chapter's figure setup (lambda = 0.9)."""
    W = linalg.random_matrix(16, spectral_norm=0.9, seed=0)
    U = linalg.random_matrix(16, spectral_norm=1.0, seed=1, m=4)
    x = np.random.default_rng(2).standard_normal((8, 30, 4))
    jac = dynamics.jacobian_norms_vs_lag(W, dynamics.rnn_trajectory(W, U, x), average=False).max(axis=0)
    lags = np.arange(len(jac))
    assert np.all(jac <= 0.9**lags * (1 + 1e-9))
    assert np.max(jac[1:] / 0.9 ** lags[1:]) < 1.0  # the glued "largest ratio" is below one


@FAST
@given(n=st.integers(1, 6), m=st.integers(1, 3), lam=st.floats(0.05, 0.99), bound=st.floats(0.2, 3.0),
       seed=st.integers(0, 10_000))
def test_sampled_lstm_certifies_the_requested_lambda(n, m, lam, bound, seed):
    p = part2a.sample_stable_lstm(n, m, lam, input_bound=bound, seed=seed)
    report = stability.lstm_condition(p, input_bound=bound)
    assert report.holds and report.contraction == pytest.approx(lam, rel=1e-9)


def test_recalled_lstm_condition_has_zero_margin_on_the_chapters_example():
    p = dynamics.random_lstm_params(8, 3, seed=0)
    f_bar = 0.6
    for key, r in {"W_i": 1 - f_bar, "W_o": 1 - f_bar, "W_z": (1 - f_bar) / 4, "W_f": (1 - f_bar) ** 2}.items():
        p[key] = p[key] * (r / linalg.inf_norm(p[key]))
    assert f"{stability.lstm_contraction_factor(p, f_bar):.6f}" == "1.000000"


def test_lstm_contraction_check_of_the_chapter():
    """Figure of §4.4: no measured ratio above the certified lambda, on the chapter's seed and sizes."""
    check = part2a.lstm_contraction_check(n_models=60, n_pairs=400, seed=0)
    assert check.certified.min() >= 0.2 and check.certified.max() <= 0.99
    assert np.all(check.measured <= check.certified)
    assert np.all(check.measured > 0)


def test_lstm_check_can_detect_a_violation():
    """The check is not vacuous: with W_z scaled up, some measured ratio exceeds the certified lambda."""
    rng = np.random.default_rng(0)
    p = part2a.sample_stable_lstm(4, 2, 0.5, seed=1)
    p["W_z"] = 4.0 * np.eye(4)
    p["b_i"] = p["b_o"] = np.full(4, 6.0)
    lam = stability.lstm_condition(p).contraction  # > 1 now: no certificate, but a number
    c, h = np.zeros((200, 4)), rng.uniform(-0.01, 0.01, (200, 4))
    x = np.zeros((200, 2))
    a, b = dynamics.lstm_step(p, c, h, x)[:2], dynamics.lstm_step(p, c, np.zeros_like(h), x)[:2]
    ratio = np.maximum(np.abs(a[0] - b[0]).max(1), np.abs(a[1] - b[1]).max(1)) / np.abs(h).max(1)
    assert ratio.max() > 1.0 and lam > 1.0


def test_power_iteration_is_cheaper_than_the_svd_and_slightly_low():
    t = part2a.projection_timings(sizes=(256,), repeats=3, n_iter=20, seed=0)
    assert t.power_seconds[0] < t.svd_seconds[0]
    assert np.all(t.power_rel_error >= -1e-12) and np.all(t.power_rel_error < 0.1)


def test_projection_clips_only_the_large_singular_values():
    W = linalg.random_matrix(32, spectral_norm=1.9, seed=4)
    s_before = np.linalg.svd(W, compute_uv=False)
    s_after = np.linalg.svd(linalg.project_spectral_norm(W, 0.999), compute_uv=False)
    assert np.allclose(s_after, np.minimum(s_before, 0.999), atol=1e-10)


# ---------------------------------------------------------------------------------- Chapter 5


def test_min_context_table():
    """SCIENCE.md §5: lambda = 0.9, L_x B_x = 1 needs k = 44, 66, 88 for eps = 1e-1, 1e-2, 1e-3."""
    assert [dynamics.min_context(0.9, 1.0, eps) for eps in (1e-1, 1e-2, 1e-3)] == [44, 66, 88]
    for lam in (0.5, 0.9, 0.99):
        for eps in (1e-1, 1e-2, 1e-3):
            k = dynamics.min_context(lam, 1.0, eps)
            assert dynamics.truncation_bound(lam, k, 1.0) <= eps
            assert k == 1 or dynamics.truncation_bound(lam, k - 1, 1.0) > eps
    # each factor of ten in accuracy costs ln 10 / ln(1/lambda) steps (up to rounding)
    ks = [dynamics.min_context(0.99, 1.0, eps) for eps in (1e-1, 1e-2, 1e-3)]
    assert abs((ks[2] - ks[1]) - np.log(10) / np.log(1 / 0.99)) <= 1


def test_running_sum_truncation_error_is_the_forgotten_sum():
    """h_t - h^k_t = x_1 + ... + x_{t-k}: it grows without bound in t, for every k."""
    t, err = part2a.running_sum_errors(400, (10, 40, 160), lam=1.0, seed=0)
    x = np.random.default_rng(0).uniform(0.0, 1.0, 400)
    for row, k in zip(err, (10, 40, 160)):
        expected = np.array([x[: ti - k].sum() if ti > k else 0.0 for ti in t])
        assert np.allclose(row, expected)
        assert np.all(np.diff(row) >= 0)  # non-negative inputs: the error only grows
        assert row[-1] == pytest.approx((400 - k) / 2, rel=0.1)  # linear growth, mean input 1/2
    assert err[0, -1] > err[2, -1] > 100


def test_leaky_sum_error_stays_below_its_bound():
    """Stable comparison: h_t = 0.9 h_{t-1} + x_t with x in [0, 1]: error <= 0.9^k / (1 - 0.9)."""
    _, leaky = part2a.running_sum_errors(400, (10,), lam=0.9, seed=0)
    assert leaky.max() <= dynamics.truncation_bound(0.9, 10, 1.0)
    assert leaky.max() > 0.5 * dynamics.truncation_bound(0.9, 10, 1.0)  # and the bound is not loose here


def test_lesson_helpers_validate_their_arguments():
    with pytest.raises(ValueError, match="lam"):
        part2a.sample_stable_lstm(3, 2, 1.0)
    with pytest.raises(ValueError, match="ks"):
        part2a.running_sum_errors(10, (0,))
    with pytest.raises(ValueError, match="n_pairs"):
        part2a.lstm_contraction_check(n_pairs=1)
    with pytest.raises(ValueError, match="sizes"):
        part2a.projection_timings(sizes=(1,))
    with pytest.raises(ValueError, match="steps"):
        part2a.delayed_recall(4, 3, 5, seed=0)
