"""Chapter 5 (stablernn.chapters.truncation): the truncation explorer and the theorem on its data.

The explorer's compute runs at every corner of its static grid and of its live range without NaN or
error, its static face has the expected frames, its all-k curves agree with the library's truncated
model, the measured error stays below the theorem's bound for lambda < 1 (``bound_check``, which the
chapter quotes), and the numbers the chapter states from it hold.
"""

import itertools
import math

import numpy as np
import pytest

from conftest import assert_finite_fields, check_sections, control_corners
from reference import MIN_CONTEXT_09
from stablernn import dynamics
from stablernn.chapters import truncation as chapter
from stablernn.presentation import explorers


@pytest.mark.parametrize("params", [dict(zip(("k", "lam", "log10_eps"), combo)) for combo in
                                    itertools.product(*(control_corners(c) for c in explorers.truncation_error().controls))])
def test_truncation_compute_at_every_corner(params):
    d = chapter.truncation(**params)
    assert_finite_fields(d)
    assert d.state_error.shape == d.output_error.shape == (chapter.K_MAX,)
    assert (len(d.bound) == chapter.K_MAX) == (params["lam"] < 1)
    e = explorers.truncation_error()
    assert len(e.figure(d).data) == len(e.render().data)


def test_truncation_static_face_and_a_fixed_legend():
    e = explorers.truncation_error()
    fig = e.static_figure()
    assert len(fig.frames) == 6 * 6
    assert [s["name"] for s in fig.layout.sliders] == ["k", "lam"]
    names = [t.name for t in e.render().data]
    for lam in (1.0, 1.2):
        assert [t.name for t in e.render(lam=lam).data] == names


