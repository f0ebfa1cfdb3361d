"""Tests of stablernn.experiments: the quick runs end to end, the results schema, committed results
files, the measurements of ``datastability`` (unrolled states, Jacobians, gradients against lag),
saved checkpoints and the report's values.

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

from stablernn import linalg
from stablernn.experiments import EXPERIMENTS, checkpoints, schema
from stablernn.models import LABELS
from stablernn.experiments import datastability as ds
from stablernn.experiments.__main__ import main
from stablernn.experiments.report import gradient_rate
from stablernn.models import LABELS, build_model
from stablernn.train import train

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


def test_relative_change_is_the_mean_of_the_per_seed_ratios(quick_results):
    """Every model is trained for every seed; the ratio stable / unstable is taken per seed (twins share
    their initialisation) and reported as mean and sample standard deviation."""
    for name, key in (("music", "test_nll"), ("wordlm", "test_ppl")):
        m = quick_results[name]["metrics"]
        seeds = quick_results[name]["config"]["seeds"]
        by = {(r["model"], r["seed"]): r[key] for r in m["seeds"]}
        assert set(by) == {(label, s) for label in LABELS for s in seeds}
        for kind in ("tanh", "lstm"):
            ratios = np.array([by[f"{kind}-stable", s] / by[kind, s] for s in seeds])
            spread = m["spread"]["ratio"][kind]
            assert spread["mean"] == pytest.approx(ratios.mean(), rel=1e-4)
            assert spread["sd"] == pytest.approx(ratios.std(ddof=1), rel=1e-3, abs=1e-6)
            assert m["relative_change"][kind] == pytest.approx(ratios.mean(), rel=1e-4)
        first = {r["model"]: r[key] for r in m["models"]}
        assert first == pytest.approx({label: by[label, min(seeds)] for label in LABELS}, rel=1e-6)


def test_twins_start_from_the_same_weights():
    """The unconstrained and the stable model of one kind and seed share their initialisation
    (the stable one is then projected): the input weights, which no projection touches, are equal."""
    from stablernn.models import build_model

    for kind in ("tanh", "lstm"):
        a, b = build_model(kind, 5, 8, 5, seed=3), build_model(f"{kind}-stable", 5, 8, 5, seed=3)
        assert torch.equal(a.rnn.weight_ih_l0, b.rnn.weight_ih_l0) and torch.equal(a.readout.weight, b.readout.weight)


def test_the_rule_for_a_finding():
    from stablernn.experiments._common import ratio_is_a_finding, spread

    assert ratio_is_a_finding(spread([0.95, 0.96, 0.94]))
    assert not ratio_is_a_finding(spread([0.97, 1.01, 0.99]))  # a 1 % mean change inside a 2 % spread
    assert not ratio_is_a_finding(spread([0.9]))  # one seed is never a finding


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
    assert not any(token.startswith(("/", "..")) for token in results["meta"]["command"].split())  # no machine paths
    labels = [(r.get("experiment", name), r["model"]) for r in results["metrics"]["models"]]
    assert len(labels) == len(set(labels))  # every model reported once
    minimum = {"music": 5, "wordlm": 3}  # seeds behind every comparison the book states
    if name in minimum:
        assert len(results["metrics"]["spread"]["seeds"]) >= minimum[name]
        assert {r["source"] for r in results["metrics"]["seeds"]} <= {"cache", "trained"}


def test_cli_rejects_unknown_experiment_and_device():
    with pytest.raises(SystemExit) as exit:
        main(["nonsense"])
    assert exit.value.code == 2  # argparse's status; every refusal is in test_experiments_cli.py
    with pytest.raises(SystemExit) as exit:
        main(["music", "--device", "tpu"])
    assert exit.value.code == 2


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


# -- the measurements of datastability ------------------------------------------------------------
@pytest.mark.parametrize("name", ["tanh", "lstm"])
def test_unroll_matches_the_model(name):
    """The step-by-step state update used for Jacobians is the model's own recurrence."""
    model = build_model(name, 5, 7, 3, seed=1)
    x = torch.randn(4, 9, 5, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        h = model.hidden_states(x)[0]
        states = torch.stack(ds.unroll(model, x), dim=1)
    torch.testing.assert_close(states[..., -7:], h, atol=1e-5, rtol=1e-5)


def test_autograd_jacobian_matches_closed_form_for_tanh():
    """||J_t||_2 by autograd equals ||diag(1 - h_t^2) W||_2 (the closed form used for the tanh RNN)."""
    model = build_model("tanh", 4, 6, 2, seed=2)
    x = torch.randn(3, 8, 4, generator=torch.Generator().manual_seed(1))
    closed = ds.contraction_sample(model, x, torch.ones(3, 8), samples=24, seed=0)
    with torch.no_grad():
        states = torch.stack(ds.unroll(model, x), dim=1)
    prev = torch.cat([torch.zeros(3, 1, 6), states], dim=1)[:, :-1].reshape(-1, 6)
    w = {k: v.detach() for k, v in ds._weights(model).items()}
    jac = torch.func.vmap(torch.func.jacrev(lambda s, u: ds._step(model, w, s, u)))(prev, x.reshape(-1, 4))
    auto = torch.linalg.matrix_norm(jac.double(), ord=2).numpy()
    np.testing.assert_allclose(np.sort(closed), np.sort(auto), rtol=1e-5)


def test_stable_rnn_gradients_decay_at_the_rate_of_the_spectral_norm():
    """Stable tanh RNN: ||dl/dh_{t-i-1}|| <= ||W||_2 ||dl/dh_{t-i}||, so gradients vanish geometrically."""
    model = build_model("tanh-stable", 4, 8, 3, seed=3, max_norm=0.8)
    x = torch.randn(1, 20, 4, generator=torch.Generator().manual_seed(2))
    y = torch.rand(1, 3, generator=torch.Generator().manual_seed(3)).round()
    g = ds.gradient_vs_lag(model, x, y, "bce", lags=20)
    lam = linalg.spectral_norm(model.rnn.weight_hh_l0.detach().double().numpy())
    assert lam <= 0.8 + 1e-6
    assert np.all(g[1:] <= lam * g[:-1] * (1 + 1e-5))
    assert g[-1] <= lam ** 19 * g[0] * (1 + 1e-4)


def test_stable_lstm_is_contractive_when_the_forget_gate_respects_the_bound():
    """Projected LSTM, gates driven by the state only (input feeds the cell candidate alone): the
    forget gate then stays below the assumed bound, and the autograd Jacobian of (c, h) -> (c', h')
    is a contraction in the l_inf norm that the condition is stated in."""
    model = build_model("lstm-stable", 3, 6, 2, seed=4, forget_bound=0.6)
    n = 6
    with torch.no_grad():
        model.rnn.weight_ih_l0[: 2 * n].zero_()  # input and forget gates
        model.rnn.weight_ih_l0[3 * n:].zero_()  # output gate
        model.rnn.bias_ih_l0.zero_()
        model.rnn.bias_hh_l0.zero_()
    x = torch.randn(4, 12, 3, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        states = torch.stack(ds.unroll(model, x), dim=1)
    prev = torch.cat([torch.zeros(4, 1, 2 * n), states], dim=1)[:, :-1].reshape(-1, 2 * n)
    w = {k: v.detach() for k, v in ds._weights(model).items()}
    jac = torch.func.vmap(torch.func.jacrev(lambda s, u: ds._step(model, w, s, u)))(prev, x.reshape(-1, 3))
    assert torch.linalg.matrix_norm(jac, ord=float("inf")).max() < 1.0
    assert torch.sigmoid(states[..., n:] @ model.rnn.weight_hh_l0[n:2 * n].T).max() < 0.6


def test_summary_counts_factors_below_one():
    s = ds.summarize(np.array([0.5, 0.9, 1.1, 0.7]), "test")
    assert s["fraction_below_1"] == 0.75 and s["max"] == 1.1 and sum(s["histogram"]["counts"]) == 4


def test_gradient_rate_of_a_geometric_sequence():
    assert gradient_rate([5.0, 1.0, 0.5, 0.25, 0.125]) == pytest.approx(0.5)
    assert gradient_rate([5.0, 1.0, 0.5, 0.25, 0.0, 0.0]) == pytest.approx(0.5)  # underflow past lag 3
    with pytest.raises(ValueError, match="norms"):
        gradient_rate([1.0, 0.5])


# -- saved models -----------------------------------------------------------------------------------
@pytest.mark.parametrize("label", LABELS)
def test_checkpoint_round_trip_keeps_weights_history_and_norms(tmp_path, label):
    model = build_model(label, 3, 5, 2, seed=0)
    g = torch.Generator().manual_seed(0)
    result = train(model, (torch.randn(4, 6, 3, generator=g), torch.randn(4, 6, 2, generator=g)), epochs=2,
                   project=label.endswith("-stable"), progress=False)
    history = checkpoints.history_of(result)
    assert history["epochs_run"] == 2 and history["steps"] == result.steps and len(history["train_loss"]) == 2
    json.dumps(history)  # JSON-ready
    path = tmp_path / "m" / f"{label}.pt"
    checkpoints.save_model(path, model, history)
    again = build_model(label, 3, 5, 2, seed=1)
    assert checkpoints.load_model(path, again) == history
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), again.parameters()))
    summary = checkpoints.recurrent_summary(again)
    W = again.recurrent_weights()[0].detach().double().numpy()
    if label.startswith("tanh"):
        assert summary["spectral_norm_W"] == pytest.approx(linalg.spectral_norm(W))
        assert summary["spectral_radius_W"] <= summary["spectral_norm_W"] + 1e-12
    else:
        assert set(summary) == {"inf_norm_W_i", "inf_norm_W_f", "inf_norm_W_z", "inf_norm_W_o", "spectral_norm_W_stacked"}
    assert checkpoints.load_model(tmp_path / "absent.pt", again) is None
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    assert checkpoints.load_model(tmp_path / "broken.pt", again) is None


def test_recorded_command_keeps_no_path_of_the_machine():
    from stablernn.experiments.__main__ import _shown_args

    argv = ["--corpus", "../shared/data/penn", "--data", "/home/me/JSB_Chorales.mat", "--out", "results"]
    assert _shown_args(argv) == ["--corpus", "PATH/penn", "--data", "PATH/JSB_Chorales.mat", "--out", "results"]
