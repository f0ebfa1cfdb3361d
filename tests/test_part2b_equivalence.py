"""Tests of Chapter 6: recurrent vs truncated training, the weight-gap recursion and its explorer."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from stablernn.explorers import equivalence
from stablernn.lessons import part2b_equivalence as lesson

FAST = settings(max_examples=30, deadline=None, derandomize=True)
SMALL = lesson.EquivalenceSetup(hidden=6, teacher_hidden=4, steps_per_sequence=20, train_sequences=4,
                                test_sequences=2)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def small_grid():
    return lesson.equivalence_grid(SMALL, (1, 2, 4, 8, 16), steps=20)


@pytest.fixture(scope="module")
def chapter_grid():
    """The chapter's setup and k values, with fewer steps (the claims hold from the first steps on)."""
    return lesson.equivalence_grid(lesson.EquivalenceSetup(), (1, 2, 4, 8, 16, 32), steps=60)


# ------------------------------------------------------------------ the experiment's claims


def test_gaps_decrease_with_k_for_a_stable_teacher(chapter_grid):
    """Chapter 6, §6.3: the weight and prediction gaps after N steps fall with k, for both schedules,
    geometrically and faster than the bound's rate lam^k."""
    g = chapter_grid
    for s in range(2):
        assert np.all(np.diff(g.weight_gap[s, :, -1]) < 0)
        assert np.all(np.diff(g.pred_gap[s, :, -1]) < 0)
        rate = math.exp(np.polyfit(g.k_values, np.log(g.weight_gap[s, :, -1]), 1)[0])
        assert rate < g.setup.lam


def test_decaying_schedule_freezes_the_gap_and_constant_step_lets_it_grow(chapter_grid):
    """§6.3: with alpha/i the k = 1 gap barely changes after step 10; with a constant step it grows."""
    i10 = int(np.flatnonzero(chapter_grid.logged >= 10)[0])
    dec, const = chapter_grid.weight_gap[0, 0], chapter_grid.weight_gap[1, 0]
    assert abs(dec[-1] / dec[i10] - 1) < 0.05
    assert const[-1] > 1.2 * const[i10]


def test_both_runs_start_from_the_same_weights_and_agree_when_k_covers_the_sequence():
    grid = lesson.equivalence_grid(SMALL, (SMALL.steps_per_sequence,), steps=5)
    assert np.all(grid.weight_gap < 1e-12) and np.all(grid.pred_gap < 1e-12)


def test_students_stay_stable():
    model = lesson.student(SMALL)
    x, y, _, _ = lesson.teacher_task(SMALL)
    for i in range(1, 6):
        lesson._sgd_step(model, x, y, 3, lesson.step_size("decaying", 5.0, i))
    assert torch.linalg.matrix_norm(model.rnn.weight_hh_l0, 2) <= SMALL.lam + 1e-9


def test_gradient_gap_falls_faster_than_the_bound_rate():
    """Lemma (form): ||grad L - grad L_k|| = O(k lam^k); measured, it falls with k at least as fast as lam^k."""
    ks = (1, 2, 4, 8, 16)
    gap = lesson.gradient_gap(SMALL, ks)
    assert np.all(np.diff(gap) < 0)
    rate = math.exp(np.polyfit(ks, np.log(gap), 1)[0])
    assert rate < SMALL.lam


def test_teacher_has_the_requested_spectral_norm():
    setup = lesson.EquivalenceSetup(teacher_norm=0.7)
    x, y, xt, yt = lesson.teacher_task(setup)
    assert x.shape == (8, 40, 2) and y.shape == (8, 40, 1) and xt.shape[0] == 8
    assert torch.isfinite(y).all()


# ------------------------------------------------------------------ the recursion bound


@FAST
@given(st.sampled_from(lesson.SCHEDULES), st.floats(0.01, 2.0), st.floats(0.1, 3.0), st.floats(0.1, 3.0),
       st.integers(1, 300), st.integers(1, 30), st.floats(0.3, 0.95))
def test_bound_is_the_solution_of_the_recursion(schedule, alpha, beta, gamma, steps, k, lam):
    """Theorem 6 (proof): u_{i+1} = (1 + a_i b) u_i + a_i c from u_1 = 0 equals (c/b)(prod - 1)."""
    c, u = gamma * k * lam**k, 0.0
    for i in range(1, steps + 1):
        a_i = lesson.step_size(schedule, alpha, i)
        u = (1 + a_i * beta) * u + a_i * c
    bound = float(lesson.weight_gap_bound(k, lam, schedule, alpha, beta, gamma, steps))
    assert bound == pytest.approx(u, rel=1e-9)


