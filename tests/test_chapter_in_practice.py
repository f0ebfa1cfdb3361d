"""Chapter 8 (stablernn.chapters.in_practice): the explorer of unconstrained and stable runs, the claims
the chapter states about the committed results of ``music`` and ``wordlm``, and its worked numbers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from conftest import ROOT, chapter_notebook, check_sections
from reference import MILLER_HARDT_PERPLEXITY
from stablernn.chapters import in_practice as chapter
from stablernn.experiments import schema
from stablernn.presentation import explorers

MUSIC, WORDLM, JSB = chapter.load_results(ROOT / "results")
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
    assert d.norm["stable"] < 1  # "the stable one at its bound below 1"


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
    """Chapter 8, §8.2 and §8.4: every model of every seed beats the one-frame baseline; the unconstrained
    tanh RNN ends with spectral norm above 1, the stable one at its bound; the stable LSTMs are certified
    from their weights and the unconstrained ones are not."""
    logistic = MUSIC["metrics"]["baselines"]["logistic_previous_frame"]
    assert all(r["test_nll"] < logistic < MUSIC["metrics"]["baselines"]["bernoulli"] for r in MUSIC["metrics"]["seeds"])
    rows = {r["model"]: r for r in MUSIC["metrics"]["models"]}
    assert rows["tanh"]["weights"]["spectral_norm_W"] > 1
    assert rows["tanh-stable"]["weights"]["spectral_norm_W"] <= MUSIC["config"]["max_norm"] + 1e-4
    for results in (MUSIC, WORDLM):
        for r in results["metrics"]["seeds"]:
            if r["model"].startswith("lstm"):
                assert r["certificate"]["holds"] == r["model"].endswith("stable"), (r["model"], r["seed"])


def test_chapter8_claims_wordlm():
    """Chapter 8, §8.3: the paper's numbers are as quoted; the unconstrained tanh RNN is not certified."""
    rows = {r["model"]: r for r in WORDLM["metrics"]["models"]}
    assert rows["tanh"]["weights"]["spectral_norm_W"] > 1
    published = WORDLM["published"]
    assert published["values"] == MILLER_HARDT_PERPLEXITY
    for kind, ppl in MILLER_HARDT_PERPLEXITY.items():
        assert published["relative_change"][kind] == pytest.approx(ppl["stable"] / ppl["unstable"], rel=1e-4)


def _per_seed_ratio(results: dict, kind: str, metric: str) -> np.ndarray:
    by = {(r["model"], r["seed"]): r[metric] for r in results["metrics"]["seeds"]}
    seeds = sorted({r["seed"] for r in results["metrics"]["seeds"]})
    return np.array([by[f"{kind}-stable", s] / by[kind, s] for s in seeds])


def test_prose_calls_a_difference_a_finding_only_beyond_the_spread():
    """Every stable / unstable comparison the chapter states is a glued verdict, recomputed here from
    the per-seed rows: a finding only when the mean ratio differs from 1 by more than twice the standard
    deviation over seeds. The prose states no comparison in words of its own."""
    values = chapter.results_section(MUSIC, WORDLM, JSB).values
    for prefix, results, metric in (("mu", MUSIC, "test_nll"), ("wl", WORDLM, "test_ppl"), ("jb", JSB, "test_nll")):
        if results is None:
            continue
        for kind in ("tanh", "lstm"):
            ratios = _per_seed_ratio(results, kind, metric)
            finding = abs(ratios.mean() - 1) > 2 * ratios.std(ddof=1)
            assert ("beyond the spread" in values[f"{prefix}_{kind}_verdict"]) == finding, (prefix, kind, ratios)
    by = {(r["model"], r["seed"]): r["test_ppl"] for r in WORDLM["metrics"]["seeds"]}
    gap = np.array([by["lstm", s] / by["tanh", s] for s in WORDLM["metrics"]["spread"]["seeds"]])
    beats = gap.mean() < 1 and abs(gap.mean() - 1) > 2 * gap.std(ddof=1)
    assert values["wl_lstm_beats_tanh"].startswith("beats") == beats
    prose = "\n".join("".join(c["source"]) for c in chapter_notebook("in_practice")["cells"] if c["cell_type"] == "markdown")
    for claim in ("costs nothing", "not worse", "did not cost", "as Miller & Hardt found", "slightly *better*"):
        assert claim not in prose, claim


# -- the chapter's worked numbers ---------------------------------------------------------------------


def test_results_section_quotes_the_results_files():
    section = chapter.results_section(MUSIC, WORDLM, JSB)
    rows = {r["model"]: r for r in MUSIC["metrics"]["models"]}
    assert section.values["mu_tanh_test"] == f"{rows['tanh']['test_nll']:.2f}"
    assert set(section.markdown) == {"mu_source", "wl_source", "jb_source"}
    assert MUSIC["meta"]["command"] in section.markdown["mu_source"]
    ratio = MILLER_HARDT_PERPLEXITY["lstm"]["stable"] / MILLER_HARDT_PERPLEXITY["lstm"]["unstable"]
    assert section.values["wl_lstm_paper_ratio"] == f"{ratio:.3f}"


@pytest.mark.slow  # trains the quick music configuration (seconds; parses a few chorales on a cold cache)
def test_sections_give_every_value_the_chapter_glues():
    values = check_sections("in_practice", {
        "results_section": lambda: chapter.results_section(MUSIC, WORDLM, JSB),
        "quick_run": lambda: chapter.quick_run(),
    })
    assert all(float(values[f"q_{k}"]) < float(values["q_bernoulli"]) for k in ("tanh", "tanh_stable", "lstm", "lstm_stable"))


def test_the_stopping_sentence_counts_every_run_and_says_when_the_cap_cut_training():
    from stablernn.experiments.report import stopping_text

    def results(stops, epochs):
        rows = [{"model": "tanh", "seed": i, "test_ppl": 1.0, "source": "trained", "stopped": s, "epochs": e}
                for i, (s, e) in enumerate(zip(stops, epochs))]
        return {"config": {"max_epochs": 10, "evals_per_epoch": 2}, "metrics": {"seeds": rows, "models": []}}

    text, run = stopping_text(results(["patience"] * 3, [4.5, 5, 7]))
    assert text.startswith("all 3 runs stopped by the rule, after 4.5 to 7 epochs") and run == "4.5 to 7"
    text, _ = stopping_text(results(["patience", "max_epochs", "patience"], [5, 10, 6]))
    assert text.startswith("2 of the 3 runs stopped by the rule and 1 reached the 10-epoch cap")
    text, _ = stopping_text(results(["max_epochs"] * 2, [10, 10]))
    assert "not trained to convergence" in text


def test_the_committed_word_lm_results_say_how_training_ended():
    from stablernn.experiments.report import stopping_text

    wordlm = schema.load("wordlm", ROOT / "results")
    text, _ = stopping_text(wordlm)
    stopped = [r.get("stopped") for r in wordlm["metrics"]["seeds"]]
    if all(s == "patience" for s in stopped):
        assert text.startswith(f"all {len(stopped)} runs stopped by the rule")
    else:
        assert "not trained to convergence" in text
