"""Chapter 7 (stablernn.chapters.instability): gradient descent on the unstable scalar model with and
without clipping or projection, data-dependent stability, their explorers, and the chapter's worked
numbers. The scalar model's states and derivatives are tested with stablernn.dynamics."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import check_sections
from stablernn.chapters import instability as chapter
from stablernn.data.tasks import scalar_task
from stablernn.dynamics import scalar_truncation_error
from stablernn.presentation import explorers

FAST = settings(max_examples=40, deadline=None, derandomize=True)


# ------------------------------------------------------------------ gradient descent and its remedies


def test_plain_descent_from_the_unstable_region_diverges():
    """§7.2: from a0 = 1.1 plain gradient descent overflows within two steps."""
    d = chapter.descent(1.1, "none")
    assert d.diverged_at == 2 and not d.converged
    assert d.grads[0] > 1e3


def test_clipping_converges_from_1_1_but_is_caught_in_a_ravine_from_1_2():
    """§7.2: clipped descent reaches a* from 1.1; from 1.2 it jumps between 1.15 and 1.16 with |dL/da| ~ 10^3."""
    ok = chapter.descent(1.1, "clipping")
    assert ok.converged and ok.iterates[-1] == pytest.approx(chapter.A_STAR, abs=1e-3)
    stuck = chapter.descent(1.2, "clipping")
    assert not stuck.converged and stuck.diverged_at is None
    assert np.all(stuck.iterates[-10:] > 1.0)  # an unstable model
    assert np.max(stuck.grads[-2:]) > 1e3  # not a stationary point
    x, _ = scalar_task(chapter.A_STAR, chapter.T_SCALAR, seed=0)
    assert scalar_truncation_error(stuck.iterates[-1], x, 10) > 10 * scalar_truncation_error(chapter.A_STAR, x, 10)


@pytest.mark.parametrize("a0", [0.5, 0.9, 1.0, 1.05, 1.1, 1.2])
def test_projection_always_converges_to_the_teacher(a0):
    d = chapter.descent(a0, "projection")
    assert d.converged and d.iterates[-1] == pytest.approx(chapter.A_STAR, abs=1e-3)
    assert np.all(np.abs(d.iterates) <= chapter.BOUND)


def test_scalar_gradient_descent_clips_and_projects():
    x, y = scalar_task(0.8, 40, seed=0)
    clipped = chapter.scalar_gradient_descent(0.5, x, y, lr=0.1, steps=3, clip=0.01)
    assert np.all(np.abs(np.diff(clipped.a)) <= 0.1 * 0.01 + 1e-15)
    projected = chapter.scalar_gradient_descent(0.95, x, y, lr=0.5, steps=20, bound=0.9)
    assert np.all(np.abs(projected.a) <= 0.95) and np.all(np.abs(projected.a[1:]) <= 0.9)


# ------------------------------------------------------------------ data-dependent stability


def test_contraction_claims_of_the_chapter():
    """§7.3: ||W||_2 = 2 with sigma = 8 contracts at most steps and on average; with sigma = 0 never."""
    d = chapter.contraction(2.0, 8.0)
    assert d.fraction_below > 0.5 and d.mean_rate < 1
    assert np.min(d.distance) < 1e-12
    z = chapter.contraction(2.0, 0.0)
    assert z.fraction_below == 0.0 and np.allclose(z.factors, 2.0)
    assert z.distance[-1] > 0.1
    assert chapter.contraction(0.9, 0.0).fraction_below == 1.0


@FAST
@given(st.floats(0.1, 0.99), st.floats(0.0, 20.0))
def test_provably_stable_weights_contract_at_every_step(norm, scale):
    assert np.all(chapter.contraction(norm, scale).factors <= norm + 1e-12)


def _corners(controls):
    out = []
    for c in controls:
        values = set(c.values)
        if c.live is not None:
            values |= set(c.live)
        out.append(sorted(values, key=str) if not c.numeric else sorted(values))
    return itertools.product(*out)


@pytest.mark.parametrize("maker,compute", [
    (explorers.descent, chapter.descent),
    (explorers.contraction, chapter.contraction),
])
def test_explorers_at_every_grid_point_and_live_corner(maker, compute):
    ex = maker()
    names = [c.name for c in ex.controls]
    n_traces = len(ex.render().data)
    for combo in _corners(ex.controls):
        fig = ex.figure(compute(**dict(zip(names, combo))))
        assert len(fig.data) == n_traces
        for trace in fig.data:
            for key in ("x", "y"):
                values = getattr(trace, key)
                if values is not None:
                    arr = np.array([np.nan if v is None else v for v in values], dtype=float)
                    assert not np.any(np.isinf(arr))
    fig = ex.static_figure()
    assert len(fig.frames) == np.prod([len(c.values) for c in ex.controls])


def test_contraction_data_is_finite_at_live_corners():
    for norm, scale in itertools.product((0.1, 5.0), (0.0, 20.0)):
        d = chapter.contraction(norm, scale)
        assert np.all(np.isfinite(d.factors)) and np.all(np.isfinite(d.distance)) and np.isfinite(d.mean_rate)


def test_bad_arguments_raise_value_errors():
    with pytest.raises(ValueError, match="a0"):
        chapter.descent(1.5)
    with pytest.raises(ValueError, match="remedy"):
        chapter.descent(1.0, "momentum")
    with pytest.raises(ValueError, match="norm"):
        chapter.contraction(0.0, 1.0)
    with pytest.raises(ValueError, match="input_scale"):
        chapter.contraction(1.0, -1.0)
    with pytest.raises(ValueError, match="clip"):
        chapter.scalar_gradient_descent(0.5, np.ones(3), np.ones(3), clip=0.0)
    with pytest.raises(ValueError, match="bound"):
        chapter.scalar_gradient_descent(0.5, np.ones(3), np.ones(3), bound=1.5)
    with pytest.raises(ValueError, match="y"):
        chapter.scalar_gradient_descent(0.5, np.ones(3), np.ones(4))


# -- the chapter's worked numbers ---------------------------------------------------------------------


def test_sections_give_every_value_the_chapter_glues():
    values = check_sections("instability", {
        "gradient_growth": lambda: chapter.gradient_growth(a=1.1, horizon=80),
        "descent_runs": lambda: chapter.descent_runs(),
        "contraction_cases": lambda: chapter.contraction_cases(),
    })
    assert values["plain_div"] == 2 and values["steps"] == chapter.STEPS
    assert values["clip_final"] == values["proj_final"] == f"{chapter.A_STAR:.3f}"
    assert values["frac_2_0"] == "0" and values["frac_09_0"] == "100"
