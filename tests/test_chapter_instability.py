"""Chapter 7 (stablernn.chapters.instability): gradient descent on the unstable scalar model with and
without clipping or projection, data-dependent stability, their explorers, and the chapter's worked
numbers. The scalar model's states and derivatives are tested with stablernn.dynamics."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import check_sections
from stablernn.chapters import instability as chapter
from stablernn.dynamics import scalar_task, scalar_truncation_error
from stablernn.presentation import explorers

FAST = settings(max_examples=40, deadline=None, derandomize=True)


# ------------------------------------------------------------------ gradient descent and its remedies


def test_plain_descent_from_the_unstable_region_diverges():
    """§7.2: from a0 = 1.1 plain gradient descent overflows within two steps."""
    d = chapter.descent(1.1, "none")
    assert d.diverged_at == 2 and not d.converged
    assert d.grads[0] > 1e3


def test_clipping_converges_from_1_1_but_is_caught_in_a_ravine_from_1_2():
    """§7.2: clipped descent reaches a* from 1.1; from 1.2 it jumps between 1.15 and 1.16 with |dL/da| ~ 10^3."""
    ok = chapter.descent(1.1, "clipping")
    assert ok.converged and ok.iterates[-1] == pytest.approx(chapter.A_STAR, abs=1e-3)
    stuck = chapter.descent(1.2, "clipping")
    assert not stuck.converged and stuck.diverged_at is None
    assert np.all(stuck.iterates[-10:] > 1.0)  # an unstable model
    assert np.max(stuck.grads[-2:]) > 1e3  # not a stationary point
    x, _ = scalar_task(chapter.A_STAR, chapter.T_SCALAR, seed=0)
    assert scalar_truncation_error(stuck.iterates[-1], x, 10) > 10 * scalar_truncation_error(chapter.A_STAR, x, 10)


@pytest.mark.parametrize("a0", [0.5, 0.9, 1.0, 1.05, 1.1, 1.2])
def test_projection_always_converges_to_the_teacher(a0):
    d = chapter.descent(a0, "projection")
    assert d.converged and d.iterates[-1] == pytest.approx(chapter.A_STAR, abs=1e-3)
    assert np.all(np.abs(d.iterates) <= chapter.BOUND)


def test_scalar_gradient_descent_clips_and_projects():
    x, y = scalar_task(0.8, 40, seed=0)
    clipped = chapter.scalar_gradient_descent(0.5, x, y, lr=0.1, steps=3, clip=0.01)
    assert np.all(np.abs(np.diff(clipped.a)) <= 0.1 * 0.01 + 1e-15)
    projected = chapter.scalar_gradient_descent(0.95, x, y, lr=0.5, steps=20, bound=0.9)
    assert np.all(np.abs(projected.a) <= 0.95) and np.all(np.abs(projected.a[1:]) <= 0.9)


# ------------------------------------------------------------------ data-dependent stability


def test_contraction_claims_of_the_chapter():
    """§7.3: ||W||_2 = 2 with sigma = 8 contracts at most steps and on average; with sigma = 0 never."""
    d = chapter.contraction(2.0, 8.0)
    assert d.fraction_below > 0.5 and d.mean_rate < 1
    assert np.min(d.distance) < 1e-12
    z = chapter.contraction(2.0, 0.0)
    assert z.fraction_below == 0.0 and np.allclose(z.factors, 2.0)
    assert z.distance[-1] > 0.1
    assert chapter.contraction(0.9, 0.0).fraction_below == 1.0


@FAST
@given(st.floats(0.1, 0.99), st.floats(0.0, 20.0))
def test_provably_stable_weights_contract_at_every_step(norm, scale):
    assert np.all(chapter.contraction(norm, scale).factors <= norm + 1e-12)


def _corners(controls):
    out = []
    for c in controls:
        values = set(c.values)
        if c.live is not None:
            values |= set(c.live)
        out.append(sorted(values, key=str) if not c.numeric else sorted(values))
    return itertools.product(*out)


@pytest.mark.parametrize("maker,compute", [
    (explorers.descent, chapter.descent),
    (explorers.contraction, chapter.contraction),
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
        d = chapter.contraction(norm, scale)
        assert np.all(np.isfinite(d.factors)) and np.all(np.isfinite(d.distance)) and np.isfinite(d.mean_rate)


def test_bad_arguments_raise_value_errors():
    with pytest.raises(ValueError, match="a0"):
        chapter.descent(1.5)
    with pytest.raises(ValueError, match="remedy"):
        chapter.descent(1.0, "momentum")
    with pytest.raises(ValueError, match="norm"):
        chapter.contraction(0.0, 1.0)
    with pytest.raises(ValueError, match="input_scale"):
        chapter.contraction(1.0, -1.0)
    with pytest.raises(ValueError, match="clip"):
        chapter.scalar_gradient_descent(0.5, np.ones(3), np.ones(3), clip=0.0)
    with pytest.raises(ValueError, match="bound"):
        chapter.scalar_gradient_descent(0.5, np.ones(3), np.ones(3), bound=1.5)
    with pytest.raises(ValueError, match="y"):
        chapter.scalar_gradient_descent(0.5, np.ones(3), np.ones(4))


# -- the chapter's worked numbers ---------------------------------------------------------------------


def test_sections_give_every_value_the_chapter_glues():
    values = check_sections("instability", {
        "gradient_growth": lambda: chapter.gradient_growth(a=1.1, horizon=80),
        "descent_runs": lambda: chapter.descent_runs(),
        "contraction_cases": lambda: chapter.contraction_cases(),
        "step_size_runs": lambda: chapter.step_size_runs(),
        "clipping_exercise": lambda: clipping_section(),
    })
    assert values["plain_div"] == 2 and values["steps"] == chapter.STEPS
    assert values["clip_final"] == values["proj_final"] == f"{chapter.A_STAR:.3f}"
    assert values["frac_2_0"] == "0" and values["frac_09_0"] == "100"


# -- why no fixed step size works ---------------------------------------------------------------------


def test_scalar_curvature_is_the_derivative_of_the_gradient():
    x, y = scalar_task(chapter.A_STAR, 40, seed=0)
    from stablernn.dynamics import scalar_loss_and_grad
    for a in (0.5, 0.8, 1.05, 1.16, 1.2):
        eps = 1e-6 * max(1.0, abs(a))
        fd = (scalar_loss_and_grad(a + eps, x, y)[1] - scalar_loss_and_grad(a - eps, x, y)[1]) / (2 * eps)
        assert chapter.scalar_curvature(a, x, y) == pytest.approx(fd, rel=1e-4)


def test_curvature_grows_like_T_a_to_the_2T_in_the_unstable_region_and_stays_bounded_in_the_stable_one():
    """Eq. (eq-scalar-curvature): for a > 1, L''(a) / (4 C^2 T a^(2T) / (a^2 - 1)) -> 1 as T grows, so the
    smoothness constant grows like T a^(2T) (L'' / (T^2 a^(2T)) falls like 1/T); at a = 0.8 it stays bounded."""
    for a in (1.1, 1.2):
        ratios, per_T2 = [], []
        for T in (160, 320, 640):
            x, y = scalar_task(chapter.A_STAR, T, seed=0)
            curv = chapter.scalar_curvature(a, x, y)
            ratios.append(curv / chapter.curvature_prediction(a, x))
            per_T2.append(curv / (T**2 * a ** (2 * T)))
        assert all(0.6 < r < 1.4 for r in ratios) and abs(ratios[-1] - 1) < abs(ratios[0] - 1)
        assert per_T2[0] > 1.5 * per_T2[1] > 2.25 * per_T2[2]
    stable = [abs(chapter.scalar_curvature(0.8, *scalar_task(chapter.A_STAR, T, seed=0))) for T in (40, 200, 1000)]
    assert max(stable) < 200


def test_no_fixed_step_settles_but_decaying_steps_reach_the_ravine_minimum():
    """§7.2: from a = 1.2 the clipped constant step 0.01 keeps bouncing; steps 0.01/i reach a stationary point,
    the ravine's local minimum, where only a fixed step below 2/L'' would settle, and that minimum is an
    unstable model with a loss far above the teacher's 0."""
    d = chapter.step_sizes()
    x, y = scalar_task(chapter.A_STAR, chapter.T_SCALAR, seed=0)
    assert np.nanmin(d.grad_fixed[-10:]) > 1.0
    assert abs(d.run_decay.grad[-1]) < 1e-6 and d.run_decay.diverged_at is None
    a_min = d.run_decay.a[-1]
    assert 1.0 < a_min < 1.2 and d.run_decay.loss[-1] > 1.0
    curv = chapter.scalar_curvature(a_min, x, y)
    assert curv > 1e5 and chapter.LR * curv > 2  # the constant step is too long for this minimum
    small = chapter.scalar_gradient_descent(a_min + 0.003, x, y, lr=0.5 / curv, steps=200)  # below 2/L'': settles
    assert small.diverged_at is None and small.a[-1] == pytest.approx(a_min, abs=1e-6)
    assert 2 / chapter.scalar_curvature(chapter.A_STAR, x, y) > 1000 * (2 / curv)  # valley step >> ravine step
    values = chapter.step_size_runs().values
    assert values["dec_a"] == f"{a_min:.3f}" and values["step_max"] == f"{2 / curv:.1e}"
    assert len(d.steps) == len(d.grad_fixed) == len(d.grad_decay) and d.steps[-1] == chapter.DECAY_STEPS


