"""One training loop for the book's sequence models: full BPTT, truncated BPTT, or the k-truncated model.

Data are a tuple ``(X, Y)`` or ``(X, Y, mask)`` of tensors (numpy arrays are converted):

- ``X``: float ``(N, T, input_size)``, or int64 token ids ``(N, T)`` for a model with an embedding;
- ``Y``: float ``(N, T, output_size)`` for ``loss="mse"`` or ``"bce"`` (targets in [0, 1]), or
  int64 class ids ``(N, T)`` in ``[0, output_size)`` for ``loss="ce"``;
- ``mask``: optional ``(N, T)`` of 0/1 (or bool): which steps count. Pad variable-length sequences
  at the end and mask the padding; a task scored only at its last step masks every other step.

Losses are per step, averaged over the counted steps: ``mse`` is the mean squared error over the
outputs of a step, ``bce`` the binary cross-entropy *summed* over the outputs (nats per frame, the
polyphonic-music metric), ``ce`` the cross-entropy (its exponential is the perplexity).

A word-level language model uses the same tensors: batch a token stream into ``B`` contiguous
rows ``stream (B, L+1)``, pass ``X = stream[:, :-1]``, ``Y = stream[:, 1:]`` and train with
``mode="tbptt"``: every minibatch of rows is walked in windows of ``k`` tokens, carrying the
(detached) state from one window to the next.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from stablernn._validate import check_array, check_choice, check_float, check_int, check_seed
from stablernn.models import TCN, LSTMModel, TanhRNN, truncated_forward


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Torch on one thread inside the block, as it was after (Chapters 8 and 10 train in the page's
    kernel). The book's models are so small that a second thread saves nothing, and on a busy 2-core
    machine it can stall them: Chapter 8's quick run never finished beside one CPU-bound process with
    two threads, and took 18 s with one."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)

__all__ = ["TrainResult", "train", "evaluate", "tbptt_chunks", "step_losses"]

MODES = ("full", "tbptt", "truncated")
LOSSES = ("mse", "bce", "ce")
OPTIMIZERS = ("adam", "sgd")
_RECURRENT = (TanhRNN, LSTMModel)


@dataclass
class TrainResult:
    """What a call to ``train`` did.

    Attributes
    ----------
    train_loss, valid_loss : list of float, one per epoch (``valid_loss`` empty without validation data)
    best_epoch : int or None
        1-based epoch with the lowest validation loss (its weights are the ones left in the model).
    seconds : float;  steps : int
        Wall-clock time and number of optimiser steps.
    stopped : "completed", "early_stopping", "callback" or "diverged" (non-finite training loss)
    """

    train_loss: list[float] = field(default_factory=list)
    valid_loss: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    seconds: float = 0.0
    steps: int = 0
    stopped: str = "completed"


def tbptt_chunks(
    model: nn.Module, x: torch.Tensor, k: int, state: Any = None
) -> Iterator[tuple[int, int, torch.Tensor]]:
    """Run a recurrent model over x in windows of k steps, carrying the state but detaching it.

    The forward pass sees the whole history, but gradients flow back at most k-1 steps (to the
    start of the window): the truncated-BPTT recipe of PyTorch's word-language-model example.
    Windows are produced lazily, so the caller may take an optimiser step between them.

    Parameters
    ----------
    model : TanhRNN or LSTMModel
    x : tensor (B, T, input_size), or int64 (B, T) for a model with an embedding
    k : int >= 1, the window length
    state : initial state or None (zero)

    Yields
    ------
    (start, stop, y) with y (B, stop-start, output_size) the outputs for steps start..stop-1
    """
    if not isinstance(model, _RECURRENT):
        raise TypeError(f"model must be a TanhRNN or LSTMModel, got {type(model).__name__}")
    k = check_int("k", k, low=1)
    if not isinstance(x, torch.Tensor) or x.dim() < 2:
        raise ValueError(f"x must be a tensor (B, T[, input_size]), got {type(x).__name__}")
    for start in range(0, x.shape[1], k):
        stop = min(start + k, x.shape[1])
        y, state = model(x[:, start:stop], state)
        state = _detach(state)
        yield start, stop, y


def _detach(state: Any) -> Any:
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def _windowed_chunks(
    model: nn.Module, x: torch.Tensor, k: int | None, context: int, chunk: int
) -> Iterator[tuple[int, int, torch.Tensor]]:
    """Outputs in blocks of ``chunk`` steps for a model whose output t sees inputs t-context+1..t."""
    for start in range(0, x.shape[1], chunk):
        stop = min(start + chunk, x.shape[1])
        low = max(0, start - context + 1)  # the inputs that the block's outputs can see
        yield start, stop, _forward(model, x[:, low:stop], k)[:, start - low :]


def _forward(model: nn.Module, x: torch.Tensor, k: int | None) -> torch.Tensor:
    if isinstance(model, _RECURRENT):
        return model(x)[0] if k is None else truncated_forward(model, x, k)
    return model(x)


def _chunks(
    model: nn.Module, x: torch.Tensor, mode: str, k: int | None, chunk: int | None
) -> Iterator[tuple[int, int, torch.Tensor]]:
    """Blocks of outputs, one optimiser step each, as ``mode`` prescribes (arguments already checked)."""
    steps = x.shape[1]
    if mode == "tbptt":
        return tbptt_chunks(model, x, k)
    if chunk is None or chunk >= steps:
        return iter([(0, steps, _forward(model, x, k if mode == "truncated" else None))])
    if mode == "truncated":
        return _windowed_chunks(model, x, k, k, chunk)
    if isinstance(model, _RECURRENT):  # full context in blocks: carrying the state is exact
        return tbptt_chunks(model, x, chunk)
    return _windowed_chunks(model, x, None, model.receptive_field, chunk)


def step_losses(y_hat: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    """Per-step losses (B, T) of outputs ``y_hat`` against targets ``y`` (see the module notes;
    also the default losses of ``stablernn.diagnose``)."""
    if loss == "mse":
        return (y_hat - y).pow(2).mean(-1)
    if loss == "bce":
        return F.binary_cross_entropy_with_logits(y_hat, y, reduction="none").sum(-1)
    classes = y_hat.shape[-1]
    return F.cross_entropy(y_hat.reshape(-1, classes), y.reshape(-1), reduction="none").reshape(y.shape)


def _masked_sum(y_hat: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, loss: str) -> tuple[torch.Tensor, float]:
    per_step = step_losses(y_hat, y.to(y_hat.dtype) if loss != "ce" else y, loss)
    m = mask.to(per_step.dtype)
    return (per_step * m).sum(), float(m.sum())


def _check_model(model: Any) -> nn.Module:
    if not isinstance(model, _RECURRENT + (TCN,)):
        raise TypeError(f"model must be a TanhRNN, LSTMModel or TCN, got {type(model).__name__}")
    return model


def _to_tensor(name: str, value: Any) -> torch.Tensor:
    if isinstance(value, np.ndarray):
        integer = np.issubdtype(value.dtype, np.integer)
        value = torch.from_numpy(value).long() if integer else torch.from_numpy(value.astype(np.float32))
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor or numpy array, got {type(value).__name__}")
    return value


def _check_data(name: str, data: Any, model: nn.Module, loss: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Validate ``(X, Y[, mask])`` against the model and loss; return X, Y and a float mask (N, T)."""
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
        raise TypeError(f"{name} must be a tuple (X, Y) or (X, Y, mask), got {type(data).__name__}")
    x, y = _to_tensor(f"{name} X", data[0]), _to_tensor(f"{name} Y", data[1])
    if model.vocab_size is None:
        check_array(f"{name} X", x, ndim=3, shape=(None, None, model.input_size))
        if not x.is_floating_point():
            raise ValueError(f"{name} X must be a float tensor for a model without embedding, got {x.dtype}")
    else:
        arr = check_array(f"{name} X", x, ndim=2)
        if x.dtype != torch.long or arr.min() < 0 or arr.max() >= model.vocab_size:
            raise ValueError(f"{name} X must hold int64 token ids in [0, {model.vocab_size}), got {x.dtype}")
    n, steps = x.shape[0], x.shape[1]
    if loss == "ce":
        arr = check_array(f"{name} Y", y, shape=(n, steps))
        if y.dtype != torch.long or arr.min() < 0 or arr.max() >= model.output_size:
            raise ValueError(f"{name} Y must hold int64 class ids in [0, {model.output_size}) for loss='ce'")
    else:
        arr = check_array(f"{name} Y", y, shape=(n, steps, model.output_size))
        if loss == "bce" and (arr.min() < 0 or arr.max() > 1):
            raise ValueError(f"{name} Y must hold targets in [0, 1] for loss='bce', got [{arr.min()}, {arr.max()}]")
    if len(data) == 3 and data[2] is not None:
        m = check_array(f"{name} mask", _to_tensor(f"{name} mask", data[2]), shape=(n, steps))
        if not np.all((m == 0) | (m == 1)) or m.sum() == 0:
            raise ValueError(f"{name} mask must hold 0/1 values with at least one 1")
        mask = torch.as_tensor(m, dtype=torch.float32)
    else:
        mask = torch.ones(n, steps)
    return x, y, mask


