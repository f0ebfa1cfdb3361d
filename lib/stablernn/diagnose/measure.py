"""The five measurements of a diagnosis, each on a checked core and checked data.

(a) ``certificate``: the book's sufficient conditions, from the weights alone (Chapter 4);
(b) ``contraction``: norms of the one-step Jacobian ``ds_t / ds_{t-1}`` along the data (Chapter 9);
(c) ``gradient_vs_lag``: ``||d loss_T / d s_{T-i}||_2`` with a bootstrap band over sequences (Chapter 9);
(d) ``truncation_curve``: the loss of the k-truncated model against k (Chapters 5 and 8);
(e) ``cost``: time and memory of evaluation with that k against full context (Chapter 3).

Used by ``stablernn.diagnose`` (Chapter 10). The data are ``(X, Y, mask)`` as in ``stablernn.train``
(batch first); ``loss_fn(outputs, targets)`` returns per-step losses ``(B, T)``.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch

from .. import dynamics, linalg, stability
from ..timing import best_seconds
from .cores import Core, core_step, stepped

__all__ = ["outputs", "input_bound", "certificate", "contraction", "gradient_vs_lag", "truncation_curve",
           "truncated_outputs", "cost"]

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
METRIC_NAMES = {"ce": "perplexity", "bce": "binary cross-entropy per step (nats)", "mse": "squared error per step"}
_WINDOW_STEPS = 1 << 18  # windows × k per forward pass of the truncated model: bounds its memory


def outputs(model: torch.nn.Module, x: torch.Tensor, batch_first: bool) -> torch.Tensor:
    """The model's outputs (B, T, ...) for batch-first inputs x, whatever layout the model takes."""
    out = model(x if batch_first else x.transpose(0, 1))
    if isinstance(out, (tuple, list)):
        out = out[0]
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"the model must return a tensor or a tuple starting with one, got {type(out).__name__}")
    return out if batch_first else out.transpose(0, 1)


# ------------------------------------------------------------------------ (a) the certificate


def input_bound(model: torch.nn.Module, core: Core, x: torch.Tensor, core_inputs: torch.Tensor,
                stated: float | None) -> tuple[float, str]:
    """A bound B_x on ``||x_t||_inf`` for the core's inputs, and where it comes from.

    A stated bound must cover the data. Otherwise: if the core reads an ``nn.Embedding`` of the
    tokens directly, the largest embedding entry (it covers every token, not only those seen);
    else the largest core input in the data (it covers these data only, and the report says so).
    """
    seen = float(core_inputs.detach().abs().max())
    if stated is not None:
        if stated < seen:
            raise ValueError(f"input_bound={stated:g} is below the largest core input in the data ({seen:.4g}); "
                             "a certificate for a bound the data break would not hold on them")
        return float(stated), "stated"
    if not x.is_floating_point():
        for name, m in model.named_modules():
            if isinstance(m, torch.nn.Embedding) and m.embedding_dim == core.input_size:
                with torch.no_grad():
                    if torch.allclose(m(x), core_inputs):
                        return float(m.weight.detach().abs().max()), f"the embedding {name!r}: its largest entry"
    return seen, "the largest core input in these data"


