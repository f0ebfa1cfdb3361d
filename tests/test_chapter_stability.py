"""Chapter 4 (stablernn.chapters.stability): the claims of the chapter on its own seeded setups.

The gradient bound on a stable tanh RNN, the LSTM condition (derived, and the recalled one with zero
margin) and its contraction check, the non-normal transient explorer (every corner, the 2 x 2 example,
the Try-it answers), a briefly trained tanh RNN projected once after training and by projected
gradient descent, the SVD projection against power iteration, and the chapter's worked numbers.
"""

import copy
import itertools

import numpy as np
import pytest

from conftest import assert_finite_fields, check_sections, control_corners
from reference import NONNORMAL_FIRST_BELOW_ONE, NONNORMAL_NORM, NONNORMAL_PEAK, NONNORMAL_PEAK_K
from stablernn import dynamics, linalg, stability, train
from stablernn.chapters import stability as chapter
from stablernn.presentation import explorers


# ------------------------------------------------------------------------ the gradient bound (§4.2)


def test_jacobian_products_below_lambda_to_the_k():
    """Proposition: ||dh_t/dh_{t-k}||_2 <= lambda^k, on the chapter's figure setup (lambda = 0.9)."""
    W = linalg.random_matrix(16, spectral_norm=0.9, seed=0)
    U = linalg.random_matrix(16, spectral_norm=1.0, seed=1, m=4)
    x = np.random.default_rng(2).standard_normal((8, 30, 4))
    jac = dynamics.jacobian_norms_vs_lag(W, dynamics.rnn_trajectory(W, U, x), average=False).max(axis=0)
    lags = np.arange(len(jac))
    assert np.all(jac <= 0.9**lags * (1 + 1e-9))
    assert np.max(jac[1:] / 0.9 ** lags[1:]) < 1.0  # the glued "largest ratio" is below one
    values = chapter.jacobian_bound(lam=0.9).values
    assert values["jac_lam"] == "0.90" and float(values["jac_worst"]) < 1.0


# ------------------------------------------------------------------------------ the LSTM (§4.4)


def test_recalled_lstm_condition_has_zero_margin_on_the_chapters_example():
    p = dynamics.random_lstm_params(8, 3, seed=0)
    f_bar = 0.6
    for key, r in {"W_i": 1 - f_bar, "W_o": 1 - f_bar, "W_z": (1 - f_bar) / 4, "W_f": (1 - f_bar) ** 2}.items():
        p[key] = p[key] * (r / linalg.inf_norm(p[key]))
    assert f"{stability.lstm_contraction_factor(stability.lstm_block_norms(p), f_bar):.6f}" == "1.000000"


def test_lstm_contraction_check_of_the_chapter():
    """Figure of §4.4: no measured ratio above the certified lambda, on the chapter's seed and sizes."""
    check = chapter.lstm_contraction_check(n_models=60, n_pairs=400, seed=0)
    assert check.certified.min() >= 0.2 and check.certified.max() <= 0.99
    assert np.all(check.measured <= check.certified)
    assert np.all(check.measured > 0)
    values = chapter.lstm_check(forget_bound=0.6).values
    assert values["lstm_violations"] == 0 and values["lstm_boundary"] == "1.000000"
    assert (values["lstm_models"], values["lstm_pairs"]) == (60, 400) and float(values["lstm_worst"]) <= 1.0


# ------------------------------------------------------------------- the transient explorer (§4.3)


@pytest.mark.parametrize("params", [dict(zip(("radius", "coupling", "horizon"), combo)) for combo in
                                    itertools.product(*(control_corners(c) for c in explorers.transient().controls))])
def test_transient_compute_at_every_corner(params):
    d = chapter.transient(**params)
    assert_finite_fields(d)
    assert d.power_norms.shape == d.linear_distance.shape == (params["horizon"] + 1,)
    assert len(explorers.transient().figure(d).data) == len(explorers.transient().render().data)


def test_transient_static_face_has_a_frame_per_grid_point():
    fig = explorers.transient().static_figure()
    assert len(fig.frames) == 6 * 5
    assert [s["name"] for s in fig.layout.sliders] == ["radius", "coupling"]