def _check_mode(model: nn.Module, mode: str, k: Any, chunk: Any) -> tuple[str, int | None, int | None]:
    mode = check_choice("mode", mode, MODES)
    if mode == "full":
        if k is not None:
            raise ValueError(f"k must be None when mode='full', got {k!r}")
    else:
        if not isinstance(model, _RECURRENT):
            raise ValueError(f"mode={mode!r} needs a recurrent model (TCN is trained with mode='full')")
        if k is None:
            raise ValueError(f"k must be given (an integer >= 1) when mode={mode!r}")
        k = check_int("k", k, low=1)
    if chunk is not None:
        chunk = check_int("chunk", chunk, low=1)
        if mode == "tbptt" or (mode == "full" and isinstance(model, _RECURRENT)):
            raise ValueError(f"chunk applies to mode='truncated' and to a TCN only, got mode={mode!r}")
    return mode, k, chunk


def _resolve_device(device: Any) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device must be None, 'cpu', 'cuda' or a torch.device, got {device!r}") from err


@torch.no_grad()
def _mean_loss(model, x, y, mask, loss, k, chunk, batch_size, device) -> float:
    was_training = model.training
    model.eval()
    total, count = 0.0, 0.0
    mode = "full" if k is None else "truncated"
    for rows in torch.arange(x.shape[0]).split(batch_size):
        xb, yb, mb = x[rows].to(device), y[rows].to(device), mask[rows].to(device)
        for start, stop, y_hat in _chunks(model, xb, mode, k, chunk):
            s, c = _masked_sum(y_hat, yb[:, start:stop], mb[:, start:stop], loss)
            total, count = total + float(s), count + c
    model.train(was_training)
    return total / count


