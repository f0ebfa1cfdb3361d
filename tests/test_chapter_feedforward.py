"""Chapter 3 (stablernn.chapters.feedforward): the receptive-field explorer (the formula against the
impulse response of a real DilatedConvStack at every corner), the TCN / RNN / LSTM comparison on
delayed recall, and the chapter's worked numbers."""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import check_sections, control_corners
from reference import WAVENET_RECEPTIVE_FIELD
from stablernn import models
from stablernn.chapters import feedforward as chapter
from stablernn.data.tasks import RECALL_CHANCE
from stablernn.presentation import explorers

CONTROLS = explorers.receptive_field().controls


# --------------------------------------------------------------------- receptive-field explorer


@pytest.mark.parametrize("layers,kernel_size,schedule",
                         list(itertools.product(control_corners(CONTROLS[0]), control_corners(CONTROLS[1]),
                                                models.DILATION_SCHEDULES)))
def test_receptive_field_compute_at_every_corner(layers, kernel_size, schedule):
    d = chapter.receptive(int(layers), int(kernel_size), schedule)
    assert d.formula == d.measured
    assert np.all(np.isfinite(d.response)) and d.response.max() == pytest.approx(1.0)
    assert d.cone[0] == list(range(-(d.formula - 1), 1))  # the cone's inputs are exactly the field


@settings(max_examples=30, deadline=None, derandomize=True)
@given(layers=st.integers(1, 6), kernel_size=st.integers(1, 4), schedule=st.sampled_from(models.DILATION_SCHEDULES),
       seed=st.integers(0, 1000))
def test_impulse_response_spans_exactly_the_formula(layers, kernel_size, schedule, seed):
    """R = 1 + sum (K - 1) d_l equals the span of a real DilatedConvStack's impulse response."""
    d = chapter.receptive(layers, kernel_size, schedule, seed=seed)
    nonzero = np.flatnonzero(d.response > 0)
    assert d.measured == d.formula
    assert nonzero.size == d.formula  # every input in the field responds, none outside it


def test_receptive_field_static_figure_has_one_frame_per_grid_point():
    fig = explorers.receptive_field().static_figure()
    assert len(fig.frames) == 5 * 2 * 3 and len(fig.layout.sliders) == 3


@pytest.mark.parametrize("kwargs,name", [({"layers": 0}, "layers"), ({"kernel_size": 9}, "kernel_size"),
                                         ({"schedule": "tripling"}, "schedule")])
def test_receptive_field_rejects_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        chapter.receptive(**kwargs)


# ---------------------------------------------------------------- TCN, tanh RNN and LSTM compared


def test_tcn_rnn_and_lstm_all_solve_delayed_recall():
    """Chapter 3: on lag-4 recall every model ends far below the chance level 1."""
    cmp = chapter.compare_models(lag=4, long_T=16, progress=False)
    assert cmp.chance == RECALL_CHANCE and cmp.lag == 4 and cmp.long_T == 16
    for name in models.MODEL_NAMES:
        assert cmp.test_loss[name] < 0.1 * cmp.chance
        assert cmp.step_ms[name] > 0 and cmp.long_step_ms[name] > 0
        assert cmp.parameters[name] == models.count_parameters(models.make_model(name, 16))


def test_step_seconds_trains_the_model_it_times_and_validates():
    model = models.make_model("RNN", 4)
    x = torch.randn(2, 5, 1)
    before = [p.detach().clone() for p in model.parameters()]
    assert chapter.step_seconds(model, x, x, repeats=2) > 0
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))  # Adam steps were taken
    with pytest.raises(ValueError, match="repeats"):
        chapter.step_seconds(model, x, x, repeats=0)


# -- the chapter's worked numbers ---------------------------------------------------------------------


def test_receptive_fields_of_wavenet_and_of_the_plain_stack():
    # ten undilated layers of kernel 2: R = 1 + 10 (2 - 1) = 11
    assert chapter.receptive_fields().values == {"wavenet_R": WAVENET_RECEPTIVE_FIELD, "plain_R": 11}


def test_sections_give_every_value_the_chapter_glues():
    values = check_sections("feedforward", {
        "receptive_fields": lambda: chapter.receptive_fields(),
        "model_comparison": lambda: chapter.model_comparison(lag=4),
    })
    assert values["tcn_R"] == models.tcn_receptive_field(models.TCN_KERNEL, models.TCN_LEVELS)
    assert values["speed_word"] in ("slower", "faster") and values["speed_rec"] in ("RNN", "LSTM")
    # §3.4 says the comparison is matched in width, not in size, and quotes the sizes
    sizes = {name: models.count_parameters(models.make_model(name, 16)) for name in models.MODEL_NAMES}
    assert {name: values[f"params_{name}"] for name in models.MODEL_NAMES} == sizes
    assert len(set(sizes.values())) == 3 and sizes["TCN"] > 2 * sizes["LSTM"] > 2 * sizes["RNN"]


@pytest.mark.parametrize("kernel_size", [2, 3])
def test_a_layer_adds_its_reach_it_does_not_multiply_it(kernel_size):
    """§3.2: each layer adds (K - 1) d to the receptive field; depth gives exponential reach only through
    doubling dilations (R = 2^n for K = 2), while equal dilations give linear reach."""
    for schedule in ("none", "doubling", "1,2,1,2"):
        for n in range(1, 6):
            d = list(models.dilation_schedule(schedule, n))
            R = models.receptive_field([kernel_size] * n, d)
            assert R == 1 + sum((kernel_size - 1) * di for di in d)
            if n > 1:
                assert R - models.receptive_field([kernel_size] * (n - 1), d[:-1]) == (kernel_size - 1) * d[-1]
    assert [models.receptive_field([2] * n, list(models.dilation_schedule("doubling", n))) for n in (1, 5, 10)] == [2, 32, 1024]
    assert [models.receptive_field([2] * n, [1] * n) for n in (1, 5, 10)] == [2, 6, 11]
