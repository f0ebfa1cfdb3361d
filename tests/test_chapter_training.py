"""Chapter 6 (stablernn.chapters.training): recurrent against truncated training of a stable student,
the explorer over the k grid and its Run action, and the chapter's worked numbers. The recursion
bound and the context it requires are tested with stablernn.stability (tests/test_stability.py)."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import check_sections
from stablernn.data import _cache
from stablernn import linalg, models
from stablernn.chapters import training as chapter
from stablernn.presentation import explorers
from stablernn.stability import step_size

SMALL = chapter.EquivalenceSetup(hidden=6, teacher_hidden=4, steps_per_sequence=20, train_sequences=4,
                                 test_sequences=2)
RUN = "Run (a few seconds)"


@pytest.fixture(scope="module")
def small_grid():
    return chapter.equivalence_grid(SMALL, (1, 2, 4, 8, 16), steps=20)


@pytest.fixture(scope="module")
def chapter_grid():
    """The chapter's setup and k values, with fewer steps (the claims hold from the first steps on)."""
    return chapter.equivalence_grid(chapter.EquivalenceSetup(), chapter.K_VALUES, steps=60)


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


def test_final_reads_the_last_logged_gap(chapter_grid):
    g = chapter_grid
    for s, schedule in enumerate(chapter.SCHEDULES):
        for j, k in enumerate(g.k_values):
            assert g.final("weight", schedule, int(k)) == g.weight_gap[s, j, -1]
            assert g.final("pred", schedule, int(k)) == g.pred_gap[s, j, -1]
    with pytest.raises(ValueError, match="gap"):
        g.final("loss", "decaying", 1)
    with pytest.raises(ValueError, match="k"):
        g.final("weight", "decaying", 3)


def test_both_runs_start_from_the_same_weights_and_agree_when_k_covers_the_sequence():
    grid = chapter.equivalence_grid(SMALL, (SMALL.steps_per_sequence,), steps=5)
    assert np.all(grid.weight_gap < 1e-12) and np.all(grid.pred_gap < 1e-12)


def test_students_stay_stable():
    """Projection after every step: the students' ||W||_2 <= lam, from the start and through training."""
    model = chapter.student(SMALL)
    assert linalg.spectral_norm(model.rnn.weight_hh_l0.detach().numpy()) <= SMALL.lam + 1e-9
    x, y, _, _ = chapter.teacher_task(SMALL)
    for i in range(1, 6):
        chapter._sgd_step(model, x, y, 3, step_size("decaying", 5.0, i))
    assert linalg.spectral_norm(model.rnn.weight_hh_l0.detach().numpy()) <= SMALL.lam + 1e-9


def test_gradient_gap_falls_faster_than_the_bound_rate():
    """Lemma (form): ||grad L - grad L_k|| = O(k lam^k); measured, it falls with k at least as fast as lam^k."""
    ks = (1, 2, 4, 8, 16)
    gap = chapter.gradient_gap(SMALL, ks)
    assert np.all(np.diff(gap) < 0)
    rate = math.exp(np.polyfit(ks, np.log(gap), 1)[0])
    assert rate < SMALL.lam


def test_teacher_has_the_requested_spectral_norm(monkeypatch):
    """The teacher that makes the data has ||W||_2 = teacher_norm (the model is caught as it is built)."""
    built = []

    class Recorded(models.TanhRNN):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            built.append(self)

    monkeypatch.setattr(models, "TanhRNN", Recorded)
    setup = chapter.EquivalenceSetup(teacher_norm=0.7)
    x, y, xt, yt = chapter.teacher_task(setup)
    (teacher,) = built
    W = teacher.rnn.weight_hh_l0.detach().numpy()
    assert W.shape == (setup.teacher_hidden, setup.teacher_hidden)
    assert linalg.spectral_norm(W) == pytest.approx(0.7, rel=1e-12)
    assert x.shape == (8, 40, 2) and y.shape == (8, 40, 1) and xt.shape[0] == 8
    assert torch.isfinite(y).all()
    with torch.no_grad():
        torch.testing.assert_close(teacher(x)[0], y, rtol=0, atol=0)  # the data are this teacher's outputs


# ------------------------------------------------------------------ the explorer


def test_explorer_compute_at_every_grid_point_and_static_frames(small_grid):
    ex = explorers.equivalence(small_grid)
    for k in small_grid.k_values:
        d = chapter.equivalence_at(int(k), small_grid)
        assert np.all(np.isfinite(d.weight_gap)) and np.all(np.isfinite(d.current))
        assert len(ex.figure(d).data) == 10
    fig = ex.static_figure()
    assert len(fig.frames) == len(small_grid.k_values)