def test_transient_legend_is_the_same_in_every_frame():
    """Traces without a number to show are gaps, not missing: the plot area keeps its size."""
    e = explorers.transient()
    names = [t.name for t in e.render().data]
    for params in ({"radius": 1.0, "coupling": 2.0}, {"radius": 0.5, "coupling": 0.0}):
        fig = e.render(**params)
        assert [t.name for t in fig.data] == names
        assert all(len(t.x) > 0 for t in fig.data)


def test_the_two_by_two_example_of_the_chapter():
    """||A||_2 = 1.530, max ||A^k||_2 = 3.91 at k = 9, first below one at k = 35 (tests/reference.py)."""
    d = chapter.transient(radius=0.9, coupling=1.0, horizon=60)
    assert d.spectral_norm == pytest.approx(NONNORMAL_NORM, abs=1e-4)
    assert d.peak == pytest.approx(NONNORMAL_PEAK, abs=1e-4)
    assert d.k_peak == NONNORMAL_PEAK_K and d.k_below_one == NONNORMAL_FIRST_BELOW_ONE
    norms = linalg.power_norms(linalg.nonnormal_example(0.9, 1.0), 60)
    assert int(np.argmax(norms)) == NONNORMAL_PEAK_K and np.all(norms[1:NONNORMAL_FIRST_BELOW_ONE] >= 1)
    assert norms[NONNORMAL_FIRST_BELOW_ONE] < 1
    values = chapter.transient_example().values
    assert values["tr_norm"] == f"{NONNORMAL_NORM:.3f}" and values["tr_peak"] == f"{NONNORMAL_PEAK:.2f}"
    assert (values["tr_kpeak"], values["tr_kbelow"]) == (NONNORMAL_PEAK_K, NONNORMAL_FIRST_BELOW_ONE)


def test_try_it_answers_of_chapter_4():
    base, c2, r95 = (linalg.transient_summary(*a) for a in ((0.9, 1.0), (0.9, 2.0), (0.95, 1.0)))
    assert c2[0] > base[0] and c2[2] > base[2]      # stronger coupling: higher and longer
    assert r95[0] > base[0] and r95[2] > base[2]    # r closer to one: higher and later
    price = [stability.lyapunov_certificate(linalg.nonnormal_example(r, 1.0))[1] for r in (0.9, 0.95)]
    assert price[1] > price[0]                       # ... and a Lyapunov norm with a larger sqrt(cond P)
    assert chapter.transient(radius=0.9, coupling=0.0).power_norms == pytest.approx(0.9 ** np.arange(61))
    values = chapter.transient_answers().values
    assert values["tr_c2_below"] == c2[2] and values["tr_r95_below"] == r95[2]


def test_transient_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="radius"):
        chapter.transient(radius=1.5)
    with pytest.raises(ValueError, match="coupling"):
        chapter.transient(coupling=-0.1)
    with pytest.raises(ValueError, match="horizon"):
        chapter.transient(horizon=5)


# --------------------------------------------------------- projected training (§4.5, ~10 s on one thread)


@pytest.fixture(scope="module")
def trained():
    model, _, valid = chapter.train_toy_rnn(project=False)
    pgd, _, _ = chapter.train_toy_rnn(project=True)
    return model, pgd, valid


def test_unconstrained_training_leaves_the_stable_set(trained):
    model, _, valid = trained
    W = model.rnn.weight_hh_l0.detach().double().numpy()
    assert linalg.spectral_norm(W) > 1.0 > linalg.spectral_radius(W)  # not contractive, eigenvalues inside
    assert np.sum(np.linalg.svd(W, compute_uv=False) > 0.999) >= 1
    assert train.evaluate(model, valid, "mse") < 0.05  # learned: predicting 0 scores 1


