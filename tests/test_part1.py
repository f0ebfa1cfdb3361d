"""Tests of Chapters 2 and 3's explorers and lesson helpers: grid corners, figures, the chapters' claims."""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from stablernn import models
from stablernn.explorers import context, gradients, receptive_field
from stablernn.lessons import part1_bptt

torch.set_num_threads(1)


# ------------------------------------------------------------------ gradient-connectivity explorer


def _corners(control):
    lo, hi = control.live if control.live is not None else (min(control.values), max(control.values))
    return sorted({lo, hi, min(control.values), max(control.values)})


@pytest.mark.parametrize("radius,nonnormality,length",
                         list(itertools.product(*(_corners(c) for c in gradients.CONTROLS))))
def test_gradients_compute_is_finite_at_every_corner(radius, nonnormality, length):
    d = gradients.compute(radius, nonnormality, int(length))
    for arr in (d.rnn, d.linear, d.norm_rate, d.radius_rate):
        assert arr.shape == (int(length),)
        assert np.all(np.isfinite(arr))
    assert d.rnn[0] == pytest.approx(1.0) and d.linear[0] == pytest.approx(1.0)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(radius=st.floats(0.0, 1.5), nonnormality=st.floats(0.0, 3.0), seed=st.integers(0, 50))
def test_gradient_sizes_never_exceed_the_spectral_norm_rate(radius, nonnormality, seed):
    """Proposition prop-gradient-bound: ||dh_T/dh_{T-l}||_2 <= ||W||_2^l (tanh RNN and linear system)."""
    d = gradients.compute(radius, nonnormality, 40, seed=seed)
    bound = d.norm_rate * (1 + 1e-9) + 1e-300
    assert np.all(d.rnn <= bound)
    assert np.all(d.linear <= bound)


def test_linear_gradient_of_a_normal_matrix_follows_the_spectral_radius():
    """With non-normality 0 the spectral norm equals the spectral radius and ||W^l||_2 = rho^l."""
    d = gradients.compute(0.9, 0.0, 40)
    np.testing.assert_allclose(d.linear, d.radius_rate, rtol=1e-8)
    assert d.spectral_norm == pytest.approx(0.9)


def test_nonnormal_matrix_amplifies_before_decaying():
    d = gradients.compute(0.9, 2.0, 200)
    assert d.spectral_norm > 1 and d.linear.max() > 1 and d.linear[-1] < 1


def test_gradients_static_figure_has_one_frame_per_grid_point():
    fig = gradients.explorer().static_figure()
    assert len(fig.frames) == 5 * 3 * 2
    assert len(fig.layout.sliders) == 3


@pytest.mark.parametrize("kwargs,name", [({"radius": 2.0}, "radius"), ({"nonnormality": -1.0}, "nonnormality"),
                                         ({"length": 2}, "length")])
def test_gradients_compute_rejects_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        gradients.compute(**kwargs)


# --------------------------------------------------------------------------- context explorer


def _grid():
    loss = np.array([[0.001, 0.9], [0.0005, 0.002]])
    return part1_bptt.RecallGrid((2, 3), (1, 2), loss)


def test_context_compute_picks_the_row_of_k():
    grid = _grid()
    for k in grid.ks:
        d = context.compute(k, grid)
        np.testing.assert_array_equal(d.loss, grid.loss[grid.ks.index(k)])
        np.testing.assert_array_equal(d.learned, d.loss < grid.threshold)
        assert np.all(np.isfinite(d.loss))
    fig = context.explorer(grid).static_figure()
    assert len(fig.frames) == 2 and len(fig.layout.sliders) == 1


def test_context_compute_rejects_unknown_k():
    with pytest.raises(ValueError, match="k"):
        context.compute(7, _grid())


# --------------------------------------------------------------------- receptive-field explorer


@pytest.mark.parametrize("layers,kernel_size,schedule",
                         list(itertools.product(_corners(receptive_field.CONTROLS[0]),
                                                _corners(receptive_field.CONTROLS[1]), receptive_field.SCHEDULES)))