@pytest.mark.parametrize("k", [1, SMALL.steps_per_sequence])
@pytest.mark.parametrize("steps", list(chapter.LIVE_STEPS))
def test_rerun_at_the_corners_of_its_live_range(small_grid, k, steps):
    d = chapter.rerun(k, steps, small_grid)
    assert d.steps == steps and d.logged[-1] == steps
    assert np.all(np.isfinite(d.weight_gap)) and np.all(np.isfinite(d.pred_gap))


def test_run_action_retrains_and_updates_the_figure(small_grid):
    """The Action protocol: the widget's Run panel reads its own inputs, and pressing Run draws the new run."""
    box = explorers.equivalence(small_grid).widget()
    assert list(box.explorer_actions) == [RUN]
    panel = box.explorer_actions[RUN]
    assert set(panel.inputs) == {"k", "steps"}
    panel.inputs["k"].value, panel.inputs["steps"].value = 2, 10
    before = [list(t.y) for t in box.explorer_figure.data]
    panel.button.click()
    after = [list(t.y) for t in box.explorer_figure.data]
    assert after != before
    expected = explorers.equivalence(small_grid).figure(chapter.rerun(2, 10, small_grid))
    assert after[0] == pytest.approx(list(expected.data[0].y))
    assert "training both students" in panel.status.value and not panel.button.disabled


