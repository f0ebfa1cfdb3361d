"""What ``stablernn.diagnose(model, data)`` does: check the model and the data, run the five
measurements of ``measure`` and gather them in a ``report.Diagnosis`` (Chapter 10)."""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np
import torch

from .._validate import check_float, check_int, check_ints, check_seed
from ..progress import progress_bar
from ..train import LOSSES, step_losses
from .measure import certificate, contraction, cost, gradient_vs_lag, outputs, truncation_curve
from .measure import input_bound as _input_bound
from .cores import Core, find_core, stepped
from .report import Diagnosis, load, summarize

__all__ = ["diagnose", "Diagnosis", "load", "prepare_data"]


def _tensor(name: str, value: Any) -> torch.Tensor:
    from torch.nn.utils.rnn import PackedSequence

    if isinstance(value, PackedSequence):
        raise TypeError(f"{name} is a PackedSequence: pass padded tensors (X, Y, mask) with a mask of the real steps")
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor or numpy array, got {type(value).__name__}")
    return value


def _check_values(name: str, value: torch.Tensor) -> None:
    if value.numel() == 0:
        raise ValueError(f"the data set is empty: {name} has shape {tuple(value.shape)}")
    if value.is_floating_point() and not torch.isfinite(value).all():
        raise ValueError(f"{name} holds NaN or infinite values")


def prepare_data(data: Any, loss: str | Callable | None = None) -> tuple:
    """Checked ``(X, Y, mask, loss_name, loss_fn)`` from what a reader passes.

    ``data``: inputs ``X`` alone (next-step prediction: targets are the inputs one step ahead),
    or ``(X, Y)`` / ``(X, Y, mask)`` as in ``stablernn.train``: ``X`` float ``(N, T, features)`` or
    int64 token ids ``(N, T)``, batch first; ``mask`` ``(N, T)`` 0/1 marks the steps that count.
    ``loss``: ``"mse"``, ``"bce"`` (summed over outputs), ``"ce"``, a callable
    ``loss(outputs, targets) -> (N, T)`` per-step losses, or None: ``"ce"`` for integer targets,
    ``"bce"`` for 0/1 targets, ``"mse"`` otherwise.
    """
    if isinstance(data, (tuple, list)):
        if len(data) not in (2, 3):
            raise TypeError(f"data must be X, (X, Y) or (X, Y, mask), got a {type(data).__name__} of {len(data)}")
        x, y = _tensor("X", data[0]), _tensor("Y", data[1])
        mask = _tensor("mask", data[2]) if len(data) == 3 and data[2] is not None else None
    else:
        x = _tensor("data", data)
        _check_values("data", x)
        if x.dim() < 2 or x.shape[1] < 2:
            raise ValueError(f"data for next-step prediction must be (N, T >= 2[, features]), got {tuple(x.shape)}")
        x, y, mask = x[:, :-1], x[:, 1:], None
    for name, v in (("X", x), ("Y", y)):
        _check_values(name, v)
    if x.is_floating_point():
        if x.dim() != 3:
            raise ValueError(f"float inputs X must be (N, T, features), got shape {tuple(x.shape)}")
        x = x.float()
    elif x.dim() != 2 or x.dtype == torch.bool:
        raise ValueError(f"token inputs X must be integer ids (N, T), got dtype {x.dtype} shape {tuple(x.shape)}")
    else:
        x = x.long()
    if y.shape[:2] != x.shape[:2]:
        raise ValueError(f"Y must have the batch and time axes of X {tuple(x.shape[:2])}, got {tuple(y.shape)}")
    if mask is None:
        mask = torch.ones(x.shape[:2], dtype=torch.bool)
    else:
        if tuple(mask.shape) != tuple(x.shape[:2]) or not ((mask == 0) | (mask == 1)).all():
            raise ValueError(f"mask must hold 0/1 values of shape {tuple(x.shape[:2])}, got {tuple(mask.shape)}")
        mask = mask.bool()
        if not mask.any():
            raise ValueError("the data set is empty: the mask counts no step")
    name, fn = _loss(loss, y)
    y = y.long() if name == "ce" else (y.float() if y.is_floating_point() or name != "custom" else y)
    return x, y, mask, name, fn