def evaluate(
    model: nn.Module,
    data: tuple,
    loss: str,
    k: int | None = None,
    batch_size: int = 64,
    *,
    chunk: int | None = None,
    device: Any = None,
) -> float:
    """Mean per-step loss of a model on data (see the module docstring for the data and losses).

    Parameters
    ----------
    model : TanhRNN, LSTMModel or TCN (evaluated in eval mode, then restored)
    data : (X, Y) or (X, Y, mask)
    loss : "mse", "bce" or "ce"
    k : int >= 1 or None
        Given: evaluate the k-truncated model (recurrent models only).
    batch_size : int >= 1, rows per forward pass
    chunk : int >= 1 or None
        Evaluate ``chunk`` time steps at a time to bound memory on long streams; the result is the
        same (the state is carried, or the k / receptive-field context is included).
    device : None (where the model's parameters are), "cpu", "cuda" or a torch.device

    Returns
    -------
    float: the loss averaged over all counted steps of the data.
    """
    model = _check_model(model)
    loss = check_choice("loss", loss, LOSSES)
    x, y, mask = _check_data("data", data, model, loss)
    if k is not None:
        _check_mode(model, "truncated", k, None)
    batch_size = check_int("batch_size", batch_size, low=1)
    chunk = None if chunk is None else check_int("chunk", chunk, low=1)
    device = next(model.parameters()).device if device is None else _resolve_device(device)
    model.to(device)
    return _mean_loss(model, x, y, mask, loss, k, chunk, batch_size, device)


