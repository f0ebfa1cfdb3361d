"""Chapter 8's explorer of unconstrained and stable runs, on the committed results."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from conftest import ROOT
from stablernn.explorers import practice

MUSIC = json.loads((ROOT / "results" / "music.json").read_text())
WORDLM = json.loads((ROOT / "results" / "wordlm.json").read_text())
PAIRS = list(itertools.product(practice.EXPERIMENTS, practice.MODELS))


@pytest.mark.parametrize("experiment, model", PAIRS)
def test_every_pair_is_finite_and_projection_holds_the_constrained_norm(experiment, model):
    d = practice.compute(MUSIC, WORDLM, experiment, model)
    for run in ("unconstrained", "stable"):
        assert np.all(np.isfinite(d.valid[run])) and len(d.x[run]) == len(d.valid[run])
    # the chapter's claim: the stable run sits at its bound, the unconstrained one far past it
    assert d.norm["stable"] < 1.0 < d.norm["unconstrained"]


def test_try_it_answer_lstm_on_music():
    d = practice.compute(MUSIC, WORDLM, "music", "LSTM")
    assert d.norm["unconstrained"] > 10  # "several tens"
    assert d.test["stable"] <= d.test["unconstrained"]  # bounding the blocks did not cost test NLL


def test_static_face_has_one_frame_per_pair_and_switches_axis_scale():
    fig = practice.explorer(MUSIC, WORDLM).static_figure()
    assert len(fig.frames) == 4 and len(fig.layout.sliders) == 2
    scales = {f.name.split("|")[0]: f.layout.yaxis.type for f in fig.frames}
    assert scales == {"music": "linear", "word LM": "log"}


@pytest.mark.parametrize("kwargs, name", [({"experiment": "speech"}, "experiment"), ({"model": "GRU"}, "model")])
def test_bad_choices_are_rejected(kwargs, name):
    with pytest.raises(ValueError, match=name):
        practice.compute(MUSIC, WORDLM, **kwargs)


def test_results_must_be_dictionaries():
    with pytest.raises(TypeError, match="results dictionary"):
        practice.compute(MUSIC, [], "word LM", "LSTM")