@FAST
@given(st.floats(0.01, 3.0), st.floats(0.01, 3.0), st.integers(1, 10**5))
def test_decaying_product_is_below_e_to_ab_times_n_to_ab(alpha, beta, steps):
    """prod (1 + alpha beta / i) <= exp(alpha beta H_N) <= e^{alpha beta} N^{alpha beta}."""
    log_p = lesson.bound_product("decaying", alpha, beta, steps)
    ab = alpha * beta
    assert log_p <= ab * (1 + math.log(steps)) + 1e-12


def test_required_k_grows_logarithmically_with_decay_and_linearly_with_constant_steps():
    """§6.2 table: about ln(10)/ln(1/0.9) = 21.9 more steps of context per decade with alpha/i; linear otherwise."""
    kw = dict(lam=0.9, beta=1.0, gamma=1.0)
    dec = [lesson.required_k(1e-3, schedule="decaying", alpha=1.0, steps=10**e, **kw) for e in (2, 3, 4, 5)]
    const = [lesson.required_k(1e-3, schedule="constant", alpha=0.01, steps=10**e, **kw) for e in (3, 4, 5)]
    per_decade = np.diff(dec)
    assert np.all((per_decade > 20) & (per_decade < 26))
    # linear in N: the slope is ln(1 + alpha beta) / ln(1/lam) steps of context per gradient step
    slope = (const[2] - const[1]) / (10**5 - 10**4)
    assert slope == pytest.approx(math.log1p(0.01) / math.log(1 / 0.9), rel=0.02)
    assert const[2] > 8 * const[1]


@FAST
@given(st.sampled_from(lesson.SCHEDULES), st.integers(1, 10**4), st.floats(1e-6, 1e-1))
def test_required_k_is_the_smallest_k_meeting_eps(schedule, steps, eps):
    kw = dict(lam=0.8, schedule=schedule, alpha=0.05, beta=1.0, gamma=1.0, steps=steps)
    k = lesson.required_k(eps, **kw)
    assert float(lesson.weight_gap_bound(k, **kw)) <= eps
    assert k == 1 or float(lesson.weight_gap_bound(k - 1, **kw)) > eps


# ------------------------------------------------------------------ the explorer


def test_explorer_compute_at_every_grid_point_and_static_frames(small_grid):
    ex = equivalence.explorer(small_grid)
    for k in small_grid.k_values:
        d = equivalence.compute(int(k), small_grid)
        assert np.all(np.isfinite(d.weight_gap)) and np.all(np.isfinite(d.current))
        assert len(ex.figure(d).data) == 10
    fig = ex.static_figure()
    assert len(fig.frames) == len(small_grid.k_values)


@pytest.mark.parametrize("k", [1, SMALL.steps_per_sequence])
@pytest.mark.parametrize("steps", list(equivalence.LIVE_STEPS))
def test_rerun_at_the_corners_of_its_live_range(small_grid, k, steps):
    d = equivalence.rerun(k, steps, small_grid)
    assert d.steps == steps and d.logged[-1] == steps
    assert np.all(np.isfinite(d.weight_gap)) and np.all(np.isfinite(d.pred_gap))


def test_widget_has_a_run_button_that_updates_the_figure(small_grid):
    box = equivalence.explorer(small_grid).widget()
    k_in, n_in, button = box.explorer_rerun
    k_in.value, n_in.value = 2, 10
    before = list(box.explorer_figure.data[0].y)
    button.click()
    assert list(box.explorer_figure.data[0].y) != before


def test_bad_arguments_raise_value_errors(small_grid):
    with pytest.raises(ValueError, match="k"):
        equivalence.compute(3, small_grid)
    with pytest.raises(ValueError, match="steps"):
        equivalence.rerun(1, 5, small_grid)
    with pytest.raises(ValueError, match="k"):
        equivalence.rerun(SMALL.steps_per_sequence + 1, 10, small_grid)
    with pytest.raises(TypeError, match="grid"):
        equivalence.compute(1, None)
    with pytest.raises(ValueError, match="k_values"):
        lesson.equivalence_grid(SMALL, (4, 2), steps=2)
    with pytest.raises(ValueError, match="schedule"):
        lesson.step_size("cosine", 1.0, 1)
    with pytest.raises(ValueError, match="lam"):
        lesson.EquivalenceSetup(lam=1.5)
    with pytest.raises(ValueError, match="eps"):
        lesson.required_k(0.0, 0.9, "decaying", 1.0, 1.0, 1.0, 10)
