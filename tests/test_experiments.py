"""Part III experiments: the quick runs end to end, the results schema, committed results files.

The four ``--quick`` runs share one model cache (``truncation`` and ``datastability`` reuse the
models that ``music`` and ``wordlm`` trained) and use a small generated corpus for the word LMs.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from stablernn.experiments import EXPERIMENTS, schema
from stablernn.experiments.__main__ import main

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"


def _write_corpus(folder: Path, seed: int = 0) -> Path:
    """A tiny corpus in the PTB layout: sentences from a random bigram chain over 40 words."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(40)]
    nxt = rng.dirichlet(np.full(40, 0.3), size=40)
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", 500), ("valid", 120), ("test", 120)):
        lines = []
        for _ in range(n):
            w, sent = rng.integers(40), []
            for _ in range(rng.integers(4, 14)):
                sent.append(words[w])
                w = rng.choice(40, p=nxt[w])
            lines.append(" ".join(sent))
        (folder / f"{split}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory) -> dict[str, dict]:
    """Run every experiment with --quick into a temporary folder; return the parsed results."""
    base = tmp_path_factory.mktemp("experiments")
    corpus = _write_corpus(base / "corpus")
    threads = torch.get_num_threads()
    common = ["--quick", "--out", str(base / "out"), "--cache", str(base / "models"), "--threads", "1",
              "--no-progress"]
    try:
        for name in EXPERIMENTS:
            extra = {"wordlm": ["--data", str(corpus)], "truncation": ["--corpus", str(corpus)],
                     "datastability": ["--corpus", str(corpus)]}.get(name, [])
            main([name, *common, *extra])
    finally:
        torch.set_num_threads(threads)
    return {name: json.loads((base / "out" / f"{name}.json").read_text()) for name in EXPERIMENTS}


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_quick_run_writes_valid_results(quick_results, name):
    results = quick_results[name]
    schema.validate(results)
    assert results["quick"] is True and results["name"] == name
    meta = results["meta"]
    assert meta["command"].startswith(f"python -m stablernn.experiments {name} --quick")
    assert not any(token.startswith("/") for token in meta["command"].split())  # shortened to PATH/<name>
    assert meta["seconds"] > 0 and meta["machine"]["device"] == "cpu"


def test_reuse_of_trained_models(quick_results):
    """truncation and datastability reload the models music and wordlm trained (same configuration)."""
    for name in ("truncation", "datastability"):
        sources = {row["source"] for row in quick_results[name]["metrics"]["models"]}
        assert sources == {"cache"}


def test_stable_models_satisfy_their_condition(quick_results):
    """Projection after every step leaves the stable tanh RNN with spectral norm at most max_norm."""
    for name in ("music", "wordlm"):
        res = quick_results[name]
        rows = {r["model"]: r for r in res["metrics"]["models"]}
        assert rows["tanh-stable"]["weights"]["spectral_norm_W"] <= res["config"]["max_norm"] + 1e-4
        # the spectral radius never exceeds the spectral norm
        for label in ("tanh", "tanh-stable"):
            w = rows[label]["weights"]
            assert w["spectral_radius_W"] <= w["spectral_norm_W"] + 1e-6


def test_relative_change_is_the_ratio_of_the_table(quick_results):
    for name, key in (("music", "test_nll"), ("wordlm", "test_ppl")):
        rows = {r["model"]: r[key] for r in quick_results[name]["metrics"]["models"]}
        for kind in ("tanh", "lstm"):
            assert quick_results[name]["metrics"]["relative_change"][kind] == pytest.approx(
                rows[f"{kind}-stable"] / rows[kind], rel=1e-4)


def test_truncation_full_context_matches_experiment(quick_results):
    """The sweep's full-context NLL equals the music experiment's test NLL for the same cached models."""
    music = {r["model"]: r["test_nll"] for r in quick_results["music"]["metrics"]["models"]}
    for row in quick_results["truncation"]["metrics"]["models"]:
        if row["experiment"] == "music":
            assert row["full"] == pytest.approx(music[row["model"]], rel=1e-4)


def _corruptions(results: dict):
    """(description, corrupted copy) pairs that the schema must reject."""
    def edit(fn):
        bad = copy.deepcopy(results)
        fn(bad)
        return bad

    yield "missing meta", edit(lambda r: r.pop("meta"))
    yield "wrong name", edit(lambda r: r.__setitem__("name", "nonsense"))
    yield "date not a date", edit(lambda r: r["meta"].__setitem__("date", "yesterday"))
    key = {"music": "test_nll", "wordlm": "test_ppl", "truncation": "full", "datastability": "contraction"}
    yield "metric not a number", edit(lambda r: r["metrics"]["models"][0].__setitem__(key[r["name"]], None))
    yield "negative metric", edit(lambda r: r["metrics"]["models"][0].__setitem__(key[r["name"]], -1.0))
    yield "no models", edit(lambda r: r["metrics"].__setitem__("models", []))


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_corrupted_results_are_rejected(quick_results, name, tmp_path):
    for what, bad in _corruptions(quick_results[name]):
        with pytest.raises(schema.ResultsError):
            schema.validate(bad)
        (tmp_path / f"{name}.json").write_text(json.dumps(bad))
        with pytest.raises(schema.ResultsError):
            schema.load(name, tmp_path)


def test_truncation_k_within_must_match_values(quick_results):
    bad = copy.deepcopy(quick_results["truncation"])
    row = bad["metrics"]["models"][0]
    row["k_within"] = row["k"][-1] if row["k_within"] != row["k"][-1] else row["k"][0]
    with pytest.raises(schema.ResultsError, match="k_within"):
        schema.validate(bad)


def test_load_reports_missing_and_unreadable_files(tmp_path):
    with pytest.raises(schema.ResultsError, match="python -m stablernn.experiments music"):
        schema.load("music", tmp_path)
    (tmp_path / "music.json").write_text("{ not json")
    with pytest.raises(schema.ResultsError, match="cannot be read"):
        schema.load("music", tmp_path)
    with pytest.raises(ValueError, match="name"):
        schema.load("nonsense", tmp_path)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_committed_results_are_valid_full_runs(name):
    path = RESULTS / f"{name}.json"
    if not path.exists():
        pytest.skip(f"results/{name}.json not committed yet")
    results = schema.load(name, RESULTS)
    assert results["quick"] is False
    assert not any(token.startswith("/") for token in results["meta"]["command"].split())  # no machine paths
    labels = [(r.get("experiment", name), r["model"]) for r in results["metrics"]["models"]]
    assert len(labels) == len(set(labels))  # every model reported once


def test_cli_rejects_unknown_experiment_and_device():
    with pytest.raises(SystemExit):
        main(["nonsense"])
    with pytest.raises(SystemExit):
        main(["music", "--device", "tpu"])


def test_report_values_for_the_chapters(quick_results):
    """Every glued value is a string and every caption names the command, the date and the commit."""
    from stablernn.experiments import report

    values = {**report.music_values(quick_results["music"]), **report.wordlm_values(quick_results["wordlm"]),
              **report.truncation_values(quick_results["truncation"]),
              **report.datastability_values(quick_results["datastability"])}
    assert all(isinstance(v, str) and v for v in values.values())
    for name in EXPERIMENTS:
        line = report.source_line(quick_results[name])
        meta = quick_results[name]["meta"]
        assert meta["command"] in line and meta["date"][:10] in line and meta["git_commit"][:7] in line
    rows = {r["model"]: r for r in quick_results["music"]["metrics"]["models"]}
    assert values["mu_tanh_test"] == f"{rows['tanh']['test_nll']:.2f}"


def test_quick_music_beats_independent_keys(quick_results):
    """Chapter 8, §8.5: seconds of training already take every model below the independent-keys baseline."""
    music = quick_results["music"]["metrics"]
    assert all(r["test_nll"] < music["baselines"]["bernoulli"] for r in music["models"])