def _loss(loss: Any, y: torch.Tensor) -> tuple[str, Callable]:
    if callable(loss):
        return "custom", loss
    if loss is None:
        if not y.is_floating_point():
            loss = "ce"
        else:
            loss = "bce" if bool(((y == 0) | (y == 1)).all()) else "mse"
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, a callable or None, got {loss!r}")
    if loss == "ce" and (y.is_floating_point() or y.dim() != 2 or int(y.min()) < 0):
        raise ValueError(f"loss='ce' needs class ids Y (N, T) >= 0, got dtype {y.dtype} shape {tuple(y.shape)}")
    if loss == "bce" and (not y.is_floating_point() or float(y.min()) < 0 or float(y.max()) > 1):
        raise ValueError("loss='bce' needs float targets Y in [0, 1]")
    return loss, lambda out, target: step_losses(out, target, loss)


def _per_step(loss_fn: Callable, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The loss's per-step values, with a clear error when model, data and loss do not fit."""
    try:
        values = loss_fn(out, y)
    except (RuntimeError, ValueError, IndexError) as err:
        raise ValueError(f"the loss cannot compare the model's outputs {tuple(out.shape)} with the targets "
                         f"{tuple(y.shape)} (pass loss=... for these outputs): {err}") from None
    if not isinstance(values, torch.Tensor) or tuple(values.shape) != tuple(y.shape[:2]):
        got = tuple(values.shape) if isinstance(values, torch.Tensor) else type(values).__name__
        raise ValueError(f"the loss must return per-step losses of shape {tuple(y.shape[:2])}, got {got}")
    if not torch.isfinite(values).all():
        raise ValueError("the loss is NaN or infinite on these data")
    return values


def _probe(model: torch.nn.Module, core: Core, x: torch.Tensor, batch_first: bool):
    """Run the model once with the stepped core: outputs, core inputs and states, checked against torch."""
    calls = []
    hook = core.module.register_forward_hook(lambda *a: calls.append(1))
    try:
        with torch.no_grad():
            real = outputs(model, x, batch_first)
    except (RuntimeError, IndexError, ValueError, TypeError) as err:
        raise ValueError(f"the model cannot take data of shape {tuple(x.shape)}, dtype {x.dtype} "
                         f"(batch first; batch_first={batch_first}): {err}") from None
    finally:
        hook.remove()
    if len(calls) != 1:
        raise ValueError(f"the model calls its core {len(calls)} times per forward pass; diagnose needs one call")
    with torch.no_grad(), stepped(model, core) as (net, runner):
        out = outputs(net, x, batch_first)
    if not torch.allclose(out, real, rtol=1e-4, atol=1e-5):
        raise ValueError("stepping the core one step at a time does not reproduce the model's outputs "
                         f"(largest difference {float((out - real).abs().max()):.3g}); diagnose cannot read this model")
    return real, runner.inputs, runner.states


def diagnose(model: torch.nn.Module, data: Any, *, core: str | None = None, batch_first: bool | None = None,
             loss: str | Callable | None = None, input_bound: float | None = None, ks: Any = None,
             tolerance: float = 0.01, lags: int = 64, samples: int = 400, seed: int = 0,
             progress: bool = True, source: dict | None = None) -> Diagnosis:
    """Diagnose a trained recurrent model on data with the book's theory (see the module notes).

    Parameters
    ----------
    model : torch.nn.Module
        A ``torch.nn.RNN`` (tanh or ReLU), ``LSTM`` or ``GRU``, a library model, or a model holding
        one such core (unidirectional, any number of layers, an embedding in front allowed).
        It is called as ``model(X)`` and returns outputs ``(N, T, ...)`` (or a tuple starting with them).
    data : X, (X, Y) or (X, Y, mask), batch first (see :func:`prepare_data`).
    core : dotted name of the recurrent submodule; None: the model's only one.
    batch_first : whether the model takes (batch, time, ...) inputs; None: the core's setting.
    loss : "mse", "bce", "ce", a callable (outputs, targets) -> per-step losses (N, T), or None.
    input_bound : a stated bound on the core's inputs ``||x_t||_inf`` for the LSTM certificate
        (at least the data's); None: from an embedding's weights, else the largest input in the data.
    ks : context lengths of the truncation curve (increasing ints); None: 1, 2, 4, ... up to T.
    tolerance : in (0, 1], "within" for the smallest k (default 1 %).
    lags : >= 1, lags of the gradient curve (capped at the longest sequence minus one).
    samples : >= 1, steps at which the Jacobian is measured (all counted steps if fewer).
    seed : >= 0, draws the sampled steps and the bootstrap.
    progress : show progress bars (never while the book builds).
    source : provenance to record (the command line fills it).

    Returns
    -------
    Diagnosis
    """
    start = time.perf_counter()
    found = find_core(model, core)
    for name, p in model.named_parameters():
        if not torch.isfinite(p).all():
            raise ValueError(f"the model's weight {name} holds NaN or infinite values")
    batch_first = found.batch_first if batch_first is None else batch_first
    if batch_first not in (True, False):
        raise TypeError(f"batch_first must be True, False or None, got {batch_first!r}")
    tolerance = check_float("tolerance", tolerance, low=0.0, high=1.0, low_open=True)
    lags, samples = check_int("lags", lags, low=1), check_int("samples", samples, low=1)
    seed = check_seed("seed", seed) or 0
    if input_bound is not None:
        input_bound = check_float("input_bound", input_bound, low=0.0)
    x, y, mask, loss_name, loss_fn = prepare_data(data, loss)
    longest = int(mask.sum(1).max()) if mask.any() else 0
    steps = x.shape[1]
    if ks is None:
        ks = [2**i for i in range(int(np.log2(steps)) + 1)]
    ks = list(check_ints("ks", ks, low=1, increasing=True))
    if x.shape[1] < 2:
        raise ValueError(f"the sequences must have at least 2 steps, got T = {x.shape[1]}")
    lags = min(lags, int(np.nonzero(mask.any(0).numpy())[0].max()))  # the target step must be counted
    lags = max(lags, 1)
    was_training = model.training
    model.eval()
    bar = lambda items, desc: progress_bar(items, show=progress, desc=desc, leave=False)  # noqa: E731
    try:
        steps_bar = bar(range(5), "diagnose")
        full_out, core_inputs, states = _probe(model, found, x, batch_first)
        _per_step(loss_fn, full_out, y)
        steps_bar.update(1)
        bound, bound_source = _input_bound(model, found, x, core_inputs, input_bound)
        cert = certificate(found, bound, bound_source)
        steps_bar.update(1)
        jac = contraction(found, core_inputs, states, mask, samples, seed)
        steps_bar.update(1)
        grads = gradient_vs_lag(model, found, x, y, mask, lambda o, t: _per_step(loss_fn, o, t), lags,
                                        batch_first, seed)
        steps_bar.update(1)
        curve = truncation_curve(model, x, y, mask, loss_fn, loss_name, ks, batch_first, tolerance,
                                         lambda items: bar(items, "truncation: k"))
        k_star = curve["k_within"] or ks[-1]
        spent = cost(model, found, x, mask, k_star, batch_first)
        steps_bar.update(1)
        steps_bar.close()
    finally:
        model.train(was_training)
    description = {
        "class": type(model).__name__, "core": found.path or "(the model itself)", "kind": found.kind,
        "layers": found.layers, "input_size": found.input_size, "hidden": found.hidden,
        "state_size": found.state_size, "batch_first": bool(batch_first),
        "parameters": int(sum(p.numel() for p in model.parameters())),
    }
    data_info = {"sequences": int(x.shape[0]), "steps": int(steps), "counted_steps": int(mask.sum()),
                 "longest": longest, "inputs": "token ids" if not x.is_floating_point() else f"{x.shape[-1]} features",
                 "loss": loss_name}
    norms = {"l2": summarize(jac["l2"]), "linf": summarize(jac["linf"]),
                   "theorem_norm": "linf" if found.kind == "lstm" else "l2"}
    return Diagnosis(model=description, data=data_info, certificate=cert, contraction=norms,
                     gradient=grads, truncation=curve, cost=spent,
                     meta=_meta(source, time.perf_counter() - start))


def _meta(source: dict | None, seconds: float) -> dict:
    import datetime as dt
    import platform

    from .. import __version__

    return {"command": (source or {}).get("command", "stablernn.diagnose(...)"), "stablernn_version": __version__,
            "torch": torch.__version__, "python": platform.python_version(), "platform": platform.platform(),
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "seconds": round(seconds, 2), **{k: v for k, v in (source or {}).items() if k != "command"}}