def certificate(core: Core, bound: float, bound_source: str) -> dict:
    """The book's stability certificate, layer by layer, from the weights and the input bound alone.

    tanh/ReLU RNN: ``lambda = ||W||_2`` (both activations are 1-Lipschitz), Chapter 4's condition.
    LSTM: ``stability.lstm_condition`` with the forget-gate bound computed from the weights for
    ``||x_t||_inf <= bound`` (layers after the first read ``h``, so ``||x||_inf <= 1`` there).
    GRU: the book's theory has no certificate; the report says so and gives the norms only.
    A stack holds when every layer contracts in its own state; the book's theorem is stated for one
    layer, and a stack of contracting layers forgets its initial state as a cascade does.
    """
    layers = []
    for layer in range(core.layers):
        w = core.weights(layer)
        W = w["W_hh"].detach().double().numpy()
        row: dict[str, Any] = {"layer": layer}
        if core.kind == "lstm":
            p = stability.lstm_params_from_torch(core.module, layer)
            b = bound if layer == 0 else 1.0
            report = stability.lstm_condition(p, input_bound=b)
            row.update(input_bound=b, forget_bound=stability.forget_gate_bound(p, b),
                       inf_norms={g: linalg.inf_norm(p[f"W_{g}"]) for g in "ifzo"})
            lam = report.contraction if math.isfinite(report.contraction) else None
            row.update(lam=lam, holds=report.holds)
            if lam is None:
                row["reason"] = "the forget-gate bound from the weights is 1 to float precision: no contraction factor"
        elif core.kind.startswith("rnn"):
            report = stability.rnn_condition(W)
            row.update(lam=report.contraction, holds=report.holds)
        else:
            row.update(lam=None, holds=False)
        # The RNN's W is square: its spectral radius is shown beside the norm, to keep the two apart.
        # The LSTM's and GRU's stacked blocks (4n × n, 3n × n) have a spectral norm and no radius.
        row.update(spectral_norm=linalg.spectral_norm(W),
                   spectral_radius=linalg.spectral_radius(W) if core.kind.startswith("rnn") else None)
        layers.append(row)
    if core.kind == "gru":
        note = "no certificate: the book's theory (Miller & Hardt) gives none for the GRU; empirical measures only"
        norm = "none"
    elif core.kind == "lstm":
        note = ("l_inf on (c, h), forget-gate bound from the weights for core inputs with "
                f"||x_t||_inf <= {bound:.4g} ({bound_source})")
        norm = "l_inf on (c, h)"
    else:
        note = "l2: lambda = ||W||_2, the spectral norm (not the spectral radius)"
        norm = "l2"
    lams = [r["lam"] for r in layers]
    holds = core.kind != "gru" and all(r["holds"] for r in layers)
    lam = None if None in lams else float(max(lams))  # None: no factor (a GRU, or a forget gate that reaches 1)
    return {"holds": bool(holds), "lam": lam, "norm": norm,
            "input_bound": float(bound), "input_bound_source": bound_source, "layers": layers, "note": note}


# ---------------------------------------------------------------- (b) contraction along the data


def contraction(core: Core, inputs: torch.Tensor, states: list[torch.Tensor], mask: torch.Tensor,
                samples: int, seed: int) -> dict:
    """Norms of the one-step Jacobian of the stacked state at ``samples`` counted steps (all if fewer).

    ``states`` are s_0, ..., s_T from ``Stepped``; the step at time t maps s_t to s_{t+1} with input
    ``inputs[:, t]``. Returns the l2 (spectral) and l_inf (max absolute row sum) norms.
    """
    rows, cols = np.nonzero(mask.numpy())
    pick = np.random.default_rng(seed).choice(len(rows), size=min(samples, len(rows)), replace=False)
    b, t = torch.as_tensor(rows[pick]), torch.as_tensor(cols[pick])
    with torch.no_grad():
        prev = torch.stack(states[:-1], dim=1)[b, t]
        u = inputs[b, t]
    weights = [{k: v.detach() for k, v in core.weights(l).items()} for l in range(core.layers)]
    jac = torch.func.vmap(torch.func.jacrev(lambda s, x: core_step(core, weights, s, x)))(prev, u).double()
    return {"l2": torch.linalg.matrix_norm(jac, ord=2).numpy(),
            "linf": torch.linalg.matrix_norm(jac, ord=float("inf")).numpy()}


# ------------------------------------------------------------------- (c) gradient against lag


def gradient_vs_lag(model: torch.nn.Module, core: Core, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor,
                    loss_fn: LossFn, lags: int, batch_first: bool, seed: int) -> dict:
    """``||d loss_T / d s_{T-i}||_2`` for i = 0..lags-1, target step T = lags, one row per sequence
    counted there (run from its start), with the mean and a 95 % bootstrap band of the mean."""
    from scipy.stats import bootstrap

    target = lags
    rows = torch.nonzero(mask[:, target]).flatten()
    with stepped(model, core, keep_graph=True) as (net, runner):
        out = outputs(net, x[rows, : target + 1], batch_first)
        per_step = loss_fn(out, y[rows, : target + 1])
        per_step[:, target].sum().backward()  # rows are independent: row b's gradient is its own loss's
        norms = np.stack([runner.states[target + 1 - i].grad.norm(dim=-1).double().numpy() for i in range(lags)], 1)
    model.zero_grad(set_to_none=True)
    mean = norms.mean(0)
    if len(rows) >= 2 and np.ptp(norms, axis=0).max() > 0:
        ci = bootstrap((norms,), np.mean, axis=0, vectorized=True, n_resamples=999, method="percentile",
                       confidence_level=0.95, random_state=seed).confidence_interval
        low, high = ci.low, ci.high
    else:
        low = high = mean
    return {"lags": list(range(lags)), "mean": mean, "low": low, "high": high, "sequences": int(len(rows)),
            "target_step": target}