def test_decay_schedule_of_scalar_descent():
    x, y = scalar_task(chapter.A_STAR, 10, seed=0)
    run = chapter.scalar_gradient_descent(0.5, x, y, lr=0.01, steps=3, decay=True)
    a = 0.5
    from stablernn.dynamics import scalar_loss_and_grad
    for i in range(1, 4):
        a -= 0.01 / i * scalar_loss_and_grad(a, x, y)[1]
    assert run.a[-1] == pytest.approx(a, rel=1e-12)
    with pytest.raises(ValueError, match="decay"):
        chapter.scalar_gradient_descent(0.5, x, y, decay="yes")


_CLIPPING = {}


def clipping_section():
    if not _CLIPPING:
        _CLIPPING["section"] = chapter.clipping_exercise()
    return _CLIPPING["section"]


def test_clipping_exercise_trains_the_unstable_rnn_to_a_small_loss_without_certifying_it():
    """Exercise 'Clipping a whole model', as its solution says: unclipped SGD blows up; clipped SGD fits the
    stable teacher (small training and test loss) with ||W||_2 still above 1 and no one-step contraction,
    yet its k-truncations converge to it."""
    v = clipping_section().values
    assert float(v["ce_loss_none"]) > 1e3 and isinstance(v["ce_blow"], int)
    assert float(v["ce_loss_clip"]) < 1e-3 and float(v["ce_test_clip"]) < 1e-3
    assert float(v["ce_norm_clip"]) > 1.0
    assert float(v["ce_frac_below"]) < 50
    assert float(v["ce_trunc20"]) < 0.1 * float(v["ce_trunc5"]) and float(v["ce_trunc20"]) < 1e-2 * float(v["ce_out_scale"])