def test_projection_after_training_hurts_and_projected_training_does_not(trained):
    model, pgd, valid = trained
    model = copy.deepcopy(model)  # the fixture's model stays unprojected for the other tests
    loss_before = train.evaluate(model, valid, "mse")
    stability.project_rnn_(model.rnn.weight_hh_l0.data, max_norm=0.999)
    assert linalg.spectral_norm(model.rnn.weight_hh_l0.detach().numpy()) <= 0.999 + 1e-6
    loss_after = train.evaluate(model, valid, "mse")
    loss_pgd = train.evaluate(pgd, valid, "mse")
    assert loss_after > 10 * loss_before
    assert loss_pgd < loss_after / 10
    assert linalg.spectral_norm(pgd.rnn.weight_hh_l0.detach().numpy()) <= 0.999 + 1e-6


# ------------------------------------------------------------- SVD projection and power iteration


def test_projection_timings_report_what_was_asked_and_a_lower_power_estimate():
    """The sizes asked for, one positive time per size and method, and the power-iteration estimate of
    ||W||_2 = 1.5 a lower bound within 10 % (a Rayleigh quotient), equal to linalg's own estimate.
    How fast either method is is measured in bench/, not asserted here."""
    t = chapter.projection_timings(sizes=(16, 64), repeats=1, n_iter=20, seed=0)
    assert t.sizes.tolist() == [16, 64] and t.n_iter == 20
    for arr in (t.svd_seconds, t.power_seconds, t.power_rel_error):
        assert arr.shape == (2,) and np.all(np.isfinite(arr))
    assert np.all(t.svd_seconds > 0) and np.all(t.power_seconds > 0)
    assert np.all(t.power_rel_error >= -1e-12) and np.all(t.power_rel_error < 0.1)
    for n, err in zip((16, 64), t.power_rel_error):
        W = linalg.random_matrix(n, spectral_norm=1.5, seed=0)
        estimate = linalg.power_iteration_norm(W, n_iter=20, tol=0.0, seed=0)
        assert estimate <= linalg.spectral_norm(W) * (1 + 1e-12)
        assert err == pytest.approx((1.5 - estimate) / 1.5, rel=1e-12, abs=1e-15)


def test_lesson_helpers_validate_their_arguments():
    with pytest.raises(ValueError, match="n_pairs"):
        chapter.lstm_contraction_check(n_pairs=1)
    with pytest.raises(ValueError, match="sizes"):
        chapter.projection_timings(sizes=(1,))
    with pytest.raises(ValueError, match="repeats"):
        chapter.projection_timings(sizes=(4,), repeats=0)
    with pytest.raises(ValueError, match="project"):
        chapter.train_toy_rnn(project="yes")


# -- the chapter's worked numbers ---------------------------------------------------------------------


def test_sections_give_every_value_the_chapter_glues():
    values = check_sections("stability", {
        "jacobian_bound": lambda: chapter.jacobian_bound(lam=0.9),
        "transient_example": lambda: chapter.transient_example(),
        "transient_answers": lambda: chapter.transient_answers(),
        "lstm_check": lambda: chapter.lstm_check(forget_bound=0.6),
        "certified_lstm": lambda: chapter.certified_lstm(forget_bound=0.5, input_bound=1.0),
        "projection_example": lambda: chapter.projection_example(),
        "projection_cost": lambda: chapter.projection_cost(sizes=(32, 64, 128, 256)),
    })
    assert float(values["pgd_norm_pgd"]) <= chapter.PROJECTION_NORM + 1e-3
    assert values["cost_n"] == 256


def test_lyapunov_factor_is_printed_below_mu():
    """The proposition says lambda_P < mu; the printed value must show it (not round to mu)."""
    values = chapter.transient_example().values
    assert float(values["tr_lyap_lam"]) < 0.95 and float(values["tr_lyap_gap"]) > 0


def test_certified_lstm_example_gains_its_certificate_from_the_projection():
    values = chapter.certified_lstm(forget_bound=0.5, input_bound=1.0).values
    assert values["cl_before"] == "does not hold" and values["cl_after"] == "holds"
    assert float(values["cl_forget_before"]) > 0.9 and float(values["cl_forget_after"]) <= 0.5
    assert float(values["cl_lam"]) < 1

