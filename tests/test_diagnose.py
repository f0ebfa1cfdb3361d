"""stablernn.diagnose: every supported core, every refusal, the certificate on known-stable and
known-unstable models, agreement with the library's own measurements on the Part III models, the
JSON and HTML reports."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

import stablernn
from stablernn import diagnose as D
from stablernn import dynamics, stability, train
from stablernn.diagnose import cores, report

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class TokenLM(nn.Module):
    """A plain language model: embedding -> core -> linear, with names the library never uses."""

    def __init__(self, cell=nn.LSTM, vocab=20, emb=6, hidden=8, layers=1, batch_first=True, **kw):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb)
        self.core = cell(emb, hidden, num_layers=layers, batch_first=batch_first, **kw)
        self.head = nn.Linear(hidden, vocab)
        self.batch_first = batch_first

    def forward(self, x):
        h, _ = self.core(self.emb(x))
        return self.head(h)


class PackingLM(TokenLM):
    """Packs its padded batch before the core, as models with variable-length data do."""

    def forward(self, x):
        lengths = (x != 0).sum(1).clamp(min=1)
        packed = nn.utils.rnn.pack_padded_sequence(self.emb(x), lengths, batch_first=True, enforce_sorted=False)
        h, _ = self.core(packed)
        h, _ = nn.utils.rnn.pad_packed_sequence(h, batch_first=True, total_length=x.shape[1])
        return self.head(h)


def _tokens(n=6, t=24, vocab=20, seed=0):
    return torch.randint(1, vocab, (n, t), generator=torch.Generator().manual_seed(seed))


def _quiet(**kw):
    return {"progress": False, "lags": 8, "samples": 50, **kw}


CELLS = {"rnn-tanh": dict(cell=nn.RNN), "rnn-relu": dict(cell=nn.RNN, nonlinearity="relu"),
         "lstm": dict(cell=nn.LSTM), "gru": dict(cell=nn.GRU)}


# -- every supported core --------------------------------------------------------------------------
@pytest.mark.parametrize("kind", CELLS)
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("batch_first", [True, False])
def test_stepped_core_reproduces_torch(kind, layers, batch_first):
    """Stepping the core in Python gives torch's outputs and final states, for every kind, depth and layout."""
    torch.manual_seed(0)
    spec = dict(CELLS[kind])
    core = spec.pop("cell")(5, 7, num_layers=layers, batch_first=batch_first, **spec)
    found = cores.find_core(core)
    assert (found.kind, found.layers) == (kind, layers)
    x = torch.randn(3, 9, 5)
    inputs = x if batch_first else x.transpose(0, 1)
    want, want_state = core(inputs)
    with cores.stepped(core, found) as (net, runner):
        got, got_state = net(inputs)
    assert torch.allclose(got, want, atol=1e-6)
    for a, b in zip(got_state if kind == "lstm" else (got_state,), want_state if kind == "lstm" else (want_state,)):
        assert torch.allclose(a, b, atol=1e-6)
    assert len(runner.states) == 10 and runner.states[-1].shape == (3, found.state_size)


@pytest.mark.parametrize("kind", CELLS)
def test_diagnose_a_token_model_with_an_embedding_in_front(kind):
    torch.manual_seed(1)
    spec = dict(CELLS[kind])
    model = TokenLM(spec.pop("cell"), layers=2, **spec)
    d = stablernn.diagnose(model, _tokens(), **_quiet())
    assert d.model["kind"] == kind and d.model["layers"] == 2 and d.model["core"] == "core"
    assert d.data["loss"] == "ce" and d.truncation["metric"] == "perplexity"
    assert d.truncation["k"][-1] == 16 and len(d.gradient["mean"]) == 8
    for name in ("l2", "linf"):
        assert d.contraction[name]["count"] == 50 and np.isfinite(d.contraction[name]["max"])
    if kind == "gru":
        assert d.certificate["lam"] is None and not d.certificate["holds"] and "GRU" in d.certificate["note"]
    if kind == "lstm":  # the embedding bounds the inputs for every token
        assert d.certificate["input_bound"] == pytest.approx(float(model.emb.weight.detach().abs().max()))
        assert "embedding" in d.certificate["input_bound_source"]
    assert "λ" in d.verdict() or "certificate" in d.verdict()