@pytest.mark.parametrize("lam", [0.3, 0.9, 1.0, 1.3])
def test_all_k_errors_match_the_library_truncated_model(lam):
    W, U, x, v = chapter.problem(lam, seed=3)
    state, output = dynamics.truncation_errors_all_k(W, U, x, v, chapter.K_MAX)
    for k in (1, 2, 17, 80):
        full = dynamics.rnn_trajectory(W, U, x)[:, 1:]
        trunc = dynamics.truncated_rnn_states(W, U, x, k)
        assert state[k - 1] == pytest.approx(dynamics.truncation_error(W, U, x, k).max(), rel=1e-12, abs=1e-15)
        assert output[k - 1] == pytest.approx(np.abs((full - trunc) @ v).max(), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("lam", [0.05, 0.5, 0.8, 0.9, 0.95, 0.99])
def test_measured_error_never_above_the_bound(lam):
    """The theorem on the explorer's data: max_t ||h_t - h^k_t|| <= lam^k L_x B_x / (1 - lam)."""
    d = chapter.truncation(k=1, lam=lam)
    assert d.lx_bx == pytest.approx(chapter.INPUT_NORM)
    assert np.all(d.state_error <= d.bound + 1e-12)
    above = d.bound > 1e-12  # below, the measured "error" is floating-point rounding
    assert np.all(d.state_error[above] / d.bound[above] < 1.0)
    assert np.all(d.output_error <= d.state_error + 1e-12)  # ||v||_2 = 1
    assert d.min_k_measured is None or d.min_k_measured <= d.min_k_bound


def test_bound_check_finds_no_violation():
    """What the chapter quotes (``tx_checked``, ``tx_worst``): over the explorer's lambda < 1, every
    point compared, the error below the bound and the output error below the state error."""
    check = chapter.bound_check()
    assert check.violations == 0
    assert check.checked > 100 and 0 < check.worst_ratio < 1.0
    assert check.lams == (0.05, 0.5, 0.8, 0.9, 0.95, 0.99)
    values = chapter.bound_summary().values
    assert values == {"tx_checked": check.checked, "tx_worst": f"{check.worst_ratio:.2f}"}


def test_bound_check_counts_violations_of_a_bound_that_is_too_small(monkeypatch):
    """The check can fail: with the bound divided by 100, the measured errors exceed it."""
    true_bound = dynamics.truncation_bound
    monkeypatch.setattr(dynamics, "truncation_bound", lambda lam, k, lx_bx: true_bound(lam, k, lx_bx) / 100)
    check = chapter.bound_check(lams=(0.9,))
    assert check.violations > 0 and check.worst_ratio > 1.0
    with pytest.raises(ValueError, match="lam"):
        chapter.bound_check(lams=(1.0,))


def test_numbers_of_chapter_5_explorer():
    d = chapter.truncation(k=20, lam=0.9)
    # L_x B_x = 0.1 and eps = 1e-2: eps / (L_x B_x) = 1e-1, so the bound asks for the first k of the table
    assert d.min_k_bound == MIN_CONTEXT_09[0] and d.min_k_measured < MIN_CONTEXT_09[0]
    assert d.bound_at_k >= d.error_at_k
    d99 = chapter.truncation(k=80, lam=0.99)
    assert d99.min_k_bound > chapter.K_MAX and d99.error_at_k > d99.eps and d99.min_k_measured is None
    d12 = chapter.truncation(k=80, lam=1.2)
    assert d12.min_k_bound is None and d12.bound_at_k is None
    assert d12.state_error.min() > 1.0  # truncation fails: the error stays of the order of the state
    d10 = chapter.truncation(k=80, lam=1.0)
    assert d10.error_at_k > 1e-2 and d10.error_at_k < d10.state_error[0]  # decays, slowly
    values = chapter.truncation_examples().values
    assert values["tx_bound_k"] == MIN_CONTEXT_09[0] and values["tx_measured_k"] == d.min_k_measured


def test_truncation_compute_runs_the_truncated_model_only_for_the_current_k(monkeypatch):
    """What keeps the live sliders fast, checked by counting rather than timing: the curve over all
    K_MAX context lengths comes from one pass (``truncation_errors_all_k``), and the truncated model is
    run only for the current k, however many k the curve has. (Speed itself is measured in bench/.)"""
    calls = []
    real = dynamics.truncated_rnn_states
    monkeypatch.setattr(dynamics, "truncated_rnn_states", lambda *a, **k: calls.append(a[3]) or real(*a, **k))
    chapter.truncation(k=30, lam=0.9)
    assert calls and set(calls) == {30} and len(calls) <= 2


def test_min_context_table_of_the_chapter():
    values = chapter.context_table().values
    assert (values["mc_90_1"], values["mc_90_2"], values["mc_90_3"]) == MIN_CONTEXT_09
    for key, k in values.items():
        if key.startswith("kx_"):
            continue
        lam, digits = int(key.split("_")[1]) / 100, int(key.split("_")[2])
        assert k == dynamics.min_context(lam, 1.0, 10.0**-digits)


def test_context_grows_like_log_over_one_minus_lambda_not_like_one_over_it():
    """Corollary 'Context needed for accuracy eps': as lam -> 1 at fixed eps, k grows like
    ln(1/(1-lam))/(1-lam). k (1 - lam) grows without bound (it would be constant if k ~ 1/(1-lam)), while
    k (1 - lam) / ln(L_x B_x / ((1 - lam) eps)) stays between 1/2 and 1 and tends to one."""
    values = chapter.context_table().values
    kx = [float(values[f"kx_{p}"]) for p in (50, 90, 99)]
    assert kx[0] < kx[1] < kx[2] and kx[2] > 2 * kx[0]
    for p, lam in ((50, 0.5), (90, 0.9), (99, 0.99)):
        assert kx[(50, 90, 99).index(p)] == pytest.approx(values[f"mc_{p}_2"] * (1 - lam), abs=0.05)
    lams = 1 - np.logspace(-1, -6, 6)
    for eps in (1e-1, 1e-2, 1e-3):
        k = np.array([dynamics.min_context(lam, 1.0, eps) for lam in lams])
        scaled = k * (1 - lams)
        assert np.all(np.diff(scaled) > 1.5)  # + ln 10 per decade of 1 - lam, roughly
        ratio = scaled / np.log(1 / ((1 - lams) * eps))
        assert np.all((ratio > 0.5) & (ratio < 1.0 + 1e-6 + 1 / (k * 1.0)))
        assert abs(ratio[-1] - 1) < 1e-3
        log_ratio = scaled / np.log(1 / (1 - lams))  # the growth rate the chapter states: bounded, -> 1
        assert np.all(np.diff(log_ratio) < 0) and log_ratio[-1] < 1 + np.log(1 / eps) / np.log(1e6) + 1e-3


def test_running_sum_section_quotes_the_errors():
    values = chapter.running_sum(steps=400, ks=(10, 40, 160), leak=0.9).values
    t, err = dynamics.running_sum_errors(400, (10, 40, 160), lam=1.0, seed=0)
    assert values["rs_T"] == 400 and values["rs_err_10"] == f"{err[0, -1]:.0f}"
    assert float(values["rs_leaky"]) <= float(values["rs_leaky_bound"]) == pytest.approx(0.9**10 / 0.1, abs=0.01)


def test_truncation_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="k must"):
        chapter.truncation(k=0)
    with pytest.raises(ValueError, match="lam"):
        chapter.truncation(lam=2.0)
    with pytest.raises(ValueError, match="log10_eps"):
        chapter.truncation(log10_eps=0.0)
    W, U, x, v = chapter.problem(0.9)
    with pytest.raises(ValueError, match="v must"):
        dynamics.truncation_errors_all_k(W, U, x, v[:3], 5)
    assert math.isfinite(chapter.truncation().error_at_k)


# -- the chapter's worked numbers ---------------------------------------------------------------------


def test_sections_give_every_value_the_chapter_glues():
    check_sections("truncation", {
        "context_table": lambda: chapter.context_table(),
        "truncation_examples": lambda: chapter.truncation_examples(),
        "bound_summary": lambda: chapter.bound_summary(),
        "running_sum": lambda: chapter.running_sum(steps=400, ks=(10, 40, 160), leak=0.9),
    })


def test_the_running_sum_is_unstable_yet_its_gradients_neither_explode_nor_vanish():
    """§5.4: no truncation approximates the running sum (unstable, lambda = 1), but dh_T/dh_t = 1 at every lag,
    by autograd through the recursion; with a = 1.1 the same derivative is a^(T - t) and explodes."""
    import torch
    x = torch.rand(200, dtype=torch.float64)
    for a, expected in ((1.0, lambda lag: 1.0), (1.1, lambda lag: 1.1**lag)):
        states = [torch.zeros((), dtype=torch.float64, requires_grad=True)]
        for xt in x:
            h = a * states[-1] + xt
            h.retain_grad()
            states.append(h)
        states[-1].backward()
        T = len(x)
        for t in (0, 50, 150, 199):
            assert float(states[t].grad) == pytest.approx(expected(T - t), rel=1e-12)
    _, err = dynamics.running_sum_errors(400, (160,), lam=1.0, seed=0)
    assert err[0, -1] > 100  # and the truncation error grows without bound
