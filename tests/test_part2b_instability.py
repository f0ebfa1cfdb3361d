"""Tests of Chapter 7: the unstable scalar model, gradient descent and clipping, data-dependent stability."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stablernn.explorers import instability
from stablernn.lessons import part2b_instability as lesson

FAST = settings(max_examples=40, deadline=None, derandomize=True)


# ------------------------------------------------------------------ exploding gradients


@FAST
@given(st.floats(1.01, 1.5), st.integers(2, 200))
def test_derivative_matches_the_closed_form(a, T):
    """Proposition 7.1: dh_T/da = (T a^{T-1}(a-1) - (a^T - 1)) / (a-1)^2 for x_t = 1."""
    s = lesson.scalar_derivative(a, np.ones(T))[-1]
    closed = (T * a ** (T - 1) * (a - 1) - (a**T - 1)) / (a - 1) ** 2
    assert s == pytest.approx(closed, rel=1e-9)


def test_gradient_grows_like_T_a_to_the_T():
    """§7.1: (dh_T/da) / (T a^T) -> 1/(a(a-1)), with error (1 - a^-T) / (T (a-1)^2)."""
    a = 1.1
    ratios = [lesson.scalar_derivative(a, np.ones(T))[-1] / (T * a**T) for T in (20, 80, 320)]
    assert np.all(np.diff(ratios) > 0)
    assert ratios[-1] == pytest.approx(1 / (a * (a - 1)), rel=0.05)
    for T, r in zip((20, 80, 320), ratios):
        assert 1 / (a * (a - 1)) - r == pytest.approx((1 - a**-T) / (T * (a - 1) ** 2), rel=1e-6)


@FAST
@given(st.floats(-0.95, 0.95), st.integers(2, 300), st.integers(0, 1000))
def test_stable_derivative_is_bounded_independently_of_T(a, T, seed):
    """Exercise 7.1: |dh_T/da| <= 1/(1-|a|)^2 for |x_t| <= 1."""
    x = np.random.default_rng(seed).uniform(-1, 1, T)
    assert abs(lesson.scalar_derivative(a, x)[-1]) <= 1 / (1 - abs(a)) ** 2 + 1e-9


def test_gradient_of_the_loss_matches_finite_differences():
    x, y = lesson.scalar_task(0.8, 40, seed=0)
    for a in (0.3, 0.9, 1.05):
        _, g = lesson.scalar_loss_and_grad(a, x, y)
        lp, _ = lesson.scalar_loss_and_grad(a + 1e-6, x, y)
        lm, _ = lesson.scalar_loss_and_grad(a - 1e-6, x, y)
        assert g == pytest.approx((lp - lm) / 2e-6, rel=1e-5)


# ------------------------------------------------------------------ gradient descent and its remedies


def test_plain_descent_from_the_unstable_region_diverges():
    """§7.2: from a0 = 1.1 plain gradient descent overflows within two steps."""
    d = instability.descent(1.1, "none")
    assert d.diverged_at == 2 and not d.converged
    assert d.grads[0] > 1e3


def test_clipping_converges_from_1_1_but_is_caught_in_a_ravine_from_1_2():
    """§7.2: clipped descent reaches a* from 1.1; from 1.2 it jumps between 1.15 and 1.16 with |dL/da| ~ 10^3."""
    ok = instability.descent(1.1, "clipping")
    assert ok.converged and ok.iterates[-1] == pytest.approx(instability.A_STAR, abs=1e-3)
    stuck = instability.descent(1.2, "clipping")
    assert not stuck.converged and stuck.diverged_at is None
    assert np.all(stuck.iterates[-10:] > 1.0)  # an unstable model
    assert np.max(stuck.grads[-2:]) > 1e3  # not a stationary point
    x, _ = lesson.scalar_task(instability.A_STAR, instability.T_SCALAR, seed=0)
    assert lesson.scalar_truncation_error(stuck.iterates[-1], x, 10) > 10 * lesson.scalar_truncation_error(
        instability.A_STAR, x, 10)


@pytest.mark.parametrize("a0", [0.5, 0.9, 1.0, 1.05, 1.1, 1.2])
def test_projection_always_converges_to_the_teacher(a0):
    d = instability.descent(a0, "projection")
    assert d.converged and d.iterates[-1] == pytest.approx(instability.A_STAR, abs=1e-3)
    assert np.all(np.abs(d.iterates) <= instability.BOUND)


def test_truncation_error_formula():
    x = np.random.default_rng(1).standard_normal(30)
    a, k = 0.7, 5
    h = lesson.scalar_states(a, x)
    trunc = [sum(a**j * x[t - 1 - j] for j in range(min(k, t))) for t in range(1, 31)]
    assert lesson.scalar_truncation_error(a, x, k) == pytest.approx(np.max(np.abs(h[1:] - trunc)), rel=1e-12)


# ------------------------------------------------------------------ data-dependent stability


def test_contraction_claims_of_the_chapter():
    """§7.3: ||W||_2 = 2 with sigma = 8 contracts at most steps and on average; with sigma = 0 never."""
    d = instability.contraction(2.0, 8.0)
    assert d.fraction_below > 0.5 and d.mean_rate < 1
    assert np.min(d.distance) < 1e-12
    z = instability.contraction(2.0, 0.0)
    assert z.fraction_below == 0.0 and np.allclose(z.factors, 2.0)
    assert z.distance[-1] > 0.1
    assert instability.contraction(0.9, 0.0).fraction_below == 1.0


@FAST
@given(st.floats(0.1, 0.99), st.floats(0.0, 20.0))
def test_provably_stable_weights_contract_at_every_step(norm, scale):
    assert np.all(instability.contraction(norm, scale).factors <= norm + 1e-12)


def _corners(controls):
    out = []
    for c in controls:
        values = set(c.values)
        if c.live is not None:
            values |= set(c.live)
        out.append(sorted(values, key=str) if not c.numeric else sorted(values))
    return itertools.product(*out)


@pytest.mark.parametrize("maker,compute", [
    (instability.descent_explorer, instability.descent),
    (instability.contraction_explorer, instability.contraction),
])
def test_explorers_at_every_grid_point_and_live_corner(maker, compute):
    ex = maker()
    names = [c.name for c in ex.controls]
    n_traces = len(ex.render().data)
    for combo in _corners(ex.controls):
        fig = ex.figure(compute(**dict(zip(names, combo))))
        assert len(fig.data) == n_traces
        for trace in fig.data:
            for key in ("x", "y"):
                values = getattr(trace, key)
                if values is not None:
                    arr = np.array([np.nan if v is None else v for v in values], dtype=float)
                    assert not np.any(np.isinf(arr))
    fig = ex.static_figure()
    assert len(fig.frames) == np.prod([len(c.values) for c in ex.controls])


def test_contraction_data_is_finite_at_live_corners():
    for norm, scale in itertools.product((0.1, 5.0), (0.0, 20.0)):
        d = instability.contraction(norm, scale)
        assert np.all(np.isfinite(d.factors)) and np.all(np.isfinite(d.distance)) and np.isfinite(d.mean_rate)


def test_bad_arguments_raise_value_errors():
    with pytest.raises(ValueError, match="a0"):
        instability.descent(1.5)
    with pytest.raises(ValueError, match="remedy"):
        instability.descent(1.0, "momentum")
    with pytest.raises(ValueError, match="norm"):
        instability.contraction(0.0, 1.0)
    with pytest.raises(ValueError, match="input_scale"):
        instability.contraction(1.0, -1.0)
    with pytest.raises(ValueError, match="clip"):
        lesson.scalar_gradient_descent(0.5, np.ones(3), np.ones(3), clip=0.0)
    with pytest.raises(ValueError, match="y"):
        lesson.scalar_loss_and_grad(0.5, np.ones(3), np.ones(4))