def test_diagnose_the_library_models_and_a_time_first_bare_core():
    from stablernn.models import LSTMModel, TanhRNN

    x = (torch.rand(4, 20, 6) > 0.5).float()
    for model in (TanhRNN(6, 8, 6), LSTMModel(6, 8, 6)):
        d = D(model, x, **_quiet())
        assert d.data["loss"] == "bce" and d.model["core"] == "rnn"
    bare = nn.GRU(6, 6, batch_first=False)  # outputs are the states, 6 wide: MSE against the next input
    d = D(bare, (torch.randn(4, 20, 6), torch.randn(4, 20, 6)), **_quiet())
    assert d.model["batch_first"] is False and d.data["loss"] == "mse"


def test_diagnose_unpacks_a_model_that_packs_its_batch():
    torch.manual_seed(2)
    model = PackingLM(nn.LSTM)
    x = _tokens()
    x[0, 15:] = 0  # a shorter sequence, padded
    d = D(model, x, **_quiet())
    assert d.data["sequences"] == 6


def test_one_step_norms_match_the_closed_form_for_a_tanh_rnn():
    """With every step sampled, the l2 norms are dynamics.contraction_factors', ||diag(1 - h_t^2) W||_2."""
    torch.manual_seed(3)
    rnn = nn.RNN(4, 5, batch_first=True, bias=False)
    x = torch.randn(3, 10, 4)
    d = D(rnn, (x, torch.zeros(3, 10, 5)), progress=False, samples=10_000, lags=4)
    W = rnn.weight_hh_l0.detach().double().numpy()
    U = rnn.weight_ih_l0.detach().double().numpy()
    states = dynamics.rnn_trajectory(W, U, x.double().numpy())
    want = dynamics.contraction_factors(W, states).ravel()
    assert d.contraction["l2"]["count"] == want.size
    assert d.contraction["l2"]["max"] == pytest.approx(want.max(), rel=1e-5)
    assert d.contraction["l2"]["median"] == pytest.approx(np.median(want), rel=1e-5)


# -- refusals ------------------------------------------------------------------------------------------
def test_refusals_name_what_is_wrong():
    x = _tokens()
    with pytest.raises(ValueError, match="bidirectional"):
        D(TokenLM(nn.LSTM, bidirectional=True), x, **_quiet())
    with pytest.raises(ValueError, match="proj_size"):
        D(nn.LSTM(4, 6, proj_size=2, batch_first=True), torch.randn(2, 5, 4), **_quiet())
    with pytest.raises(TypeError, match="PackedSequence"):
        packed = nn.utils.rnn.pack_padded_sequence(torch.randn(2, 5, 4), [5, 3], batch_first=True)
        D(nn.LSTM(4, 4, batch_first=True), packed, **_quiet())
    with pytest.raises(ValueError, match="cannot take data"):
        D(TokenLM(nn.LSTM), torch.randn(6, 24, 3), **_quiet())  # floats into an embedding
    with pytest.raises(ValueError, match="cannot take data"):
        D(TokenLM(nn.LSTM, vocab=20), x + 50, **_quiet())  # token ids beyond the vocabulary
    with pytest.raises(ValueError, match="empty"):
        D(TokenLM(nn.LSTM), x[:0], **_quiet())
    with pytest.raises(ValueError, match="empty"):
        D(TokenLM(nn.LSTM), (x, x, torch.zeros_like(x)), **_quiet())
    with pytest.raises(ValueError, match="NaN"):
        D(nn.GRU(3, 3, batch_first=True), torch.full((2, 6, 3), float("nan")), **_quiet())
    broken = TokenLM(nn.LSTM)
    with torch.no_grad():
        broken.head.weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match="head.weight holds NaN"):
        D(broken, x, **_quiet())
    with pytest.raises(TypeError, match="no recurrent module"):
        D(nn.Linear(3, 3), torch.randn(2, 5, 3), **_quiet())
    two = nn.Sequential(nn.LSTM(3, 3, batch_first=True), nn.LSTM(3, 3, batch_first=True))
    with pytest.raises(ValueError, match="several recurrent modules"):
        D(two, torch.randn(2, 5, 3), **_quiet())
    with pytest.raises(ValueError, match="not a submodule"):
        D(TokenLM(nn.LSTM), x, core="nope", **_quiet())
    with pytest.raises(ValueError, match="input_bound"):
        D(TokenLM(nn.LSTM), x, input_bound=1e-3, **_quiet())
    with pytest.raises(ValueError, match="loss cannot compare"):
        D(nn.LSTM(3, 5, batch_first=True), torch.randn(2, 6, 3), **_quiet())  # 5 outputs, 3 targets
    with pytest.raises(ValueError, match="per-step losses"):
        D(TokenLM(nn.LSTM), x, loss=lambda out, y: out.sum(), **_quiet())
    with pytest.raises(ValueError, match="tolerance"):
        D(TokenLM(nn.LSTM), x, tolerance=0, **_quiet())


