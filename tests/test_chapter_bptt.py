"""Chapter 2 (stablernn.chapters.bptt): the gradient-size and recall-window explorers (grid corners,
figures, the chapter's claims), which inputs truncated BPTT's gradient reaches, its memory, delayed
recall learned only with a long enough window, and the chapter's worked numbers."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import check_sections, control_corners
from stablernn.chapters import bptt as chapter
from stablernn.data.tasks import RECALL_CHANCE
from stablernn.presentation import explorers


# ------------------------------------------------------------------ gradient-connectivity explorer


@pytest.mark.parametrize("radius,nonnormality,length",
                         list(itertools.product(*(control_corners(c) for c in explorers.gradients().controls))))
def test_gradients_compute_is_finite_at_every_corner(radius, nonnormality, length):
    d = chapter.gradient_sizes(radius, nonnormality, int(length))
    for arr in (d.rnn, d.linear, d.norm_rate, d.radius_rate):
        assert arr.shape == (int(length),)
        assert np.all(np.isfinite(arr))
    assert d.rnn[0] == pytest.approx(1.0) and d.linear[0] == pytest.approx(1.0)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(radius=st.floats(0.0, 1.5), nonnormality=st.floats(0.0, 3.0), seed=st.integers(0, 50))
def test_gradient_sizes_never_exceed_the_spectral_norm_rate(radius, nonnormality, seed):
    """Proposition prop-gradient-bound: ||dh_T/dh_{T-l}||_2 <= ||W||_2^l (tanh RNN and linear system)."""
    d = chapter.gradient_sizes(radius, nonnormality, 40, seed=seed)
    bound = d.norm_rate * (1 + 1e-9) + 1e-300
    assert np.all(d.rnn <= bound)
    assert np.all(d.linear <= bound)


def test_linear_gradient_of_a_normal_matrix_follows_the_spectral_radius():
    """With non-normality 0 the spectral norm equals the spectral radius and ||W^l||_2 = rho^l."""
    d = chapter.gradient_sizes(0.9, 0.0, 40)
    np.testing.assert_allclose(d.linear, d.radius_rate, rtol=1e-8)
    assert d.spectral_norm == pytest.approx(0.9)


def test_nonnormal_matrix_amplifies_before_decaying():
    d = chapter.gradient_sizes(0.9, 2.0, 200)
    assert d.spectral_norm > 1 and d.linear.max() > 1 and d.linear[-1] < 1


def test_gradients_static_figure_has_one_frame_per_grid_point():
    fig = explorers.gradients().static_figure()
    assert len(fig.frames) == 5 * 3 * 2
    assert len(fig.layout.sliders) == 3


@pytest.mark.parametrize("kwargs,name", [({"radius": 2.0}, "radius"), ({"nonnormality": -1.0}, "nonnormality"),
                                         ({"length": 2}, "length")])
def test_gradients_compute_rejects_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        chapter.gradient_sizes(**kwargs)


# --------------------------------------------------------------------------- recall-window explorer


def _grid():
    loss = np.array([[0.001, 0.9], [0.0005, 0.002]])
    return chapter.RecallGrid((2, 3), (1, 2), loss)


def test_recall_window_picks_the_row_of_k():
    grid = _grid()
    for k in grid.ks:
        d = chapter.recall_window(k, grid)
        np.testing.assert_array_equal(d.loss, grid.loss[grid.ks.index(k)])
        np.testing.assert_array_equal(d.learned, d.loss < grid.threshold)
        assert np.all(np.isfinite(d.loss))
    fig = explorers.recall_window(grid).static_figure()
    assert len(fig.frames) == 2 and len(fig.layout.sliders) == 1


def test_recall_window_rejects_unknown_k_and_other_grids():
    with pytest.raises(ValueError, match="k"):
        chapter.recall_window(7, _grid())
    with pytest.raises(TypeError, match="grid"):
        chapter.recall_window(2, {"ks": (2,)})


# ------------------------------------------------------------------------ truncated-BPTT helpers


@pytest.mark.parametrize("T,k", [(12, 4), (10, 3), (7, 1), (9, None)])
def test_gradient_reach_stops_at_the_window_start(T, k):
    """The gradient of y_t reaches x_s exactly for s in t's window; the forward pass sees all s <= t."""
    reach = chapter.gradient_reach(T, k)
    width = T if k is None else k
    for t in range(T):
        for s in range(T):
            expected = 0 if s > t else (2 if s >= (t // width) * width else 1)
            assert reach[t, s] == expected


def test_tbptt_memory_grows_linearly_in_k():
    """Chapter 2: the same number of bytes per extra step of window, plus a constant (the weights) > 0."""
    ks = [2, 3, 4, 8, 16]
    saved = chapter.tbptt_memory(ks, T=16, hidden=16, batch=8)
    per_step = (saved[1:] - saved[0]) / (np.array(ks[1:]) - ks[0])
    np.testing.assert_allclose(per_step, per_step[0], rtol=1e-12)
    assert per_step[0] > 0 and saved[0] - ks[0] * per_step[0] > 0
    assert chapter.tbptt_memory([1], T=16, hidden=16, batch=8)[0] < saved[0]


def test_truncated_bptt_learns_a_lag_only_when_the_window_is_longer():
    """Chapter 2: with k > L the lag is learned (loss < 10% of chance), with k = L it is not."""
    learned = chapter.recall_loss(4, 3, seed=0)
    not_learned = chapter.recall_loss(3, 3, seed=0)
    assert learned < chapter.LEARNED_FRACTION * RECALL_CHANCE
    assert not_learned > 0.5 * RECALL_CHANCE


def test_bptt_helpers_reject_bad_arguments():
    with pytest.raises(ValueError, match="k"):
        chapter.gradient_reach(8, 0)
    with pytest.raises(TypeError, match="ks"):
        chapter.tbptt_memory(3)
    with pytest.raises(ValueError, match=r"ks\[1\]"):
        chapter.recall_grid((2, 0), (1,), progress=False)
    with pytest.raises(TypeError, match="model"):
        chapter.saved_tensor_bytes(object(), None, 2)


# -- the chapter's worked numbers ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_recall_grid():
    """A 2 x 2 corner of the chapter's grid (k = 2, 3 against lags 1, 2), trained as the chapter trains it."""
    return chapter.recall_grid((2, 3), (1, 2), seed=0, progress=False)


def test_recall_summary_counts_the_grid(small_recall_grid):
    values = chapter.recall_summary(small_recall_grid).values
    assert values["grid_runs"] == 4 and values["grid_long_total"] == 3 and values["grid_short_total"] == 1
    assert values["grid_long_learned"] == 3  # k > L: every lag learned
    assert values["grid_short_learned"] == 0  # k = L = 2: not learned
    # the summary says which grid was measured: the claim "k > L learns, k <= L does not" is about it
    assert values["grid_ks"] == "2, 3" and values["grid_lags"] == "1, 2"
    assert values["grid_seed"] == 0 and values["grid_epochs"] == chapter.RECALL_EPOCHS == 12


def test_recall_grid_records_its_seed_and_epochs():
    grid = chapter.recall_grid((2,), (1,), seed=3, epochs=1, progress=False)
    assert grid.seed == 3 and grid.epochs == 1


def test_truncation_windows_reach_back_to_the_window_start():
    values = chapter.truncation_windows(T=12, k=4).values
    assert values == {"reach_T": 12, "reach_k": 4, "reach_maxlag": 3}


def test_sections_give_every_value_the_chapter_glues(small_recall_grid):
    check_sections("bptt", {
        "vanishing_and_exploding": lambda: chapter.vanishing_and_exploding(horizon=40),
        "truncation_windows": lambda: chapter.truncation_windows(T=12, k=4),
        "window_memory": lambda: chapter.window_memory(ks=(2, 4, 8, 16, 32, 64)),
        "recall_summary": lambda: chapter.recall_summary(small_recall_grid),
    })
