"""Chapter 9 (stablernn.chapters.memory): the context-length explorer over a synthetic and the committed
``truncation`` results, the claims the chapter states about the committed ``truncation`` and
``datastability`` results, and its worked numbers."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from conftest import check_sections
from stablernn.chapters import memory as chapter
from stablernn.dynamics import smallest_k_within
from stablernn.experiments import schema
from stablernn.presentation import explorers

ROOT = Path(__file__).resolve().parents[1]


# -- the context-length explorer ----------------------------------------------------------------
def _synthetic_truncation() -> dict:
    ks = [1, 2, 4, 8, 16]
    rows = []
    for e, metric, full in (("music", "nll", 8.5), ("wordlm", "perplexity", 150.0)):
        for j, m in enumerate(("tanh", "tanh-stable", "lstm", "lstm-stable")):
            values = [full * (1 + 0.5 / (k ** (1 + j / 2))) for k in ks]
            rows.append({"experiment": e, "model": m, "seed": 0, "metric": metric, "k": ks, "values": values, "full": full,
                         "relative_gap": [v / full - 1 for v in values],
                         "k_within": smallest_k_within(ks, values, full), "source": "trained"})
    meta = {"command": "python -m stablernn.experiments truncation", "stablernn_version": "0", "git_commit": "x",
            "date": "2026-01-01T00:00:00+00:00", "seconds": 1.0,
            "machine": {"platform": "p", "device": "cpu", "cpu_count": 1, "torch": "t"}}
    return schema.validate({"name": "truncation", "quick": True, "config": {}, "published": None, "meta": meta,
                            "metrics": {"tolerance": 0.01, "models": rows, "seeds": rows}})


def _all_truncation_results() -> list[dict]:
    out = [_synthetic_truncation()]
    if (ROOT / "results" / "truncation.json").exists():
        out.append(schema.load("truncation", ROOT / "results"))
    return out


@pytest.mark.parametrize("results", _all_truncation_results())
def test_context_length_explorer_every_grid_point(results):
    for k in chapter.grid(results):
        d = chapter.context_length(results, k)
        for e in d.curves:
            for ks, ratio in d.curves[e].values():
                assert np.all(np.isfinite(ratio)) and np.all(ratio > 0)
            assert all(v is None or np.isfinite(v) for v in d.at_k[e])
            assert np.all(np.isfinite(d.y_range[e]))
    assert len(explorers.context_length(results).static_figure().frames) == len(chapter.grid(results))


def test_context_length_explorer_counts_models_within_tolerance():
    results = _synthetic_truncation()
    for k in chapter.grid(results):
        d = chapter.context_length(results, k)
        for e in ("music", "wordlm"):
            rows = [r for r in results["metrics"]["models"] if r["experiment"] == e]
            assert d.within[e] == sum(r["k_within"] is not None and r["k_within"] <= k for r in rows)


def test_context_length_explorer_rejects_bad_input():
    results = _synthetic_truncation()
    with pytest.raises(ValueError, match="k"):
        chapter.context_length(results, 3)
    with pytest.raises(TypeError, match="results"):
        chapter.context_length({"name": "music"}, 1)
    bad = copy.deepcopy(results)
    bad["metrics"]["models"][0]["full"] = -1
    with pytest.raises(schema.ResultsError):
        explorers.context_length(bad)


# -- claims that Chapters 8 and 9 state about the committed results ---------------------------
def _committed(name: str) -> dict:
    if not (ROOT / "results" / f"{name}.json").exists():
        pytest.skip(f"results/{name}.json not committed yet")
    return schema.load(name, ROOT / "results")


def test_chapter9_claims_truncation():
    """Chapter 9, §9.2: over every seed, every model reaches the tolerance long before the longest
    context; the twin counts the answers quote are the per-seed comparisons of stable and unconstrained
    models with the same seed."""
    from stablernn.experiments.report import truncation_values

    results = _committed("truncation")
    rows = results["metrics"]["seeds"]
    for r in rows:
        assert r["k_within"] is not None and r["k_within"] <= r["k"][-1] // 4, (r["experiment"], r["model"], r["seed"])
    k = {(r["experiment"], r["model"], r["seed"]): r["k_within"] for r in rows}
    pairs = [(k[e, f"{kind}-stable", s], k[e, kind, s]) for (e, m, s) in k if m in ("tanh", "lstm")
             for kind in (m,)]
    values = truncation_values(results)
    assert int(values["tr_twins"]) == len(pairs)
    assert int(values["tr_twins_longer"]) == sum(a > b for a, b in pairs)
    assert int(values["tr_twins_shorter"]) == sum(a < b for a, b in pairs)


def test_chapter9_claims_datastability():
    """Chapter 9, §9.3: unconstrained models have median one-step factor above 1 and stable tanh RNNs
    below 1 at every step; the stable LSTMs are certified, their forget gates stay below the enforced
    bound along the data and no measured l_inf step exceeds the certified lambda; the unconstrained
    tanh RNN's gradient shrinks at a mean rate below 1."""
    from stablernn.experiments.report import gradient_rate

    rows = _committed("datastability")["metrics"]["models"]
    by = {(r["experiment"], r["model"]): r for r in rows}
    for experiment in {r["experiment"] for r in rows}:
        for kind in ("tanh", "lstm"):
            assert by[(experiment, kind)]["contraction"]["median"] > 1
        assert by[(experiment, "tanh-stable")]["contraction"]["max"] < 1
        stable = by[(experiment, "lstm-stable")]
        assert stable["certificate"]["holds"] and stable["forget_gate_max"] <= 0.5
        assert stable["contraction_linf"]["max"] <= stable["certificate"]["lam"]
        assert not by[(experiment, "lstm")]["certificate"]["holds"]
        assert gradient_rate(by[(experiment, "tanh")]["gradient_vs_lag"]["norms"]) < 1
        for r in rows:
            g = r["gradient_vs_lag"]
            assert np.all(np.asarray(g["low"]) <= np.asarray(g["norms"]) * (1 + 1e-9))
            assert np.all(np.asarray(g["norms"]) <= np.asarray(g["high"]) * (1 + 1e-9))


def test_prose_makes_no_claim_the_results_do_not_support():
    from conftest import chapter_notebook

    prose = "\n".join("".join(c["source"]) for c in chapter_notebook("memory")["cells"] if c["cell_type"] == "markdown")
    for claim in ("never needs more context", "guaranteed rate;", "for\nevery model:", "orders of magnitude within",
                  "never longer for the"):
        assert claim not in prose, claim


def test_context_length_explorer_live_face_updates():
    box = explorers.context_length(_synthetic_truncation()).widget()
    box.explorer_inputs["k"].value = 1
    first = box.explorer_figure.layout.title.text
    box.explorer_inputs["k"].value = 16
    assert box.explorer_figure.layout.title.text != first and "Context k = 16" in box.explorer_figure.layout.title.text


# -- the chapter's worked numbers ---------------------------------------------------------------------


def test_sections_give_every_value_the_chapter_glues():
    truncation, datastability = chapter.load_results(ROOT / "results")
    values = check_sections("memory", {"results_section": lambda: chapter.results_section(truncation, datastability)})
    assert truncation["meta"]["command"] in values["tr_source"]