# -- the certificate ----------------------------------------------------------------------------------
def test_a_projected_tanh_rnn_is_certified_and_an_expanding_one_is_not():
    from stablernn.models import TanhRNN

    x = torch.randn(4, 16, 3)
    stable = TanhRNN(3, 6, 3, stable=True, max_norm=0.8)
    d = D(stable, (x, torch.randn(4, 16, 3)), **_quiet())
    assert d.certificate["holds"] and d.certificate["lam"] <= 0.8 + 1e-6
    assert d.contraction["l2"]["max"] <= d.certificate["lam"] + 1e-6  # the certificate bounds every step
    unstable = TanhRNN(3, 6, 3)
    with torch.no_grad():
        unstable.rnn.weight_hh_l0.copy_(1.5 * torch.linalg.qr(torch.randn(6, 6))[0])
    d = D(unstable, (x, torch.randn(4, 16, 3)), **_quiet())
    assert not d.certificate["holds"] and d.certificate["lam"] == pytest.approx(1.5, rel=1e-6)


def _lstm_from_params(p: dict) -> nn.LSTM:
    n, m = p["W_i"].shape[0], p["U_i"].shape[1]
    lstm = nn.LSTM(m, n, batch_first=True)
    with torch.no_grad():
        lstm.weight_hh_l0.copy_(torch.as_tensor(np.concatenate([p[f"W_{g}"] for g in "ifzo"])))
        lstm.weight_ih_l0.copy_(torch.as_tensor(np.concatenate([p[f"U_{g}"] for g in "ifzo"])))
        lstm.bias_ih_l0.copy_(torch.as_tensor(np.concatenate([p[f"b_{g}"] for g in "ifzo"])))
        lstm.bias_hh_l0.zero_()
    return lstm


def test_a_certified_lstm_contracts_at_every_measured_step():
    """An LSTM built with a certificate gets it back from its weights, and no measured l_inf step exceeds it."""
    p = stability.sample_stable_lstm(6, 4, lam=0.9, input_bound=1.0, seed=0)
    lstm = _lstm_from_params(p)
    x = torch.rand(8, 30, 4) * 2 - 1  # ||x||_inf <= 1, the certificate's input bound
    d = D(lstm, (x, torch.zeros(8, 30, 6)), progress=False, samples=240, lags=8, input_bound=1.0)
    assert d.certificate["holds"] and d.certificate["lam"] == pytest.approx(
        stability.lstm_condition(p, input_bound=1.0).contraction, rel=1e-6)
    assert d.certificate["lam"] < 1
    assert d.contraction["linf"]["max"] <= d.certificate["lam"] + 1e-6


