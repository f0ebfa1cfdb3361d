"""Experiment ``datastability``: are trained models stable *on the data*?

For every model trained by ``music`` (and ``wordlm`` when a corpus is given), reloaded from the
model cache (or retrained), along trajectories driven by test data:

- **contraction factors** ``lambda_hat_t = ||J_t||_2``, the spectral norm of the Jacobian of one
  state update. tanh RNN: ``J_t = diag(1 - h_t^2) W`` in closed form (``dynamics.contraction_factors``).
  LSTM: the Jacobian of ``(c_{t-1}, h_{t-1}) -> (c_t, h_t)`` by autograd (``torch.func.jacrev``), a
  2n x 2n matrix, measured in the l2 norm of the concatenated state, at a sample of time steps, and
  in l_inf (largest absolute row sum), the norm of the LSTM's stability theorem; for the LSTM also
  the largest forget gate met along the test data;
- **gradient against lag** ``||d loss_t / d s_{t-i}||_2`` for i = 0, 1, ..., with ``s`` the state
  (``h`` for the tanh RNN, the concatenation ``(c, h)`` for the LSTM) and ``loss_t`` the loss of the
  prediction at step t; averaged over test sequences (music: target step ``target`` of every test
  chorale at least that long, run from its start; word LMs: windows of ``target + 1`` test tokens run
  from a zero state, target at the last token), with a 95 % bootstrap band of the mean over sequences.

The models are the first seed's of ``music`` and ``wordlm`` (reloaded from the model cache).

The unconstrained models are the question; the stable ones are measured too, as a reference.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import dynamics
from .checkpoints import certificate_of, recurrent_summary

__all__ = ["SETTINGS", "unroll", "contraction_sample", "largest_forget_gate", "gradient_vs_lag", "band", "summarize",
           "run"]

SETTINGS = {
    "full": {"target": 64, "lags": 64, "samples": 400, "windows": 64, "seed": 0},
    "quick": {"target": 10, "lags": 8, "samples": 40, "windows": 8, "seed": 0},
}


def _weights(model) -> dict[str, torch.Tensor]:
    if model.num_layers != 1:
        raise ValueError(f"model must have num_layers=1 for the Jacobian measurements, got {model.num_layers}")
    rnn = model.rnn
    return {"W": rnn.weight_hh_l0, "U": rnn.weight_ih_l0, "b": rnn.bias_ih_l0 + rnn.bias_hh_l0}


def _step(model, w: dict, state: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """One state update on a flat state: h (tanh RNN) or the concatenation (c, h) (LSTM)."""
    n = model.hidden_size
    if model.rnn.mode == "RNN_TANH":
        return torch.tanh(x @ w["U"].T + state @ w["W"].T + w["b"])
    c, h = state[..., :n], state[..., n:]
    i, f, g, o = (x @ w["U"].T + h @ w["W"].T + w["b"]).chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.cat([c, torch.sigmoid(o) * torch.tanh(c)], dim=-1)


def _inputs(model, x: torch.Tensor) -> torch.Tensor:
    return x.float() if model.embedding is None else model.embedding(x)


def unroll(model, x: torch.Tensor, keep_graph: bool = False) -> list[torch.Tensor]:
    """States s_1..s_T of a single-layer model on inputs x (B, T[, m]) from a zero state, step by step.

    With ``keep_graph`` every state keeps its gradient (``retain_grad``) for lag measurements.
    """
    w = _weights(model)
    inputs = _inputs(model, x)
    width = model.hidden_size * (1 if model.rnn.mode == "RNN_TANH" else 2)
    state = inputs.new_zeros(inputs.shape[0], width)
    states = []
    for t in range(inputs.shape[1]):
        state = _step(model, w, state, inputs[:, t])
        if keep_graph:
            state.retain_grad()
        states.append(state)
    return states


def _readout(model, state: torch.Tensor) -> torch.Tensor:
    return model.readout(state[..., -model.hidden_size:])


def contraction_sample(model, x: torch.Tensor, mask: torch.Tensor, samples: int, seed: int,
                       norm: str = "l2") -> np.ndarray:
    """Norms of the one-step Jacobians along test trajectories (see the module notes).

    tanh RNN: at every counted step; LSTM: at ``samples`` counted steps drawn with ``seed``.
    ``norm``: "l2" (spectral norm) or "linf" (largest absolute row sum).
    """
    with torch.no_grad():
        states = torch.stack(unroll(model, x), dim=1)  # (B, T, width)
    if model.rnn.mode == "RNN_TANH":
        W = model.rnn.weight_hh_l0.detach().double().numpy()
        h = states[mask.bool()].double().numpy()  # (N, n): the counted steps only
        if norm == "linf":  # ||diag(d) W||_inf = max_i d_i sum_j |W_ij|
            return np.max((1.0 - h**2) * np.abs(W).sum(1), axis=1)
        pairs = np.stack([np.zeros_like(h), h], axis=1)  # contraction_factors reads h_t from index 1
        return np.concatenate([dynamics.contraction_factors(W, pairs[i:i + 256])[:, 0]
                               for i in range(0, len(pairs), 256)])  # ||diag(1 - h_t^2) W||_2
    rows, cols = np.nonzero(mask.numpy())
    pick = np.random.default_rng(seed).choice(len(rows), size=min(samples, len(rows)), replace=False)
    b, t = torch.as_tensor(rows[pick]), torch.as_tensor(cols[pick])
    with torch.no_grad():
        prev = torch.cat([states.new_zeros(states.shape[0], 1, states.shape[2]), states], dim=1)[b, t]
        inputs = _inputs(model, x)[b, t]
    w = {k: v.detach() for k, v in _weights(model).items()}
    jac = torch.func.vmap(torch.func.jacrev(lambda s, u: _step(model, w, s, u)))(prev, inputs)
    return torch.linalg.matrix_norm(jac.double(), ord=2 if norm == "l2" else float("inf")).numpy()


def largest_forget_gate(model, x: torch.Tensor, mask: torch.Tensor) -> float:
    """The largest forget gate of an LSTM at any counted step along its trajectories on ``x``."""
    n = model.hidden_size
    w = _weights(model)
    with torch.no_grad():
        states = torch.stack(unroll(model, x), dim=1)
        prev = torch.cat([states.new_zeros(states.shape[0], 1, states.shape[2]), states[:, :-1]], dim=1)
        pre = _inputs(model, x) @ w["U"].T + prev[..., n:] @ w["W"].T + w["b"]
        return float(torch.sigmoid(pre[..., n:2 * n])[mask.bool()].max())


def gradient_vs_lag(model, x: torch.Tensor, y: torch.Tensor, loss: str, lags: int,
                    per_row: bool = False) -> np.ndarray:
    """Mean over rows of ``||d loss_T / d s_{T-i}||_2`` for i = 0..lags-1, target at the last step of x
    (with ``per_row``: the (rows, lags) norms themselves).

    Parameters
    ----------
    x : inputs (B, T[, m]) with T >= lags;  y : targets at the last step, (B, outputs) floats for
        ``loss="bce"`` or (B,) class ids for ``loss="ce"``
    """
    from torch.nn import functional as F

    if x.shape[1] < lags:
        raise ValueError(f"x must have at least lags={lags} steps, got {x.shape[1]}")
    states = unroll(model, x, keep_graph=True)
    logits = _readout(model, states[-1])
    if loss == "bce":
        total = F.binary_cross_entropy_with_logits(logits, y.float(), reduction="sum")
    else:
        total = F.cross_entropy(logits, y, reduction="sum")
    total.backward()  # rows are independent: the gradient for row b comes from its own loss only
    norms = np.stack([states[-1 - i].grad.norm(dim=-1).double().numpy() for i in range(lags)], axis=1)
    model.zero_grad(set_to_none=True)
    return norms if per_row else norms.mean(axis=0)


def band(norms: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """95 % bootstrap interval (percentile, 999 resamples) of the mean over rows of (rows, lags) norms."""
    from scipy.stats import bootstrap

    if norms.shape[0] < 2:
        return norms.mean(0), norms.mean(0)
    ci = bootstrap((norms,), np.mean, axis=0, vectorized=True, n_resamples=999, method="percentile",
                   random_state=seed).confidence_interval
    return ci.low, ci.high


def summarize(factors: np.ndarray, method: str) -> dict:
    """Mean, quantiles, fraction below 1 and a 20-bin histogram of contraction factors.
    """
    f = np.asarray(factors, dtype=float)
    counts, edges = np.histogram(f, bins=20)
    return {"method": method, "count": int(f.size), "mean": float(f.mean()), "median": float(np.median(f)),
            "q05": float(np.quantile(f, 0.05)), "q95": float(np.quantile(f, 0.95)), "max": float(f.max()),
            "fraction_below_1": float(np.mean(f < 1)), "histogram": {"edges": edges, "counts": counts}}


def _method(model) -> str:
    if model.rnn.mode == "RNN_TANH":
        return "closed form ||diag(1 - h_t^2) W||_2 at every test step"
    return "autograd Jacobian of (c, h) -> (c', h'), l2 spectral norm, at sampled test steps"


def _music_rows(quick: bool, data: Any, device: str, cache: Any, progress: bool, s: dict) -> list[dict]:
    from . import music

    cfg = music.config(quick, data)
    splits = music.load_splits(quick, data, progress)
    models = music.trained_models(cfg, splits, seeds=cfg["seeds"][:1], device="cpu", cache=cache, reuse=True,
                                  progress=progress)
    X, Y, mask = music.tensors(splits["test"])
    long = [i for i, r in enumerate(splits["test"]) if len(r) - 1 > s["target"]]
    if not long:
        raise ValueError(f"no test chorale has more than {s['target'] + 1} frames")
    rows = []
    for (name, _), entry in models.items():
        model = entry["model"].cpu().eval()
        grads = gradient_vs_lag(model, X[long, : s["target"] + 1], Y[long, s["target"]], "bce", s["lags"], True)
        rows.append(_row("music", name, model, X, mask, s, grads, entry["source"]))
    return rows


def _wordlm_rows(quick: bool, corpus: str, device: str, cache: Any, progress: bool, s: dict) -> list[dict]:
    from . import wordlm

    cfg = wordlm.config(quick, corpus)
    streams = wordlm.load_streams(corpus, cfg)
    models = wordlm.trained_models(cfg, streams, seeds=cfg["seeds"][:1], device="cpu", cache=cache, reuse=True,
                                   progress=progress)
    x, y = streams["test"]
    span = s["target"] + 1
    starts = np.linspace(0, x.shape[1] - span, s["windows"] // x.shape[0] + 1).astype(int)
    wx = torch.cat([x[:, a:a + span] for a in starts])
    wy = torch.cat([y[:, a + span - 1] for a in starts])
    traj = x[:, : min(x.shape[1], max(20, s["samples"] // 2))]
    rows = []
    for (name, _), entry in models.items():
        model = entry["model"].cpu().eval()
        grads = gradient_vs_lag(model, wx, wy, "ce", s["lags"], True)
        rows.append(_row("wordlm", name, model, traj, torch.ones(traj.shape[:2]), s, grads, entry["source"]))
    return rows


def _row(experiment: str, name: str, model, x: torch.Tensor, mask: torch.Tensor, s: dict, grads: np.ndarray,
         source: str) -> dict:
    """One model's measurements: grads are the (sequences, lags) gradient norms."""
    low, high = band(grads, s["seed"])
    row = {"experiment": experiment, "model": name,
           "contraction": summarize(contraction_sample(model, x, mask, s["samples"], s["seed"]), _method(model)),
           "contraction_linf": summarize(contraction_sample(model, x, mask, s["samples"], s["seed"], "linf"),
                                         _method(model).replace("l2 spectral norm", "l_inf norm")
                                         .replace("||_2", "||_inf")),
           "gradient_vs_lag": {"lags": list(range(grads.shape[1])), "norms": grads.mean(0), "low": low, "high": high,
                               "sequences": int(grads.shape[0])},
           "weights": recurrent_summary(model), "source": source}
    if model.rnn.mode == "LSTM":
        row["forget_gate_max"] = largest_forget_gate(model, x, mask)
        row["certificate"] = certificate_of(model)
    return row


def run(*, quick: bool = False, data: str | None = None, corpus: str | None = None, device: str = "cpu",
        cache: Any = None, progress: bool = True, **_: Any) -> dict:
    """Measure contraction factors and gradient decay for the music models (and word LMs with ``corpus``).

    Runs on the CPU whatever ``device`` is (the measurements are small).
    """
    start = time.perf_counter()
    s = SETTINGS["quick" if quick else "full"]
    rows = _music_rows(quick, data, device, cache, progress, s)
    if corpus is not None:
        rows += _wordlm_rows(quick, corpus, device, cache, progress, s)
    config = {**s, "music_data": "music21 chorales" if data is None else "JSB .mat file",
              "corpus": None if corpus is None else Path(corpus).expanduser().resolve().name, "state": "tanh: h; lstm: (c, h) concatenated",
              "measurements": "see stablernn.experiments.datastability"}
    return {"name": "datastability", "quick": quick, "config": config,
            "metrics": {"models": rows, "seconds_experiment": time.perf_counter() - start}, "published": None}
