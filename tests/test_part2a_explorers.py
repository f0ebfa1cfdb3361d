"""Explorers of Chapters 4 and 5: the non-normal transient explorer and the truncation explorer.

Each compute runs at every corner of its static grid and of its live range without NaN or error,
the static faces have the expected frames, and the numbers the chapters state from these explorers
hold (the 2 x 2 example, the measured truncation error below the theorem's bound for lambda < 1).
"""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stablernn import dynamics, linalg
from stablernn.explorers import transient, truncation

FAST = settings(max_examples=30, deadline=None, derandomize=True)


def _finite_fields(data):
    """Every numeric field is finite (optional scalars may be None, arrays may be empty)."""
    for name, value in vars(data).items():
        if value is None or isinstance(value, (bool, str)):
            continue
        arr = np.asarray(value, dtype=float)
        assert np.all(np.isfinite(arr)), f"{name} has non-finite values"


def _corners(control):
    lo, hi = control.live if control.live is not None else (min(control.values), max(control.values))
    return sorted({min(control.values), max(control.values), lo, hi})


# -------------------------------------------------------------------------- transient (Ch. 4)


@pytest.mark.parametrize("params", [dict(zip(("radius", "coupling", "horizon"), combo)) for combo in
                                    itertools.product(*(_corners(c) for c in transient.CONTROLS))])
def test_transient_compute_at_every_corner(params):
    d = transient.compute(**params)
    _finite_fields(d)
    assert d.power_norms.shape == d.linear_distance.shape == (params["horizon"] + 1,)
    assert len(transient.explorer().figure(d).data) == len(transient.explorer().render().data)


def test_transient_static_face_has_a_frame_per_grid_point():
    fig = transient.explorer().static_figure()
    assert len(fig.frames) == 6 * 5
    assert [s["name"] for s in fig.layout.sliders] == ["radius", "coupling"]


def test_transient_legend_is_the_same_in_every_frame():
    """Traces without a number to show are gaps, not missing: the plot area keeps its size."""
    e = transient.explorer()
    names = [t.name for t in e.render().data]
    for params in ({"radius": 1.0, "coupling": 2.0}, {"radius": 0.5, "coupling": 0.0}):
        fig = e.render(**params)
        assert [t.name for t in fig.data] == names
        assert all(len(t.x) > 0 for t in fig.data)


def test_the_two_by_two_example_of_the_chapter():
    """SCIENCE.md §4: ||A||_2 = 1.530, max ||A^k||_2 = 3.91 at k = 9, first below one at k = 35."""
    d = transient.compute(radius=0.9, coupling=1.0, horizon=60)
    assert round(d.spectral_norm, 3) == 1.530
    assert round(d.peak, 2) == 3.91 and d.k_peak == 9 and d.k_below_one == 35
    norms = linalg.power_norms(linalg.nonnormal_example(0.9, 1.0), 60)
    assert int(np.argmax(norms)) == 9 and np.all(norms[1:35] >= 1) and norms[35] < 1


@FAST
@given(r=st.floats(0.0, 1.2), c=st.floats(0.0, 4.0))
def test_closed_form_matches_matrix_powers(r, c):
    k = np.arange(0, 40)
    exact = linalg.power_norms(linalg.nonnormal_example(r, c), 39)
    assert np.allclose(transient.jordan_power_norms(r, c, k), exact, rtol=1e-9, atol=1e-12)


@FAST
@given(r=st.floats(0.0, 0.99), c=st.floats(0.0, 4.0))
def test_summary_finds_the_true_peak_and_the_first_k_below_one(r, c):
    peak, k_peak, k_below = transient.transient_summary(r, c)
    norms = linalg.power_norms(linalg.nonnormal_example(r, c), k_below + 200)
    assert np.all(norms[1:k_below] >= 1.0) and norms[k_below] < 1.0
    assert peak == pytest.approx(norms.max(), rel=1e-9) and k_peak == int(np.argmax(norms))


def test_summary_without_a_contraction_in_any_norm():
    """r >= 1: never below one; with a coupling the norms grow without bound (peak None)."""
    assert transient.transient_summary(1.0, 0.5) == (None, None, None)
    assert transient.transient_summary(1.0, 0.0) == (1.0, 0, None)
    assert transient.transient_summary(1.1, 0.0) == (None, None, None)


def test_try_it_answers_of_chapter_4():
    base, c2, r95 = (transient.transient_summary(*a) for a in ((0.9, 1.0), (0.9, 2.0), (0.95, 1.0)))
    assert c2[0] > base[0] and c2[2] > base[2]      # stronger coupling: higher and longer
    assert r95[0] > base[0] and r95[2] > base[2]    # r closer to one: higher and later
    price = [transient.lyapunov_certificate(linalg.nonnormal_example(r, 1.0))[1] for r in (0.9, 0.95)]
    assert price[1] > price[0]                       # ... and a Lyapunov norm with a larger sqrt(cond P)
    assert transient.compute(radius=0.9, coupling=0.0).power_norms == pytest.approx(0.9 ** np.arange(61))