def test_receptive_field_compute_at_every_corner(layers, kernel_size, schedule):
    d = receptive_field.compute(int(layers), int(kernel_size), schedule)
    assert d.formula == d.measured
    assert np.all(np.isfinite(d.response)) and d.response.max() == pytest.approx(1.0)
    assert d.cone[0] == list(range(-(d.formula - 1), 1))  # the cone's inputs are exactly the field


@settings(max_examples=30, deadline=None, derandomize=True)
@given(layers=st.integers(1, 6), kernel_size=st.integers(1, 4), schedule=st.sampled_from(receptive_field.SCHEDULES),
       seed=st.integers(0, 1000))
def test_impulse_response_spans_exactly_the_formula(layers, kernel_size, schedule, seed):
    """R = 1 + sum (K - 1) d_l equals the span of a real DilatedConvStack's impulse response."""
    d = receptive_field.compute(layers, kernel_size, schedule, seed=seed)
    nonzero = np.flatnonzero(d.response > 0)
    assert d.measured == d.formula
    assert nonzero.size == d.formula  # every input in the field responds, none outside it


def test_dilation_schedules():
    assert receptive_field.dilation_schedule("none", 3) == (1, 1, 1)
    assert receptive_field.dilation_schedule("doubling", 4) == (1, 2, 4, 8)
    assert receptive_field.dilation_schedule("1,2,1,2", 5) == (1, 2, 1, 2, 1)


def test_wavenet_block_receptive_field():
    assert models.receptive_field([2] * 10, [2**i for i in range(10)]) == 1024


def test_receptive_field_static_figure_has_one_frame_per_grid_point():
    fig = receptive_field.explorer().static_figure()
    assert len(fig.frames) == 5 * 2 * 3 and len(fig.layout.sliders) == 3


@pytest.mark.parametrize("kwargs,name", [({"layers": 0}, "layers"), ({"kernel_size": 9}, "kernel_size"),
                                         ({"schedule": "tripling"}, "schedule")])
def test_receptive_field_rejects_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        receptive_field.compute(**kwargs)


# ------------------------------------------------------------------------ truncated-BPTT helpers


def test_recall_task_targets_are_the_inputs_lag_steps_back():
    x, y, mask = part1_bptt.recall_task(5, 12, 3, seed=0)
    assert x.shape == y.shape == (5, 12, 1) and mask.shape == (5, 12)
    torch.testing.assert_close(y[:, 3:], x[:, :-3])
    assert mask[:, :3].sum() == 0 and mask[:, 3:].min() == 1
    assert set(x.unique().tolist()) == {-1.0, 1.0}  # chance level 1: E[x^2] = 1


@pytest.mark.parametrize("T,k", [(12, 4), (10, 3), (7, 1), (9, None)])
def test_gradient_reach_stops_at_the_window_start(T, k):
    """The gradient of y_t reaches x_s exactly for s in t's window; the forward pass sees all s <= t."""
    reach = part1_bptt.gradient_reach(T, k)
    width = T if k is None else k
    for t in range(T):
        for s in range(T):
            expected = 0 if s > t else (2 if s >= (t // width) * width else 1)
            assert reach[t, s] == expected


def test_tbptt_memory_grows_linearly_in_k():
    """Chapter 2: the same number of bytes per extra step of window, plus a constant (the weights) > 0."""
    ks = [2, 3, 4, 8, 16]
    saved = part1_bptt.tbptt_memory(ks, T=16, hidden=16, batch=8)
    per_step = (saved[1:] - saved[0]) / (np.array(ks[1:]) - ks[0])
    np.testing.assert_allclose(per_step, per_step[0], rtol=1e-12)
    assert per_step[0] > 0 and saved[0] - ks[0] * per_step[0] > 0
    assert part1_bptt.tbptt_memory([1], T=16, hidden=16, batch=8)[0] < saved[0]


def test_bptt_helpers_reject_bad_arguments():
    with pytest.raises(ValueError, match="lag"):
        part1_bptt.recall_task(4, 8, 8, seed=0)
    with pytest.raises(ValueError, match="k"):
        part1_bptt.gradient_reach(8, 0)
    with pytest.raises(TypeError, match="ks"):
        part1_bptt.tbptt_memory(3)