def _same_grid(a, b) -> None:
    assert a.setup == b.setup and a.steps == b.steps
    for field in ("k_values", "logged", "weight_gap", "pred_gap", "final_loss"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_a_cached_grid_is_the_grid_it_stands_for_and_is_not_trained_again(tmp_path, monkeypatch):
    trained = chapter.equivalence_grid(SMALL, (1, 4), steps=6)
    first = chapter.equivalence_grid(SMALL, (1, 4), steps=6, cache=tmp_path)
    _same_grid(first, trained)
    (path,) = (tmp_path / "training").glob("*.npz")
    calls = []
    monkeypatch.setattr(chapter, "teacher_task", lambda *a: calls.append(a))  # training would need it
    _same_grid(chapter.equivalence_grid(SMALL, (1, 4), steps=6, cache=str(tmp_path)), trained)
    assert not calls
    # other arguments are another file, trained anew
    monkeypatch.undo()
    other = chapter.equivalence_grid(SMALL, (1, 4), steps=7, cache=tmp_path)
    assert other.steps == 7 and len(list((tmp_path / "training").glob("*.npz"))) == 2
    # a damaged file is never trusted: the grid is trained again and the file rewritten
    path.write_bytes(path.read_bytes()[:-40])
    _same_grid(chapter.equivalence_grid(SMALL, (1, 4), steps=6, cache=tmp_path), trained)
    assert _cache.read_arrays(path, ("k_values", "logged", "weight_gap", "pred_gap", "final_loss")) is not None


def test_a_cache_folder_that_cannot_be_written_still_gives_the_grid(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    _same_grid(chapter.equivalence_grid(SMALL, (1, 2), steps=4, cache=blocked),
               chapter.equivalence_grid(SMALL, (1, 2), steps=4))


def test_the_cache_key_follows_the_code_that_trains(tmp_path, monkeypatch):
    """A grid cached by another version of the training code is not read back."""
    path = chapter._grid_path(SMALL, (1, 2), 4, tmp_path)
    source = tmp_path / "training_changed.py"
    source.write_text(Path(chapter.__file__).read_text() + "\n# changed\n")
    monkeypatch.setattr(chapter, "__file__", str(source))
    assert chapter._grid_path(SMALL, (1, 2), 4, tmp_path) != path


def test_bad_arguments_raise_value_errors(small_grid):
    with pytest.raises(ValueError, match="k"):
        chapter.equivalence_at(3, small_grid)
    with pytest.raises(ValueError, match="steps"):
        chapter.rerun(1, 5, small_grid)
    with pytest.raises(ValueError, match="k"):
        chapter.rerun(SMALL.steps_per_sequence + 1, 10, small_grid)
    with pytest.raises(TypeError, match="grid"):
        chapter.equivalence_at(1, None)
    with pytest.raises(TypeError, match="grid"):
        explorers.equivalence(None)
    with pytest.raises(ValueError, match="k_values must be strictly increasing"):
        chapter.equivalence_grid(SMALL, (4, 2), steps=2)
    with pytest.raises(TypeError, match="k_values must be a non-empty sequence of integers"):
        chapter.equivalence_grid(SMALL, (), steps=2)
    with pytest.raises(ValueError, match=r"k_values\[1\]"):
        chapter.equivalence_grid(SMALL, (1, SMALL.steps_per_sequence + 1), steps=2)
    with pytest.raises(TypeError, match="cache must be True, False or a folder"):
        chapter.equivalence_grid(SMALL, (1, 2), steps=2, cache=1)
    with pytest.raises(TypeError, match="setup must be an EquivalenceSetup"):
        chapter.equivalence_grid({"hidden": 3}, (1, 2), steps=2)
    with pytest.raises(ValueError, match="schedule"):
        SMALL.alpha("cosine")
    with pytest.raises(ValueError, match="lam"):
        chapter.EquivalenceSetup(lam=1.5)


# -- the chapter's worked numbers ---------------------------------------------------------------------


def test_sections_give_every_value_the_chapter_glues(chapter_grid):
    setup = chapter.EquivalenceSetup()
    values = check_sections("training", {
        "gradient_gap_section": lambda: chapter.gradient_gap_section(setup),
        "required_context": lambda: chapter.required_context(eps=1e-3, alpha_decaying=1.0, alpha_constant=0.01),
        "equivalence_summary": lambda: chapter.equivalence_summary(chapter_grid),
    })
    assert values["wg_dec_k1"] == f"{chapter_grid.final('weight', 'decaying', 1):.2g}"
    assert values["N"] == chapter_grid.steps and values["lam"] == f"{setup.lam:g}"
    assert values["kd_1e2"] < values["kd_1e5"] and values["kc_1e2"] < values["kc_1e5"]


# -- the theorem's condition on k, checked against the recursion the library solves -------------------


@pytest.mark.parametrize("alpha_beta", [0.25, 0.5, 2.0, 3.0])
def test_displayed_condition_on_k_is_sufficient_and_close_for_alpha_beta_not_one(alpha_beta):
    """Theorem 'Weight gap after N steps': k ln(1/lam) >= alpha beta ln N + ln(1/eps) + ln(k gamma e^{ab}/beta)
    is sufficient (never below stability.required_k, the exact smallest k of the bound) and loses at most
    (ab + ab^2 pi^2/12 + ln(P_N/(P_N - 1)))/ln(1/lam) + 1 steps. The earlier form, alpha beta ln(N/eps), is not sufficient when
    alpha beta < 1 (it asks for fewer steps than the bound needs) and too strict when alpha beta > 1."""
    from stablernn import stability
    lam, eps, gamma = 0.9, 1e-3, 1.0
    for N in (10**2, 10**3, 10**4, 10**5):
        exact = stability.required_k(eps, lam=lam, schedule="decaying", alpha=alpha_beta, beta=1.0, gamma=gamma, steps=N)
        cond = chapter.condition_k(eps, lam, alpha_beta, 1.0, gamma, N)
        log_p = stability.bound_product("decaying", alpha_beta, 1.0, N)
        lost = alpha_beta + alpha_beta**2 * math.pi**2 / 12 - math.log(-math.expm1(-log_p))  # in the log
        assert exact <= cond <= exact + lost / math.log(1 / lam) + 1
        # the bound at the condition's k is indeed below eps
        assert stability.weight_gap_bound(cond, lam, "decaying", alpha_beta, 1.0, gamma, N) <= eps
        old = next(k for k in range(1, 10_000)
                   if k * math.log(1 / lam) >= alpha_beta * math.log(N / eps) + math.log(k * gamma * math.exp(alpha_beta)))
        if alpha_beta < 1:
            assert old < exact  # the old condition would promise eps-closeness where the bound does not
        else:
            assert old > cond


def test_condition_and_exact_k_agree_in_shape_at_the_worked_example():
    """At alpha beta = 1 (the chapter's example) both forms coincide and lie a few steps above required_k."""
    from stablernn import stability
    for N in (10**2, 10**5):
        exact = stability.required_k(1e-3, lam=0.9, schedule="decaying", alpha=1.0, beta=1.0, gamma=1.0, steps=N)
        assert 0 <= chapter.condition_k(1e-3, 0.9, 1.0, 1.0, 1.0, N) - exact <= 20


def test_the_bound_is_loose_against_the_experiment(chapter_grid):
    """§6.3: the k the bound needs (beta = gamma = 1) to promise the k = 8 weight gap is several times 8,
    and the glued kb_exp is that number."""
    from stablernn import stability
    values = chapter.equivalence_summary(chapter_grid).values
    w8 = chapter_grid.final("weight", "decaying", 8)
    assert values["wg_dec_k8"] == f"{w8:.1e}"
    setup = chapter_grid.setup
    assert values["kb_exp"] == stability.required_k(w8, lam=setup.lam, schedule="decaying", alpha=setup.alpha_decaying,
                                                    beta=1.0, gamma=1.0, steps=chapter_grid.steps)
    assert values["kb_exp"] > 3 * 8
    required = chapter.required_context().values
    assert required["kd_1e2"] > 10 * 8  # the worked example's k, against the experiment's k = 8
