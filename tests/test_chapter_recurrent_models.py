"""Chapter 1 (stablernn.chapters.recurrent_models): the spectral-radius explorer (correct numbers at
every corner, no NaN, clear errors) and the chapter's worked numbers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from conftest import check_sections
from reference import NONNORMAL_FIRST_BELOW_ONE, NONNORMAL_NORM, NONNORMAL_PEAK, NONNORMAL_PEAK_K
from stablernn import linalg
from stablernn.chapters import recurrent_models as chapter
from stablernn.figures.recurrent_models import spectral_figure
from stablernn.presentation import explorers

CONTROLS = explorers.spectral().controls


def corners():
    ranges = []
    for c in CONTROLS:
        lo, hi = c.live if c.live else (min(c.values), max(c.values))
        ranges.append(sorted({lo, hi, min(c.values), max(c.values)}))
    return list(itertools.product(*ranges))


@pytest.mark.parametrize("radius, nonnormality, horizon", corners())
def test_compute_is_finite_at_every_corner(radius, nonnormality, horizon):
    d = chapter.spectral(radius, nonnormality, int(horizon))
    for name, value in vars(d).items():
        if isinstance(value, np.ndarray):
            assert np.all(np.isfinite(value)), f"{name} is not finite at {radius, nonnormality, horizon}"
    assert d.power_norms.shape == (int(horizon) + 1,)
    spectral_figure(d)  # builds


@settings(max_examples=40, deadline=None, derandomize=True)
@given(radius=st.floats(0.05, 1.5), nonnormality=st.floats(0, 3))
def test_numbers_shown_are_the_matrix_numbers(radius, nonnormality):
    d = chapter.spectral(radius, nonnormality, 20)
    W = chapter.recurrent_matrix(radius, nonnormality)
    assert d.spectral_norm == pytest.approx(linalg.spectral_norm(W))
    assert d.spectral_norm >= radius - 1e-9  # the spectral radius never exceeds the spectral norm
    assert d.contractive == (d.spectral_norm < 1)
    # ||W^k||_2^(1/k) tends to the spectral radius (Gelfand), and the first power is the norm
    assert d.power_norms[1] == pytest.approx(d.spectral_norm)


def test_normal_matrix_has_norm_equal_to_radius_and_geometric_powers():
    d = chapter.spectral(0.9, 0.0, 40)
    assert d.spectral_norm == pytest.approx(0.9)
    assert d.power_norms == pytest.approx(0.9 ** np.arange(41))


def test_contractive_tanh_rnn_brings_trajectories_together_every_step():
    d = chapter.spectral(0.8, 0.2, 60)
    assert d.contractive
    ratio = d.tanh_distance[1:] / d.tanh_distance[:-1]
    assert np.all(ratio <= d.spectral_norm + 1e-12)


def test_nonnormal_matrix_with_radius_below_one_amplifies_before_it_decays():
    d = chapter.spectral(0.9, 2.0, 200)
    assert not d.contractive and d.power_norms.max() > 1 and d.power_norms[-1] < 1


@pytest.mark.parametrize("kwargs, name", [({"radius": -0.1}, "radius"), ({"radius": float("nan")}, "radius"),
                                          ({"nonnormality": 5.0}, "nonnormality"), ({"horizon": 2}, "horizon"),
                                          ({"horizon": 10.5}, "horizon"), ({"radius": "big"}, "radius")])
def test_bad_input_is_rejected_with_the_argument_named(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=name):
        chapter.spectral(**kwargs)


def test_static_face_has_a_frame_per_grid_point():
    fig = explorers.spectral().static_figure()
    sliders = [c for c in CONTROLS if len(c.values) > 1]
    assert len(fig.frames) == np.prod([len(c.values) for c in sliders])
    assert len(fig.layout.sliders) == len(sliders)


# -- the chapter's worked numbers ---------------------------------------------------------------------


def test_nonnormal_example_numbers_of_the_chapter():
    """§1: A = [[0.9, 1], [0, 0.9]] has spectral radius 0.9, ||A||_2 = 1.530; ||A^k||_2 peaks at 3.91
    at k = 9 and first falls below one at k = 35."""
    section = chapter.nonnormal_example()
    assert section.values == {"ex_radius": "0.9", "ex_norm": f"{NONNORMAL_NORM:.3f}", "ex_peak": f"{NONNORMAL_PEAK:.2f}",
                              "ex_kpeak": NONNORMAL_PEAK_K, "ex_kbelow": NONNORMAL_FIRST_BELOW_ONE}
    np.testing.assert_array_equal(section.shown, linalg.nonnormal_example(0.9, 1.0))


def test_nonnormality_table_keeps_the_radius_while_the_norm_grows_past_one():
    rows = [line.split("|") for line in chapter.nonnormality_table().table.splitlines()[1:]]
    radius = [float(r[1]) for r in rows]
    norm = [float(r[2]) for r in rows]
    assert radius == pytest.approx([0.9] * 4, abs=1e-3)
    assert np.all(np.diff(norm) > 0) and norm[0] == pytest.approx(0.9, abs=1e-3) and norm[-1] > 1
    assert [r[3].strip() for r in rows] == ["yes" if n < 1 else "no" for n in norm]


def test_sections_give_every_value_the_chapter_glues():
    check_sections("recurrent_models", {
        "nonnormal_example": lambda: chapter.nonnormal_example(),
        "nonnormality_table": lambda: chapter.nonnormality_table(),
    })


def test_spectral_norm_below_one_is_sufficient_not_necessary_for_contraction():
    """§1.5 and the last exercise: W = (0 2; 0.1 0) has ||W||_2 = 2, yet with D = diag(1, sqrt 20) the tanh RNN
    contracts by ||D W D^-1||_2 = 1/sqrt 5 in the norm ||D h||_2, for any states and inputs."""
    from stablernn import dynamics
    W = np.array([[0.0, 2.0], [0.1, 0.0]])
    D = np.diag([1.0, np.sqrt(20.0)])
    assert np.isclose(linalg.spectral_norm(W), 2.0)
    lam = linalg.spectral_norm(D @ W @ np.linalg.inv(D))
    assert np.isclose(lam, 1 / np.sqrt(5)) and lam < 1
    rng = np.random.default_rng(0)
    U = rng.standard_normal((2, 3))
    x = 3 * rng.standard_normal((200, 30, 3))
    h0 = rng.uniform(-1, 1, (200, 2)), rng.uniform(-1, 1, (200, 2))
    a, b = (dynamics.rnn_trajectory(W, U, x, h0=h) for h in h0)  # (batch, T + 1, 2), h_0 first
    dist = np.linalg.norm((a - b) @ D, axis=-1)  # D is diagonal: ||D h|| for each state row
    assert np.all(dist[:, 1:] <= lam * dist[:, :-1] + 1e-12)
    assert np.all(dist[:, -1] < 1e-8)  # the trajectories forget where they started