def test_an_unconstrained_lstm_has_no_certificate_from_its_forget_gate():
    """The forget-gate bound is computed from U_f and b_f too: a large forget bias leaves no certificate."""
    p = stability.sample_stable_lstm(6, 4, lam=0.9, input_bound=1.0, seed=0)
    p["b_f"] = p["b_f"] + 8.0  # the recurrent blocks are unchanged; the forget gate opens
    d = D(_lstm_from_params(p), (torch.rand(4, 20, 4), torch.zeros(4, 20, 6)), **_quiet())
    assert not d.certificate["holds"]
    assert d.certificate["layers"][0]["forget_bound"] > 0.99


# -- agreement with the library's own measurements on the Part III models -------------------------
@pytest.fixture(scope="module")
def part3_models(tmp_path_factory):
    from stablernn.experiments import music

    torch.set_num_threads(1)
    splits = music.load_splits(quick=True, progress=False)
    models = music.trained_models(music.config(quick=True), splits, seeds=[0], cache=tmp_path_factory.mktemp("models"),
                                  progress=False)
    return {label: v["model"].eval() for (label, _), v in models.items()}, music.tensors(splits["test"])


@pytest.mark.parametrize("label", ["tanh", "tanh-stable", "lstm", "lstm-stable"])
def test_diagnose_agrees_with_datastability_and_truncation(part3_models, label):
    from stablernn.experiments import datastability

    models, (X, Y, mask) = part3_models
    model = models[label]
    lags, samples = 8, 40
    d = D(model, (X, Y, mask), progress=False, lags=lags, samples=samples if "lstm" in label else 10**6,
          ks=[1, 2, 4, 8])
    factors = datastability.contraction_sample(model, X, mask, samples, 0)
    assert d.contraction["l2"]["count"] == factors.size
    for key, value in (("max", factors.max()), ("median", np.median(factors)), ("mean", factors.mean())):
        assert d.contraction["l2"][key] == pytest.approx(value, rel=1e-4)
    rows = torch.nonzero(mask[:, lags]).flatten()
    grads = datastability.gradient_vs_lag(model, X[rows, : lags + 1], Y[rows, lags], "bce", lags)
    assert np.allclose(d.gradient["mean"], grads, rtol=1e-4)
    for k, value in zip(d.truncation["k"], d.truncation["values"]):
        assert value == pytest.approx(train.evaluate(model, (X, Y, mask), "bce", k=k), rel=1e-5)
    assert d.truncation["full"] == pytest.approx(train.evaluate(model, (X, Y, mask), "bce"), rel=1e-5)


# -- the reports -------------------------------------------------------------------------------------
def test_json_round_trip_schema_and_offline_html(tmp_path):
    d = D(TokenLM(nn.LSTM), _tokens(), **_quiet())
    path = d.to_json(tmp_path / "d.json")
    doc = json.loads(path.read_text())
    assert doc["format"] == report.FORMAT and doc["meta"]["stablernn_version"] == stablernn.__version__
    back = D.load(path)
    assert back.truncation["k"] == d.truncation["k"] and back.verdict() == d.verdict()
    doc["truncation"]["k_within"] = 3  # not on the grid
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="k grid"):
        D.load(bad)
    del doc["certificate"]
    bad.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="certificate"):
        D.load(bad)
    html = d.to_html(tmp_path / "d.html").read_text()
    for name in ("contraction", "gradient", "truncation"):
        assert f'id="diagnosis-{name}"' in html
    assert f"(e) What a context of k = {d.cost['k']} costs" in html and "sequential depth" in html
    assert html.count("plotly.js v") >= 1 and "<script src=" not in html  # plotly inlined: works offline
    assert "nan" not in html.split("<script")[0].lower()


def test_figures_draw_no_nan_for_a_collapsing_gradient():
    from stablernn.figures import your_model as figures

    d = D(TokenLM(nn.RNN), _tokens(), **_quiet()).to_dict()
    d["gradient"]["mean"] = [1.0] + [0.0] * 7
    d["gradient"]["low"] = d["gradient"]["high"] = d["gradient"]["mean"]
    for fig in (figures.gradient_figure(d["gradient"]), figures.compare_figure({"a": [d, d], "b": [d]})):
        for trace in fig.data:
            assert all(v is None or math.isfinite(v) for v in trace.y)