@FAST
@given(r=st.floats(0.0, 0.98), c=st.floats(0.0, 4.0), frac=st.floats(0.05, 1.0))
def test_lyapunov_norm_bounds_the_powers(r, c, frac):
    """||A^k||_2 <= sqrt(cond P) lam_P^k with lam_P < target, for any target in (rho, 1]."""
    A = linalg.nonnormal_example(r, c)
    target = r + frac * (1.0 - r)
    lam_p, cond = transient.lyapunov_certificate(A, target)
    assert lam_p < target + 1e-12
    k = np.arange(120)
    assert np.all(linalg.power_norms(A, 119) <= cond * lam_p**k * (1 + 1e-8))
    assert transient.lyapunov_certificate(linalg.nonnormal_example(1.0, c)) is None


def test_transient_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="radius"):
        transient.compute(radius=1.5)
    with pytest.raises(ValueError, match="coupling"):
        transient.compute(coupling=-0.1)
    with pytest.raises(ValueError, match="horizon"):
        transient.compute(horizon=5)
    with pytest.raises(ValueError, match="target"):
        transient.lyapunov_certificate(linalg.nonnormal_example(0.9, 1.0), target=0.8)


# ------------------------------------------------------------------------- truncation (Ch. 5)


@pytest.mark.parametrize("params", [dict(zip(("k", "lam", "log10_eps"), combo)) for combo in
                                    itertools.product(*(_corners(c) for c in truncation.CONTROLS))])
def test_truncation_compute_at_every_corner(params):
    d = truncation.compute(**params)
    _finite_fields(d)
    assert d.state_error.shape == d.output_error.shape == (truncation.K_MAX,)
    assert (len(d.bound) == truncation.K_MAX) == (params["lam"] < 1)
    assert len(truncation.explorer().figure(d).data) == len(truncation.explorer().render().data)


def test_truncation_static_face_and_a_fixed_legend():
    e = truncation.explorer()
    fig = e.static_figure()
    assert len(fig.frames) == 6 * 6
    assert [s["name"] for s in fig.layout.sliders] == ["k", "lam"]
    names = [t.name for t in e.render().data]
    for lam in (1.0, 1.2):
        assert [t.name for t in e.render(lam=lam).data] == names


@pytest.mark.parametrize("lam", [0.3, 0.9, 1.0, 1.3])
def test_all_k_errors_match_the_library_truncated_model(lam):
    W, U, x, v = truncation.problem(lam, seed=3)
    state, output = truncation.errors_for_all_k(W, U, x, v, truncation.K_MAX)
    for k in (1, 2, 17, 80):
        full = dynamics.rnn_trajectory(W, U, x)[:, 1:]
        trunc = dynamics.truncated_rnn_states(W, U, x, k)
        assert state[k - 1] == pytest.approx(dynamics.truncation_error(W, U, x, k).max(), rel=1e-12, abs=1e-15)
        assert output[k - 1] == pytest.approx(np.abs((full - trunc) @ v).max(), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("lam", [0.05, 0.5, 0.8, 0.9, 0.95, 0.99])
def test_measured_error_never_above_the_bound(lam):
    """The theorem on the explorer's data: max_t ||h_t - h^k_t|| <= lam^k L_x B_x / (1 - lam)."""
    d = truncation.compute(k=1, lam=lam)
    assert d.lx_bx == pytest.approx(truncation.INPUT_NORM)
    assert np.all(d.state_error <= d.bound + 1e-12)
    above = d.bound > 1e-12  # below, the measured "error" is floating-point rounding
    assert np.all(d.state_error[above] / d.bound[above] < 1.0)
    assert np.all(d.output_error <= d.state_error + 1e-12)  # ||v||_2 = 1
    assert d.min_k_measured is None or d.min_k_measured <= d.min_k_bound


def test_numbers_of_chapter_5_explorer():
    d = truncation.compute(k=20, lam=0.9)
    assert d.min_k_bound == 44 and d.min_k_measured < 44
    assert d.bound_at_k >= d.error_at_k
    d99 = truncation.compute(k=80, lam=0.99)
    assert d99.min_k_bound > truncation.K_MAX and d99.error_at_k > d99.eps and d99.min_k_measured is None
    d12 = truncation.compute(k=80, lam=1.2)
    assert d12.min_k_bound is None and d12.bound_at_k is None
    assert d12.state_error.min() > 1.0  # truncation fails: the error stays of the order of the state
    d10 = truncation.compute(k=80, lam=1.0)
    assert d10.error_at_k > 1e-2 and d10.error_at_k < d10.state_error[0]  # decays, slowly


def test_truncation_compute_is_fast_enough_for_live_sliders():
    import time

    truncation.compute(k=80, lam=0.9)
    start = time.perf_counter()
    for lam in (0.5, 1.2):
        truncation.compute(k=80, lam=lam)
    assert (time.perf_counter() - start) / 2 < 0.15  # < 50 ms when the machine is idle; slack for CI


def test_truncation_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="k must"):
        truncation.compute(k=0)
    with pytest.raises(ValueError, match="lam"):
        truncation.compute(lam=2.0)
    with pytest.raises(ValueError, match="log10_eps"):
        truncation.compute(log10_eps=0.0)
    W, U, x, v = truncation.problem(0.9)
    with pytest.raises(ValueError, match="v must"):
        truncation.errors_for_all_k(W, U, x, v[:3], 5)
    assert math.isfinite(truncation.compute().error_at_k)
