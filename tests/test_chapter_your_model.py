"""Chapter 10 (stablernn.chapters.your_model): every glued value from a small configuration, the twins'
shared initialisation, the rule that decides what counts as a difference, and the Part III table read
from the committed results."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import ROOT, check_sections
from stablernn.chapters import your_model as chapter
from stablernn.experiments import schema


@pytest.fixture(scope="module")
def small():
    """The chapter's runs with a tiny configuration (a few chorales, a few epochs), caches cleared."""
    saved = dict(chapter.CONFIG)
    chapter.CONFIG.update(train=6, valid=3, epochs=3, patience=None, ks=(1, 2, 4, 8), lags=8, compare_lag=4)
    chapter.data.cache_clear()
    chapter.runs.cache_clear()
    torch.set_num_threads(1)
    yield chapter.runs()
    chapter.CONFIG.clear()
    chapter.CONFIG.update(saved)
    chapter.data.cache_clear()
    chapter.runs.cache_clear()


def test_every_glued_value_is_given(small):
    check_sections("your_model", {
        "training_section": chapter.training_section, "certificate_section": chapter.certificate_section,
        "contraction_section": chapter.contraction_section, "gradient_section": chapter.gradient_section,
        "truncation_section": chapter.truncation_section, "cost_section": chapter.cost_section,
        "comparison_section": chapter.comparison_section,
        "part3_section": lambda: chapter.part3_section(ROOT / "results")})
    assert len(small) == 2 * len(chapter.CONFIG["seeds"]) + 1


def test_the_stable_rnn_is_certified_and_the_lstms_are_diagnosed(small):
    values = chapter.certificate_section().values
    assert values["ym_cert_rnn"] == "holds" and float(values["ym_cert_rnn_lam"]) <= chapter.CONFIG["stable_norm"]
    for (name, _), run in small.items():
        d = run["diagnosis"]
        assert d.data["sequences"] == chapter.data()["test"][0].shape[0] and d.model["kind"] in ("lstm", "rnn-tanh")


def test_twins_start_from_the_same_weights():
    for seed in chapter.CONFIG["seeds"]:
        a = chapter.initial_model(chapter.FULL, seed).state_dict()
        b = chapter.initial_model(chapter.TBPTT, seed).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a)
    other = chapter.initial_model(chapter.FULL, 1).state_dict()
    assert not torch.equal(a["rnn.weight_hh_l0"], other["rnn.weight_hh_l0"]) or seed == 1


def test_a_difference_counts_only_beyond_twice_the_combined_spread():
    assert chapter.exceeds_spread([1.0, 1.1, 0.9], [3.0, 3.1, 2.9])
    assert not chapter.exceeds_spread([1.0, 1.1, 0.9], [1.2, 1.3, 1.1])  # the sets do not overlap, yet too close
    assert not chapter.exceeds_spread([1.0, 2.0, 3.0], [2.0, 3.0, 4.0])
    assert not chapter.exceeds_spread([4.0, 4.0, np.inf], [8.0, 8.0, 8.0])  # a run with no k: no claim


def test_part3_table_follows_the_results_files():
    stab = schema.load("datastability", ROOT / "results")
    rows = stab["metrics"]["models"]
    tanh = sum(r["weights"]["spectral_norm_W"] < 1 for r in rows if "spectral_norm_W" in r["weights"])
    lstm = sum(r["certificate"]["holds"] for r in rows if r["model"].startswith("lstm"))
    values = chapter.part3_section(ROOT / "results").values
    assert values["ym_p3_certified"] == tanh + lstm
    assert {r["model"] for r in rows if r["model"].startswith("lstm") and r["certificate"]["holds"]} == {"lstm-stable"}
    assert values["ym_p3_models"] == len(stab["metrics"]["models"])
