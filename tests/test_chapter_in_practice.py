"""Chapter 8 (stablernn.chapters.in_practice): the explorer of unconstrained and stable runs, the claims
the chapter states about the committed results of ``music`` and ``wordlm``, and its worked numbers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from conftest import ROOT, check_sections
from reference import MILLER_HARDT_PERPLEXITY
from stablernn.chapters import in_practice as chapter
from stablernn.experiments import schema
from stablernn.presentation import explorers

MUSIC, WORDLM = chapter.load_results(ROOT / "results")
PAIRS = list(itertools.product(chapter.EXPERIMENTS, chapter.MODELS))


@pytest.mark.parametrize("experiment, model", PAIRS)
def test_every_pair_is_finite_and_projection_holds_the_constrained_norm(experiment, model):
    d = chapter.pair(MUSIC, WORDLM, experiment, model)
    for run in ("unconstrained", "stable"):
        assert np.all(np.isfinite(d.valid[run])) and len(d.x[run]) == len(d.valid[run])
    # the chapter's claim: the stable run sits at its bound, the unconstrained one far past it
    assert d.norm["stable"] < 1.0 < d.norm["unconstrained"]


def test_try_it_answer_lstm_on_music():
    d = chapter.pair(MUSIC, WORDLM, "music", "LSTM")
    assert d.norm["unconstrained"] > 10  # "several tens"
    assert d.test["stable"] <= d.test["unconstrained"]  # bounding the blocks did not cost test NLL


def test_static_face_has_one_frame_per_pair_and_switches_axis_scale():
    fig = explorers.training_pairs(MUSIC, WORDLM).static_figure()
    assert len(fig.frames) == 4 and len(fig.layout.sliders) == 2
    scales = {f.name.split("|")[0]: f.layout.yaxis.type for f in fig.frames}
    assert scales == {"music": "linear", "word LM": "log"}


@pytest.mark.parametrize("kwargs, name", [({"experiment": "speech"}, "experiment"), ({"model": "GRU"}, "model")])
def test_bad_choices_are_rejected(kwargs, name):
    with pytest.raises(ValueError, match=name):
        chapter.pair(MUSIC, WORDLM, **kwargs)


def test_results_must_be_dictionaries():
    with pytest.raises(TypeError, match="results dictionary"):
        chapter.pair(MUSIC, [], "word LM", "LSTM")


def test_missing_results_name_the_command(tmp_path):
    with pytest.raises(schema.ResultsError, match="python -m stablernn.experiments music"):
        chapter.load_results(tmp_path)


# -- claims that Chapter 8 states about the committed results ----------------------------------------


def test_chapter8_claims_music():
    """Chapter 8, §8.2 and §8.4: every model beats the one-frame baseline; stable/unstable ratios
    below 1 and within a few percent of it; stable models reach their best epoch sooner; the
    unconstrained tanh RNN ends with spectral norm above 1."""
    rows = {r["model"]: r for r in MUSIC["metrics"]["models"]}
    logistic = MUSIC["metrics"]["baselines"]["logistic_previous_frame"]
    assert all(r["test_nll"] < logistic < MUSIC["metrics"]["baselines"]["bernoulli"] for r in rows.values())
    for kind in ("tanh", "lstm"):
        assert 0.9 < MUSIC["metrics"]["relative_change"][kind] < 1.0
        assert rows[f"{kind}-stable"]["history"]["best_epoch"] < rows[kind]["history"]["best_epoch"]
    assert rows["tanh"]["weights"]["spectral_norm_W"] > 1
    assert rows["tanh-stable"]["weights"]["spectral_norm_W"] <= MUSIC["config"]["max_norm"] + 1e-4


def test_chapter8_claims_wordlm():
    """Chapter 8, §8.3 and §8.4: ratios within a few percent of 1 (stable tanh RNN slightly worse,
    stable LSTM on par); the stable models ahead at the first validation point, the unconstrained
    ones caught up (within 2 %) by the end; the paper's numbers are as quoted."""
    rows = {r["model"]: r for r in WORDLM["metrics"]["models"]}
    ratio = WORDLM["metrics"]["relative_change"]
    assert 1.0 < ratio["tanh"] < 1.05 and abs(ratio["lstm"] - 1) < 0.01
    for kind in ("tanh", "lstm"):
        stable, free = rows[f"{kind}-stable"]["history"]["valid_ppl"], rows[kind]["history"]["valid_ppl"]
        assert stable[0] < free[0] and abs(stable[-1] / free[-1] - 1) < 0.02
    assert rows["tanh"]["weights"]["spectral_norm_W"] > 1
    published = WORDLM["published"]
    assert published["values"] == MILLER_HARDT_PERPLEXITY
    for kind, ppl in MILLER_HARDT_PERPLEXITY.items():
        assert published["relative_change"][kind] == pytest.approx(ppl["stable"] / ppl["unstable"], rel=1e-4)


# -- the chapter's worked numbers ---------------------------------------------------------------------


def test_results_section_quotes_the_results_files():
    section = chapter.results_section(MUSIC, WORDLM)
    rows = {r["model"]: r for r in MUSIC["metrics"]["models"]}
    assert section.values["mu_tanh_test"] == f"{rows['tanh']['test_nll']:.2f}"
    assert set(section.markdown) == {"mu_source", "wl_source"}
    assert MUSIC["meta"]["command"] in section.markdown["mu_source"]
    ratio = MILLER_HARDT_PERPLEXITY["lstm"]["stable"] / MILLER_HARDT_PERPLEXITY["lstm"]["unstable"]
    assert section.values["wl_lstm_paper_ratio"] == f"{ratio:.3f}"


@pytest.mark.slow  # trains the quick music configuration (seconds; parses a few chorales on a cold cache)
def test_sections_give_every_value_the_chapter_glues():
    values = check_sections("in_practice", {
        "results_section": lambda: chapter.results_section(MUSIC, WORDLM),
        "quick_run": lambda: chapter.quick_run(),
    })
    assert all(float(values[f"q_{k}"]) < float(values["q_bernoulli"]) for k in ("tanh", "tanh_stable", "lstm", "lstm_stable"))