def _make_optimizer(name: str, params, lr: float) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=lr) if name == "adam" else torch.optim.SGD(params, lr=lr)


def _train_epoch(model, opt, x, y, mask, cfg, gen, bar) -> tuple[float, int]:
    """One pass over the data; returns the mean training loss and the number of optimiser steps."""
    model.train()
    total, count, steps = 0.0, 0.0, 0
    order = torch.randperm(x.shape[0], generator=gen)
    for rows in order.split(cfg["batch_size"]):
        xb, yb, mb = (t[rows].to(cfg["device"]) for t in (x, y, mask))
        for start, stop, y_hat in _chunks(model, xb, cfg["mode"], cfg["k"], cfg["chunk"]):
            s, c = _masked_sum(y_hat, yb[:, start:stop], mb[:, start:stop], cfg["loss"])
            if bar is not None:
                bar.update(1)
            if c == 0:
                continue
            opt.zero_grad(set_to_none=True)
            (s / c).backward()
            if cfg["clip"] is not None:
                nn.utils.clip_grad_norm_(model.parameters(), cfg["clip"])
            opt.step()
            if cfg["project"]:
                model.project_()
            total, count, steps = total + float(s.detach()), count + c, steps + 1
    return (total / count if count else math.nan), steps


def _blocks_per_row(steps: int, mode: str, k: int | None, chunk: int | None) -> int:
    width = k if mode == "tbptt" else (chunk or steps)
    return math.ceil(steps / width)


def train(
    model: nn.Module,
    train_data: tuple,
    valid_data: tuple | None = None,
    *,
    mode: str = "full",
    k: int | None = None,
    loss: str = "mse",
    epochs: int = 10,
    lr: float = 1e-3,
    optimizer: str = "adam",
    batch_size: int = 32,
    chunk: int | None = None,
    project: bool = False,
    clip: float | None = None,
    seed: int | None = 0,
    patience: int | None = None,
    device: Any = None,
    progress: bool = True,
    callback: Callable[[dict], Any] | None = None,
) -> TrainResult:
    """Train a sequence model in place by minibatch gradient descent.

    Parameters
    ----------
    model : TanhRNN, LSTMModel or TCN (moved to ``device``)
    train_data, valid_data : (X, Y) or (X, Y, mask), see the module docstring; valid_data optional
    mode : "full" (BPTT over whole sequences), "tbptt" (windows of k steps, state carried but
        detached) or "truncated" (train the k-truncated feed-forward model)
    k : int >= 1; required for "tbptt" and "truncated", None for "full"
    loss : "mse", "bce" or "ce"
    epochs : int >= 1;  lr : float > 0;  optimizer : "adam" or "sgd";  batch_size : int >= 1 (rows)
    chunk : int >= 1 or None
        Output steps per optimiser step for mode="truncated" or a TCN (default: whole sequences).
    project : bool
        Call ``model.project_()`` after every optimiser step (also done whenever ``model.stable``).
    clip : float > 0 or None, gradient-norm clipping
    seed : int >= 0 or None
        Seeds shuffling and dropout (the global torch RNG is left as it was).
    patience : int >= 1 or None
        Stop after this many epochs without a lower validation loss.
    device : None (cuda if available), "cpu", "cuda" or a torch.device
    progress : bool, show a tqdm bar;  callback : called after each epoch with a dict
        (epoch, epochs, train_loss, valid_loss, best_epoch, seconds, steps, model); returning False stops.

    Returns
    -------
    TrainResult. With validation data the model ends with the weights of its best epoch.
    """
    model = _check_model(model)
    mode, k, chunk = _check_mode(model, mode, k, chunk)
    loss = check_choice("loss", loss, LOSSES)
    x, y, mask = _check_data("train_data", train_data, model, loss)
    valid = None if valid_data is None else _check_data("valid_data", valid_data, model, loss)
    stable = bool(getattr(model, "stable", False))
    project = check_choice("project", project, (True, False))
    if (project or stable) and not isinstance(model, _RECURRENT):
        raise ValueError("project=True needs a TanhRNN or LSTMModel (a TCN has no stable set to project on)")
    if patience is not None:
        patience = check_int("patience", patience, low=1)
        if valid is None:
            raise ValueError("patience needs valid_data (early stopping watches the validation loss)")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")
    cfg = {
        "mode": mode,
        "k": k,
        "chunk": chunk,
        "loss": loss,
        "batch_size": check_int("batch_size", batch_size, low=1),
        "clip": None if clip is None else check_float("clip", clip, low=0.0, low_open=True),
        "project": bool(project or stable),
        "device": _resolve_device(device),
    }
    epochs = check_int("epochs", epochs, low=1)
    lr = check_float("lr", lr, low=0.0, low_open=True)
    optimizer = check_choice("optimizer", optimizer, OPTIMIZERS)
    seed = check_seed("seed", seed)
    progress = check_choice("progress", progress, (True, False))
    model.to(cfg["device"])
    opt = _make_optimizer(optimizer, model.parameters(), lr)
    devices = [cfg["device"]] if cfg["device"].type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        if seed is not None:
            torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed if seed is not None else int(torch.seed() % 2**63))
        return _run_epochs(model, opt, (x, y, mask), valid, cfg, epochs, patience, gen, progress, callback)