# ----------------------------------------------------------------- (d) the truncation curve


def truncated_outputs(model: torch.nn.Module, x: torch.Tensor, positions: tuple[torch.Tensor, torch.Tensor],
                      k: int, batch_first: bool, full: torch.Tensor) -> torch.Tensor:
    """Outputs of the k-truncated model at ``positions`` (rows, times): each computed from a zero
    state over the k most recent inputs; a step with fewer than k inputs before it is the full model's."""
    b, t = positions
    out = full[b, t].clone()
    long = torch.nonzero(t >= k - 1).flatten()
    if len(long) == 0:
        return out
    offsets = torch.arange(-k + 1, 1)
    per_pass = max(1, _WINDOW_STEPS // k)
    for chunk in long.split(per_pass):
        windows = x[b[chunk, None], t[chunk, None] + offsets]  # (P, k, ...)
        out[chunk] = outputs(model, windows, batch_first)[:, -1]
    return out


def _metric(loss_name: str, value: float) -> float:
    return math.exp(value) if loss_name == "ce" else value


def truncation_curve(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor,
                     loss_fn: LossFn, loss_name: str, ks: list[int], batch_first: bool, tolerance: float,
                     progress: Any) -> dict:
    """The metric of the k-truncated model over the counted steps, for each k, and with full context.

    The metric is the mean per-step loss (for cross-entropy, its exponential: the perplexity); the
    smallest k within ``tolerance`` of full context is ``dynamics.smallest_k_within``'s.
    """
    positions = tuple(torch.as_tensor(a) for a in np.nonzero(mask.numpy()))
    b, t = positions
    with torch.no_grad():
        full_out = outputs(model, x, batch_first)
        full_loss = float(loss_fn(full_out, y)[b, t].mean())
        values = []
        for k in progress(ks):
            out = truncated_outputs(model, x, positions, k, batch_first, full_out)
            values.append(float(loss_fn(out[:, None], y[b, t][:, None])[:, 0].mean()))
    metric = [_metric(loss_name, v) for v in values]
    full = _metric(loss_name, full_loss)
    return {"metric": METRIC_NAMES.get(loss_name, "loss per step"),
            "k": list(ks), "values": metric, "full": full, "relative_gap": [v / full - 1 for v in metric],
            "tolerance": tolerance, "k_within": dynamics.smallest_k_within(ks, metric, full, tolerance)}


# ------------------------------------------------------------------------------- (e) the cost


def cost(model: torch.nn.Module, core: Core, x: torch.Tensor, mask: torch.Tensor, k: int,
         batch_first: bool) -> dict:
    """Time (measured, best of 3) and memory (counted) of evaluating the data with k steps of context
    against full context, and the sequential depth of each."""
    positions = tuple(torch.as_tensor(a) for a in np.nonzero(mask.numpy()))
    with torch.no_grad():
        full_out = outputs(model, x, batch_first)
        seconds_full = best_seconds(lambda: outputs(model, x, batch_first), repeats=3)
        seconds_k = best_seconds(lambda: truncated_outputs(model, x, positions, k, batch_first, full_out), repeats=3)
    steps = int(x.shape[1])
    windows = int((positions[1] >= k - 1).sum())
    return {
        "k": int(k), "steps": steps, "sequences": int(x.shape[0]), "outputs": int(len(positions[0])),
        "seconds_full": seconds_full, "seconds_truncated": seconds_k,
        "depth_full": steps, "depth_truncated": int(min(k, steps)),
        "stream_floats_full": core.state_size,
        "stream_floats_truncated": int(k * core.input_size + core.state_size),
        "states_full": int(x.shape[0] * steps * core.state_size),
        "states_truncated": int(windows * k * core.state_size),
    }
