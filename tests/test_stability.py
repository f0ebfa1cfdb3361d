"""Tests of stablernn.stability: each sufficient condition really gives contraction; projections; the
Lyapunov certificate; LSTMs sampled with a prescribed certificate; the training-equivalence recursion
bound and the context it requires; the messages of bad input."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import NONNORMAL_NORM
from stablernn import dynamics, linalg, stability

FAST = settings(max_examples=30, deadline=None, derandomize=True)
seeds = st.integers(0, 10_000)


# ---------------------------------------------------------------------------- linear and RNN


@FAST
@given(n=st.integers(1, 8), lam=st.floats(0.0, 0.999), seed=seeds)
def test_linear_condition_gives_contraction_in_l2(n, lam, seed):
    A = linalg.random_matrix(n, spectral_norm=lam, seed=seed)
    report = stability.linear_condition(A)
    assert report.holds and report.contraction == pytest.approx(lam, rel=1e-9, abs=1e-15)
    rng = np.random.default_rng(seed)
    h, h2, u = rng.standard_normal((3, 50, n)) * rng.uniform(0.01, 10)
    step = lambda s: s @ A.T + u  # noqa: E731
    d_before = np.linalg.norm(h - h2, axis=1)
    assert np.all(np.linalg.norm(step(h) - step(h2), axis=1) <= report.contraction * d_before + 1e-12)


def test_linear_condition_fails_for_the_nonnormal_example_with_small_radius():
    report = stability.linear_condition(linalg.nonnormal_example(0.9, 1.0))
    assert not report.holds and report.contraction == pytest.approx(NONNORMAL_NORM, abs=1e-4)
    assert "spectral radius 0.9" in report.detail


@FAST
@given(n=st.integers(1, 8), m=st.integers(1, 4), lam=st.floats(0.0, 0.999), seed=seeds)
def test_rnn_condition_gives_contraction_in_l2(n, m, lam, seed):
    """||W||_2 < 1 => ||tanh(W h + U x + b) - tanh(W h' + U x + b)|| <= ||W||_2 ||h - h'||."""
    rng = np.random.default_rng(seed)
    W = linalg.random_matrix(n, spectral_norm=lam, seed=seed)
    U, b = rng.standard_normal((n, m)), rng.standard_normal(n)
    report = stability.rnn_condition(W)
    assert report.holds and report.norm_name == "l2"
    h, h2 = rng.standard_normal((2, 50, n)) * rng.uniform(0.01, 5)
    x = rng.standard_normal((50, m)) * 3
    step = lambda s: np.tanh(s @ W.T + x @ U.T + b)  # noqa: E731
    lhs = np.linalg.norm(step(h) - step(h2), axis=1)
    assert np.all(lhs <= report.contraction * np.linalg.norm(h - h2, axis=1) + 1e-12)


def test_rnn_condition_uses_spectral_norm_not_radius():
    W = linalg.matrix_with_norm(4, 0.5, 1.2, seed=0)
    report = stability.rnn_condition(W)
    assert not report.holds and report.contraction == pytest.approx(1.2, rel=1e-9)
    assert stability.rnn_condition(0.5 * W, lipschitz=1.5).contraction == pytest.approx(0.9, rel=1e-9)


# -------------------------------------------------------------------------------------- LSTM


def _stable_lstm(n, m, seed, f_target, input_bound, margin, recalled=False):
    """Random LSTM params rescaled so that lstm_condition holds, with its forget bound from weights."""
    rng = np.random.default_rng(seed)
    p = dynamics.random_lstm_params(n, m, scale=1.0, seed=seed)
    # choose U_f, b_f so that sigmoid(row sums) <= f_target; W_f is fixed by the radii below
    p["b_f"] = rng.uniform(-3.0, 0.0, n)
    radii = stability.lstm_block_radii(f_target, margin)
    if recalled:  # the condition as recalled from the paper, on its boundary (W_f strictly inside)
        radii = {"W_i": 1 - f_target, "W_o": 1 - f_target, "W_z": (1 - f_target) / 4,
                 "W_f": (1 - f_target) ** 2 * (1 - margin)}
    for key, r in radii.items():
        p[key] = p[key] * (r / linalg.inf_norm(p[key]))  # every block's inf norm exactly its radius
    logit = np.log(f_target / (1 - f_target))
    slack = logit - np.abs(p["W_f"]).sum(1) - p["b_f"]  # what the inputs may add to each row
    rows = np.abs(p["U_f"]).sum(1) * input_bound
    p["U_f"] *= np.minimum(1.0, np.maximum(slack, 0.0) / np.maximum(rows, 1e-300))[:, None]
    p["b_f"] = np.minimum(p["b_f"], logit - np.abs(p["W_f"]).sum(1) - np.abs(p["U_f"]).sum(1) * input_bound)
    return p, rng


def _lstm_distance(a, b):
    return np.maximum(np.abs(a[0] - b[0]).max(axis=-1), np.abs(a[1] - b[1]).max(axis=-1))


@FAST
@given(n=st.integers(1, 6), m=st.integers(1, 3), f_target=st.floats(0.05, 0.95), margin=st.floats(1e-3, 0.5),
       input_bound=st.floats(0.1, 3.0), recalled=st.booleans(), seed=seeds)
def test_lstm_condition_gives_contraction_in_l_inf(n, m, f_target, margin, input_bound, recalled, seed):
    """||(c', h') - (c2', h2')||_inf <= lambda ||(c, h) - (c2, h2)||_inf on |h| <= 1, |c| <= 1/(1 - f)."""
    p, rng = _stable_lstm(n, m, seed, f_target, input_bound, margin, recalled)
    f_bar = stability.forget_gate_bound(p, input_bound)
    assert f_bar <= f_target * (1 + 1e-9)
    report = stability.lstm_condition(p, input_bound=input_bound)
    assert report.holds and report.norm_name == "l_inf on (c, h)"
    assert report.contraction == pytest.approx(stability.lstm_contraction_factor(stability.lstm_block_norms(p), f_bar))
    B_c, N = 1.0 / (1.0 - f_bar), 200
    x = rng.uniform(-input_bound, input_bound, (N, m))
    c = rng.uniform(-B_c, B_c, (N, n))
    h = rng.uniform(-1, 1, (N, n))
    # second states: far (anywhere in the set) for half, close (a small step) for the other half
    c2 = np.where(np.arange(N)[:, None] < N // 2, rng.uniform(-B_c, B_c, (N, n)),
                  np.clip(c + 1e-3 * rng.standard_normal((N, n)), -B_c, B_c))
    h2 = np.where(np.arange(N)[:, None] < N // 2, rng.uniform(-1, 1, (N, n)),
                  np.clip(h + 1e-3 * rng.standard_normal((N, n)), -1, 1))
    step = dynamics.lstm_step
    out1, out2 = step(p, c, h, x)[:2], step(p, c2, h2, x)[:2]
    assert np.all(_lstm_distance(out1, out2) <= report.contraction * _lstm_distance((c, h), (c2, h2)) + 1e-12)
    # the forget gate really stays below its bound, and the set is invariant along a trajectory
    hs, cs = dynamics.lstm_trajectory(p, rng.uniform(-input_bound, input_bound, (2, 30, m)))
    assert np.all(np.abs(cs) <= B_c * (1 + 1e-12)) and np.all(np.abs(hs) <= 1)


def test_recalled_condition_has_no_margin():
    """Equal split of (1 - f) over the four terms: lambda -> 1 at the recalled condition's boundary."""
    p = dynamics.random_lstm_params(4, 2, seed=0)
    f = 0.6
    for key, r in {"W_i": 1 - f, "W_o": 1 - f, "W_z": (1 - f) / 4, "W_f": (1 - f) ** 2}.items():
        p[key] *= r / linalg.inf_norm(p[key])
    assert stability.lstm_contraction_factor(stability.lstm_block_norms(p), f) == pytest.approx(1.0, rel=1e-12)
    p["W_f"] *= 1.0 + 1e-6  # just outside the corollary's block conditions: lambda > 1
    assert stability.lstm_contraction_factor(stability.lstm_block_norms(p), f) > 1


def test_lstm_without_the_condition_can_expand():
    """The test above could fail: a large W_z breaks contraction on some pair of states."""
    p = dynamics.random_lstm_params(3, 1, scale=0.0, seed=0)
    p["W_z"] = 3.0 * np.eye(3)
    p["b_i"] = p["b_o"] = np.full(3, 5.0)  # gates open
    p["b_f"] = np.full(3, -5.0)
    assert not stability.lstm_condition(p).holds
    x = np.zeros((1, 1))
    c = np.zeros((1, 3))
    h, h2 = np.zeros((1, 3)), np.full((1, 3), 0.01)
    out1, out2 = dynamics.lstm_step(p, c, h, x)[:2], dynamics.lstm_step(p, c, h2, x)[:2]
    assert _lstm_distance(out1, out2)[0] > 1.5 * _lstm_distance((c, h), (c, h2))[0]


def test_lstm_numpy_trajectory_matches_torch_and_params_round_trip():
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(input_size=3, hidden_size=5, batch_first=True).double()
    p = stability.lstm_params_from_torch(lstm)
    x = np.random.default_rng(0).standard_normal((2, 7, 3))
    with torch.no_grad():
        out, (h_T, c_T) = lstm(torch.from_numpy(x))
    h, c = dynamics.lstm_trajectory(p, x)
    np.testing.assert_allclose(h[:, 1:], out.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c[:, -1], c_T[0].numpy(), rtol=1e-10, atol=1e-12)


# -------------------------------------------------------------------------------- projections


@pytest.mark.parametrize("method", ["svd", "power"])
def test_project_rnn_in_place(method):
    W = linalg.matrix_with_norm(6, 0.8, 2.5, seed=1)
    weight = torch.tensor(W, requires_grad=True)
    stability.project_rnn_(weight, max_norm=0.99, method=method, n_iter=300)
    assert weight.requires_grad
    out = weight.detach().numpy()
    assert linalg.spectral_norm(out) == pytest.approx(0.99, rel=1e-6)
    if method == "svd":
        np.testing.assert_allclose(out, linalg.project_spectral_norm(W, 0.99), atol=1e-12)
    else:
        np.testing.assert_allclose(out, W * (out[0, -1] / W[0, -1]), rtol=1e-12)
    inside = torch.tensor(linalg.random_matrix(4, spectral_norm=0.5, seed=0))
    before = inside.clone()
    stability.project_rnn_(inside, method=method)
    assert torch.equal(inside, before)



@FAST
@given(n=st.integers(2, 16), scale=st.floats(0.05, 4.0), max_norm=st.floats(0.1, 1.0), hidden=st.booleans(),
       dtype=st.sampled_from([torch.float32, torch.float64]), seed=seeds)
def test_power_projection_keeps_the_norm_bound_for_every_weight(n, scale, max_norm, hidden, dtype, seed):
    """The guarantee of project_rnn_(method="power") with one iteration: ||weight||_2 <= max_norm
    (1 + 1e-6) afterwards, in float32 as in float64, for Gaussian weights and for weights whose top
    right singular vector is orthogonal to the seeded start (``hidden``), which the unchecked rescale
    left unchanged."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((n, n)) * scale / np.sqrt(n)
    if hidden:
        v0 = np.random.default_rng(seed).standard_normal(n)  # the seeded start, as linalg draws it
        Q, _ = np.linalg.qr(np.column_stack([v0, rng.standard_normal((n, n - 1))]))
        U, _ = np.linalg.qr(rng.standard_normal((n, n)))
        s = np.concatenate([[2.0 * max_norm], np.linspace(0.9, 0.0, n - 1) * max_norm])
        W = (U * s) @ np.column_stack([Q[:, 1], Q[:, 0], Q[:, 2:]]).T  # v0: the second right singular vector
    weight = torch.tensor(W, dtype=dtype)
    start = stability.project_rnn_(weight, max_norm=max_norm, method="power", n_iter=1, seed=seed)
    assert linalg.spectral_norm(weight.double().numpy()) <= max_norm * (1 + 1e-6)
    assert start is None or (start.shape == (n,) and np.linalg.norm(start) == pytest.approx(1.0))


def test_power_projection_returns_a_warm_start_that_the_next_call_uses():
    """The returned vector is the next call's start: with it the estimate of a slightly moved
    weight is accurate, so the rescale lands at max_norm to 1e-6 from below with a single iteration."""
    W = linalg.random_matrix(32, spectral_norm=2.0, seed=0)
    weight = torch.tensor(W)
    start = stability.project_rnn_(weight, max_norm=0.9, method="power", n_iter=1)
    assert abs(start @ np.linalg.svd(W)[2][0]) == pytest.approx(1.0, rel=1e-9)  # the SVD fallback's vector
    moved = weight + 1e-4 * torch.tensor(linalg.random_matrix(32, spectral_norm=1.0, seed=1))
    estimate = linalg.power_iteration_norm(moved.numpy(), n_iter=1, tol=0.0, start=start)
    assert estimate == pytest.approx(linalg.spectral_norm(moved.numpy()), rel=1e-6)
    stability.project_rnn_(moved, max_norm=0.9, method="power", n_iter=1, start=start)
    assert 0.9 * (1 - 1e-6) <= linalg.spectral_norm(moved.numpy()) <= 0.9 * (1 + 1e-6)
    assert stability.project_rnn_(weight, max_norm=0.9, method="svd") is None

@FAST
@given(n=st.integers(1, 6), f=st.floats(0.0, 0.95), margin=st.floats(1e-3, 1.0), scale=st.floats(0.01, 3.0),
       seed=seeds)
def test_project_lstm_makes_the_condition_hold_and_is_the_row_projection(n, f, margin, scale, seed):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((4 * n, n)) * scale
    weight = torch.tensor(W)
    stability.project_lstm_(weight, forget_bound=f, margin=margin)
    out = weight.numpy()
    radii = stability.lstm_block_radii(f, margin)
    for block, key in enumerate(("W_i", "W_f", "W_z", "W_o")):
        rows = slice(block * n, (block + 1) * n)
        np.testing.assert_allclose(out[rows], linalg.project_rows_l1(W[rows], radii[key]), rtol=1e-12, atol=1e-15)
    p = dynamics.random_lstm_params(n, 2, seed=seed)
    p.update({key: out[block * n : (block + 1) * n] for block, key in enumerate(("W_i", "W_f", "W_z", "W_o"))})
    lam = stability.lstm_contraction_factor(stability.lstm_block_norms(p), f)
    assert lam <= 1 - margin * (1 - f) + 1e-12


def test_project_lstm_on_a_torch_module_then_check():
    torch.manual_seed(1)
    lstm = torch.nn.LSTM(2, 4).double()
    with torch.no_grad():
        lstm.weight_hh_l0.mul_(10.0)
    with torch.no_grad():
        lstm.bias_ih_l0[4:8] += 6.0  # a forget gate held open by its bias
    assert not stability.lstm_condition(stability.lstm_params_from_torch(lstm)).holds
    stability.project_lstm_(lstm.weight_hh_l0, forget_bound=0.5)
    assert not stability.lstm_condition(stability.lstm_params_from_torch(lstm)).holds  # the blocks alone: no
    stability.project_forget_gate_(lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0, 0.5, 1.0)
    p = stability.lstm_params_from_torch(lstm)
    assert stability.forget_gate_bound(p, 1.0) <= 0.5
    assert stability.lstm_condition(p, input_bound=1.0).holds


# ------------------------------------------------------------ LSTMs with a prescribed certificate


@FAST
@given(n=st.integers(1, 6), m=st.integers(1, 3), lam=st.floats(0.05, 0.99), bound=st.floats(0.2, 3.0),
       seed=st.integers(0, 10_000))
def test_sampled_lstm_certifies_the_requested_lambda(n, m, lam, bound, seed):
    p = stability.sample_stable_lstm(n, m, lam, input_bound=bound, seed=seed)
    report = stability.lstm_condition(p, input_bound=bound)
    assert report.holds and report.contraction == pytest.approx(lam, rel=1e-9)


def test_lstm_check_can_detect_a_violation():
    """The contraction check is not vacuous: with W_z scaled up, some measured ratio exceeds one."""
    rng = np.random.default_rng(0)
    p = stability.sample_stable_lstm(4, 2, 0.5, seed=1)
    p["W_z"] = 4.0 * np.eye(4)
    p["b_i"] = p["b_o"] = np.full(4, 6.0)
    lam = stability.lstm_condition(p).contraction  # > 1 now: no certificate, but a number
    c, h = np.zeros((200, 4)), rng.uniform(-0.01, 0.01, (200, 4))
    x = np.zeros((200, 2))
    a, b = dynamics.lstm_step(p, c, h, x)[:2], dynamics.lstm_step(p, c, np.zeros_like(h), x)[:2]
    ratio = np.maximum(np.abs(a[0] - b[0]).max(1), np.abs(a[1] - b[1]).max(1)) / np.abs(h).max(1)
    assert ratio.max() > 1.0 and lam > 1.0


# ------------------------------------------------------------------ the Lyapunov certificate


@FAST
@given(r=st.floats(0.0, 0.98), c=st.floats(0.0, 4.0), frac=st.floats(0.05, 1.0))
def test_lyapunov_norm_bounds_the_powers(r, c, frac):
    """||A^k||_2 <= sqrt(cond P) lam_P^k with lam_P < target, for any target in (rho, 1]."""
    A = linalg.nonnormal_example(r, c)
    target = r + frac * (1.0 - r)
    lam_p, cond = stability.lyapunov_certificate(A, target)
    assert lam_p < target + 1e-12
    k = np.arange(120)
    # 1e-150: below it the squares that P is built from underflow (a coupling of 1e-300 has c^2 = 0)
    assert np.all(linalg.power_norms(A, 119) <= cond * lam_p**k * (1 + 1e-8) + 1e-150)
    assert stability.lyapunov_certificate(linalg.nonnormal_example(1.0, c)) is None


def test_lyapunov_certificate_of_a_tiny_coupling_is_not_zero():
    """A = [[0, c], [0, 0]] with c = 1e-9: ||A||_2 = c, so no factor below c / sqrt(cond P) certifies it
    (the factor must not round to 0 when 1 + c^2 rounds to 1)."""
    lam_p, cond = stability.lyapunov_certificate(linalg.nonnormal_example(0.0, 1e-9), 1.0)
    assert cond * lam_p >= 1e-9 * (1 - 1e-8)


def test_a_target_closer_to_the_radius_costs_a_larger_condition_number():
    A = linalg.nonnormal_example(0.9, 1.0)
    (lam_far, cond_far), (lam_near, cond_near) = (stability.lyapunov_certificate(A, t) for t in (0.99, 0.92))
    assert lam_near < lam_far and cond_near > cond_far


# ------------------------------------------------------- the training-equivalence bound (Ch. 6)


@FAST
@given(st.sampled_from(stability.SCHEDULES), st.floats(0.01, 2.0), st.floats(0.1, 3.0), st.floats(0.1, 3.0),
       st.integers(1, 300), st.integers(1, 30), st.floats(0.3, 0.95))
def test_bound_is_the_solution_of_the_recursion(schedule, alpha, beta, gamma, steps, k, lam):
    """Theorem 6 (proof): u_{i+1} = (1 + a_i b) u_i + a_i c from u_1 = 0 equals (c/b)(prod - 1)."""
    c, u = gamma * k * lam**k, 0.0
    for i in range(1, steps + 1):
        a_i = stability.step_size(schedule, alpha, i)
        u = (1 + a_i * beta) * u + a_i * c
    bound = float(stability.weight_gap_bound(k, lam, schedule, alpha, beta, gamma, steps))
    assert bound == pytest.approx(u, rel=1e-9)


@FAST
@given(st.floats(0.01, 3.0), st.floats(0.01, 3.0), st.integers(1, 10**5))
def test_decaying_product_is_below_e_to_ab_times_n_to_ab(alpha, beta, steps):
    """prod (1 + alpha beta / i) <= exp(alpha beta H_N) <= e^{alpha beta} N^{alpha beta}."""
    log_p = stability.bound_product("decaying", alpha, beta, steps)
    ab = alpha * beta
    assert log_p <= ab * (1 + math.log(steps)) + 1e-12


def test_required_k_grows_logarithmically_with_decay_and_linearly_with_constant_steps():
    """§6.2 table: about ln(10)/ln(1/0.9) = 21.9 more steps of context per decade with alpha/i; linear otherwise."""
    kw = dict(lam=0.9, beta=1.0, gamma=1.0)
    dec = [stability.required_k(1e-3, schedule="decaying", alpha=1.0, steps=10**e, **kw) for e in (2, 3, 4, 5)]
    const = [stability.required_k(1e-3, schedule="constant", alpha=0.01, steps=10**e, **kw) for e in (3, 4, 5)]
    per_decade = np.diff(dec)
    assert np.all((per_decade > 20) & (per_decade < 26))
    # linear in N: the slope is ln(1 + alpha beta) / ln(1/lam) steps of context per gradient step
    slope = (const[2] - const[1]) / (10**5 - 10**4)
    assert slope == pytest.approx(math.log1p(0.01) / math.log(1 / 0.9), rel=0.02)
    assert const[2] > 8 * const[1]


@FAST
@given(st.sampled_from(stability.SCHEDULES), st.integers(1, 10**4), st.floats(1e-6, 1e-1))
def test_required_k_is_the_smallest_k_meeting_eps(schedule, steps, eps):
    kw = dict(lam=0.8, schedule=schedule, alpha=0.05, beta=1.0, gamma=1.0, steps=steps)
    k = stability.required_k(eps, **kw)
    assert float(stability.weight_gap_bound(k, **kw)) <= eps
    assert k == 1 or float(stability.weight_gap_bound(k - 1, **kw)) > eps


# ----------------------------------------------------------------------------- bad input


I2 = np.eye(2)
P = dynamics.random_lstm_params(2, 2, seed=0)

BAD_INPUT = [
    ("lipschitz = 0", lambda: stability.rnn_condition(I2, lipschitz=0.0), ValueError, "lipschitz"),
    ("non-square A", lambda: stability.linear_condition(np.ones((2, 3))), ValueError, "A must be a square"),
    ("forget_bound > 1", lambda: stability.lstm_contraction_factor(stability.lstm_block_norms(P), 1.5), ValueError,
     "forget_bound"),
    ("forget_bound = 1 radii", lambda: stability.lstm_block_radii(1.0), ValueError, "forget_bound"),
    ("margin = 0", lambda: stability.lstm_block_radii(0.5, margin=0.0), ValueError, "margin"),
    ("negative input_bound", lambda: stability.forget_gate_bound(P, -1.0), ValueError, "input_bound"),
    ("numpy weight", lambda: stability.project_rnn_(np.eye(2)), TypeError, "weight must be a torch.Tensor"),
    ("bad method", lambda: stability.project_rnn_(torch.eye(2), method="qr"), ValueError, "method"),
    ("max_norm = 0", lambda: stability.project_rnn_(torch.eye(2), max_norm=0.0), ValueError, "max_norm"),
    ("weight_hh not 4n x n", lambda: stability.project_lstm_(torch.eye(4), 0.5), ValueError, "weight_hh"),
    ("not an LSTM", lambda: stability.lstm_params_from_torch(torch.nn.GRU(2, 2)), TypeError, "lstm_module"),
    ("layer out of range", lambda: stability.lstm_params_from_torch(torch.nn.LSTM(2, 2, num_layers=2), layer=2),
     ValueError, "layer"),
    ("certificate lam = 1", lambda: stability.sample_stable_lstm(3, 2, 1.0), ValueError, "lam"),
    ("target below radius", lambda: stability.lyapunov_certificate(linalg.nonnormal_example(0.9, 1.0), target=0.8),
     ValueError, "target"),
    ("unknown schedule", lambda: stability.step_size("cosine", 1.0, 1), ValueError, "schedule"),
    ("step 0", lambda: stability.step_size("decaying", 1.0, 0), ValueError, "i must"),
    ("eps = 0", lambda: stability.required_k(0.0, 0.9, "decaying", 1.0, 1.0, 1.0, 10), ValueError, "eps"),
    ("k = 0 gap bound", lambda: stability.weight_gap_bound(0, 0.9, "decaying", 1.0, 1.0, 1.0, 10), ValueError, "k must"),
]


@pytest.mark.parametrize("name, call, error, match", BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_is_rejected_with_a_message_naming_the_argument(name, call, error, match):
    with pytest.raises(error, match=match):
        call()