def _run_epochs(model, opt, data, valid, cfg, epochs, patience, gen, progress, callback) -> TrainResult:
    from .progress import progress_bar

    x, y, mask = data
    result, best_loss, best_state, since_best = TrainResult(), math.inf, None, 0
    per_epoch = math.ceil(x.shape[0] / cfg["batch_size"]) * _blocks_per_row(x.shape[1], cfg["mode"], cfg["k"], cfg["chunk"])
    bar = progress_bar(show=progress, total=epochs * per_epoch, unit="step", leave=False) if progress else None
    start = time.perf_counter()
    eval_k = cfg["k"] if cfg["mode"] == "truncated" else None
    eval_chunk = cfg["k"] if cfg["mode"] == "tbptt" else cfg["chunk"]
    for epoch in range(1, epochs + 1):
        train_loss, steps = _train_epoch(model, opt, x, y, mask, cfg, gen, bar)
        result.train_loss.append(train_loss)
        result.steps += steps
        valid_loss = None
        if valid is not None:
            valid_loss = _mean_loss(model, *valid, cfg["loss"], eval_k, eval_chunk, cfg["batch_size"], cfg["device"])
            result.valid_loss.append(valid_loss)
            if valid_loss < best_loss:
                best_loss, result.best_epoch, since_best = valid_loss, epoch, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                since_best += 1
        result.seconds = time.perf_counter() - start
        if bar is not None:
            bar.set_postfix(train=f"{train_loss:.4g}", valid="-" if valid_loss is None else f"{valid_loss:.4g}")
        report = {
            "epoch": epoch, "epochs": epochs, "train_loss": train_loss, "valid_loss": valid_loss,
            "best_epoch": result.best_epoch, "seconds": result.seconds, "steps": result.steps, "model": model,
        }  # fmt: skip
        if callback is not None and callback(report) is False:
            result.stopped = "callback"
        elif not math.isfinite(train_loss):
            result.stopped = "diverged"
        elif patience is not None and since_best >= patience:
            result.stopped = "early_stopping"
        if result.stopped != "completed":
            break
    if bar is not None:
        bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    result.seconds = time.perf_counter() - start
    return result
