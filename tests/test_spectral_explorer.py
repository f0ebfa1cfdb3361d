"""Chapter 1's spectral-radius explorer: correct numbers at every corner, no NaN, clear errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from stablernn import linalg
from stablernn.explorers import spectral


def corners():
    ranges = []
    for c in spectral.CONTROLS:
        lo, hi = c.live if c.live else (min(c.values), max(c.values))
        ranges.append(sorted({lo, hi, min(c.values), max(c.values)}))
    return list(itertools.product(*ranges))


@pytest.mark.parametrize("radius, nonnormality, horizon", corners())
def test_compute_is_finite_at_every_corner(radius, nonnormality, horizon):
    d = spectral.compute(radius, nonnormality, int(horizon))
    for name, value in vars(d).items():
        if isinstance(value, np.ndarray):
            assert np.all(np.isfinite(value)), f"{name} is not finite at {radius, nonnormality, horizon}"
    assert d.power_norms.shape == (int(horizon) + 1,)
    spectral.spectral_figure(d)  # builds


@settings(max_examples=40, deadline=None, derandomize=True)
@given(radius=st.floats(0.05, 1.5), nonnormality=st.floats(0, 3))
def test_numbers_shown_are_the_matrix_numbers(radius, nonnormality):
    d = spectral.compute(radius, nonnormality, 20)
    W = spectral.recurrent_matrix(radius, nonnormality)
    assert d.spectral_norm == pytest.approx(linalg.spectral_norm(W))
    assert d.spectral_norm >= radius - 1e-9  # the spectral radius never exceeds the spectral norm
    assert d.contractive == (d.spectral_norm < 1)
    # ||W^k||_2^(1/k) tends to the spectral radius (Gelfand), and the first power is the norm
    assert d.power_norms[1] == pytest.approx(d.spectral_norm)


def test_normal_matrix_has_norm_equal_to_radius_and_geometric_powers():
    d = spectral.compute(0.9, 0.0, 40)
    assert d.spectral_norm == pytest.approx(0.9)
    assert d.power_norms == pytest.approx(0.9 ** np.arange(41))


def test_contractive_tanh_rnn_brings_trajectories_together_every_step():
    d = spectral.compute(0.8, 0.2, 60)
    assert d.contractive
    ratio = d.tanh_distance[1:] / d.tanh_distance[:-1]
    assert np.all(ratio <= d.spectral_norm + 1e-12)


def test_nonnormal_matrix_with_radius_below_one_amplifies_before_it_decays():
    d = spectral.compute(0.9, 2.0, 200)
    assert not d.contractive and d.power_norms.max() > 1 and d.power_norms[-1] < 1


@pytest.mark.parametrize("kwargs, name", [({"radius": -0.1}, "radius"), ({"radius": float("nan")}, "radius"),
                                          ({"nonnormality": 5.0}, "nonnormality"), ({"horizon": 2}, "horizon"),
                                          ({"horizon": 10.5}, "horizon"), ({"radius": "big"}, "radius")])
def test_bad_input_is_rejected_with_the_argument_named(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=name):
        spectral.compute(**kwargs)


def test_static_face_has_a_frame_per_grid_point():
    fig = spectral.explorer().static_figure()
    sliders = [c for c in spectral.CONTROLS if len(c.values) > 1]
    assert len(fig.frames) == np.prod([len(c.values) for c in sliders])
    assert len(fig.layout.sliders) == len(sliders)
