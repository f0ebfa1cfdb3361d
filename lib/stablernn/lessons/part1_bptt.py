"""Helpers for Chapter 2 (backpropagation through time and its truncation).

A delayed-recall task whose answer lies ``lag`` steps back, the grid of truncated-BPTT runs over
window length ``k`` and lag that the chapter runs while the book is built, the memory that autograd
keeps for one truncated window, and which inputs each output's gradient reaches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import train as training
from .._validate import check_choice, check_int, check_seed
from ..models import TanhRNN

__all__ = [
    "RECALL_CHANCE",
    "recall_task",
    "recall_loss",
    "RecallGrid",
    "recall_grid",
    "saved_tensor_bytes",
    "tbptt_memory",
    "gradient_reach",
]

RECALL_CHANCE = 1.0  # inputs are +-1 with equal probability: predicting 0 has mean squared error 1
LEARNED_FRACTION = 0.1  # "learned": final loss below this fraction of the chance level


def _check_ints(name: str, values, low: int) -> tuple[int, ...]:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) == 0:
        raise TypeError(f"{name} must be a non-empty sequence of integers, got {values!r}")
    return tuple(check_int(f"{name}[{i}]", v, low=low) for i, v in enumerate(values))


def recall_task(n: int, T: int, lag: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Delayed recall: at every step t >= lag, output the input from ``lag`` steps back.

    Inputs are independent +-1 signs, so a model that does not remember ``x_{t-lag}`` can do no
    better than predicting 0, with mean squared error ``RECALL_CHANCE`` = 1. Steps t < lag have no
    target and are masked out.

    Used in: Chapter 2 (truncated BPTT), Chapter 3 (TCN against recurrent models).

    Parameters
    ----------
    n : number of sequences, >= 1.
    T : sequence length, >= 2.
    lag : how far back the answer lies, in [1, T - 1].
    seed : seed of the signs, >= 0.

    Returns
    -------
    X : float32 (n, T, 1); Y : float32 (n, T, 1) with ``Y[:, t] = X[:, t - lag]``; mask : (n, T) of 0/1.
    """
    n = check_int("n", n, low=1)
    T = check_int("T", T, low=2)
    lag = check_int("lag", lag, low=1, high=T - 1)
    rng = np.random.default_rng(check_seed("seed", seed))
    x = rng.choice([-1.0, 1.0], size=(n, T, 1))
    y = np.zeros_like(x)
    y[:, lag:] = x[:, :-lag]
    mask = np.zeros((n, T))
    mask[:, lag:] = 1.0
    return tuple(torch.from_numpy(a).float() for a in (x, y, mask))


def recall_loss(
    k: int | None,
    lag: int,
    *,
    hidden: int = 16,
    T: int = 16,
    n: int = 256,
    epochs: int = 12,
    lr: float = 2e-2,
    seed: int = 0,
) -> float:
    """Train a tanh RNN on delayed recall with truncated BPTT (window ``k``) and return its test loss.

    The test loss is the mean squared error of the full recurrent model (the forward pass always
    sees the whole sequence) on fresh sequences; ``RECALL_CHANCE`` is what forgetting scores.

    Used in: Chapter 2 (truncated BPTT).

    Parameters
    ----------
    k : window length of truncated BPTT, >= 1; None for full BPTT.
    lag : lag of the task, in [1, T - 1].
    hidden : hidden size, >= 1.  T : sequence length, >= 2.  n : training sequences, >= 1.
    epochs : >= 1.  lr : Adam step size, > 0.  seed : seeds the data, the weights and the shuffling.

    Returns
    -------
    float: test mean squared error (chance level 1).
    """
    seed = check_seed("seed", seed)
    hidden = check_int("hidden", hidden, low=1)
    data = recall_task(n, T, lag, seed)
    test = recall_task(256, T, lag, seed + 1)
    torch.manual_seed(seed)
    model = TanhRNN(1, hidden, 1)
    mode = "full" if k is None else "tbptt"
    training.train(model, data, mode=mode, k=k, epochs=epochs, lr=lr, batch_size=64, seed=seed, progress=False)
    return training.evaluate(model, test, "mse")


@dataclass(frozen=True)
class RecallGrid:
    """Test losses of delayed recall over window lengths ``ks`` (rows) and lags ``lags`` (columns)."""

    ks: tuple[int, ...]
    lags: tuple[int, ...]
    loss: np.ndarray  # (len(ks), len(lags)) test mean squared error
    chance: float = RECALL_CHANCE
    threshold: float = LEARNED_FRACTION * RECALL_CHANCE

    @property
    def learned(self) -> np.ndarray:
        """(len(ks), len(lags)) bool: the loss fell below ``threshold``."""
        return self.loss < self.threshold


def recall_grid(ks, lags, *, seed: int = 0, progress: bool = True, **kwargs) -> RecallGrid:
    """Run ``recall_loss`` for every window length in ``ks`` and lag in ``lags``.

    Used in: Chapter 2 (the context-length explorer).

    Parameters
    ----------
    ks : window lengths, integers >= 1.
    lags : lags, integers >= 1.
    seed : seed of every run, >= 0.
    progress : show a tqdm bar over the runs.
    **kwargs : passed to ``recall_loss`` (hidden, T, n, epochs, lr).

    Returns
    -------
    RecallGrid.
    """
    from tqdm.auto import tqdm

    ks, lags = _check_ints("ks", ks, 1), _check_ints("lags", lags, 1)
    progress = check_choice("progress", progress, (True, False))
    loss = np.empty((len(ks), len(lags)))
    with tqdm(total=loss.size, desc="truncated BPTT runs", disable=not progress, leave=False) as bar:
        for i, k in enumerate(ks):
            for j, lag in enumerate(lags):
                loss[i, j] = recall_loss(k, lag, seed=seed, **kwargs)
                bar.update(1)
    return RecallGrid(ks, lags, loss)


def saved_tensor_bytes(model: TanhRNN, x: torch.Tensor, k: int) -> int:
    """Peak bytes that autograd saves for the backward pass of one truncated-BPTT window.

    Each window's graph is freed by its backward pass before the next window runs, so the peak
    is the largest window's total. Tensors saved several times (the weights, at every step) are
    counted once. Deterministic: it counts bytes, it does not time anything.

    Used in: Chapter 2 (memory of truncated BPTT against k).

    Parameters
    ----------
    model : a TanhRNN.
    x : float tensor (B, T, input_size).
    k : window length, >= 1 (k >= T is full BPTT).

    Returns
    -------
    int: bytes.
    """
    if not isinstance(model, TanhRNN):
        raise TypeError(f"model must be a TanhRNN, got {type(model).__name__}")
    k = check_int("k", k, low=1)
    peak = 0
    for _, _, y in _windows_with_memory(model, x, k):
        peak = max(peak, y)
    return peak


def _windows_with_memory(model: TanhRNN, x: torch.Tensor, k: int):
    """Run truncated BPTT over x; yield (start, stop, bytes saved by that window's forward pass)."""
    state = None
    for start in range(0, x.shape[1], k):
        seen: dict[tuple[int, int], int] = {}

        def pack(t: torch.Tensor) -> torch.Tensor:
            key = (t.untyped_storage().data_ptr(), t.storage_offset())
            seen[key] = max(seen.get(key, 0), t.numel() * t.element_size())
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            y, state = model(x[:, start : start + k], state)
        y.pow(2).mean().backward()
        state = state.detach()
        yield start, min(start + k, x.shape[1]), sum(seen.values())


def tbptt_memory(ks, *, T: int = 64, hidden: int = 64, batch: int = 32, seed: int = 0) -> np.ndarray:
    """Peak saved-tensor bytes of truncated BPTT for each window length in ``ks``.

    Used in: Chapter 2 (memory grows linearly with k).

    Parameters
    ----------
    ks : window lengths, integers >= 1.
    T : sequence length, >= 1.  hidden : hidden size, >= 1.  batch : sequences, >= 1.
    seed : seed of the weights and inputs, >= 0.

    Returns
    -------
    array (len(ks),) of bytes.
    """
    ks = _check_ints("ks", ks, 1)
    T = check_int("T", T, low=1)
    hidden = check_int("hidden", hidden, low=1)
    batch = check_int("batch", batch, low=1)
    gen = torch.Generator().manual_seed(check_seed("seed", seed))
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = TanhRNN(1, hidden, 1)
    x = torch.randn(batch, T, 1, generator=gen)
    return np.array([saved_tensor_bytes(model, x, k) for k in ks], dtype=float)


def gradient_reach(T: int, k: int | None, seed: int = 0) -> np.ndarray:
    """Which inputs each output depends on, and which of them its gradient reaches, under truncated BPTT.

    Runs a small tanh RNN with ``train.tbptt_chunks`` (the training loop's own windows) and asks
    autograd for ``d y_t / d x_s``. The forward dependence is that of the full model (the carried
    state brings all of the history).

    Used in: Chapter 2 (the diagram of the truncation windows).

    Parameters
    ----------
    T : sequence length, in [1, 200].
    k : window length, >= 1; None for full BPTT.
    seed : seed of the weights and the inputs, >= 0.

    Returns
    -------
    int array (T, T): entry [t, s] is 0 if y_t does not depend on x_s (s > t), 1 if it depends on
    x_s but the gradient does not reach it (cut by truncation), 2 if the gradient reaches it.
    """
    T = check_int("T", T, low=1, high=200)
    k = T if k is None else check_int("k", k, low=1)
    with torch.random.fork_rng():
        torch.manual_seed(check_seed("seed", seed))
        model = TanhRNN(1, 4, 1)
        x = torch.randn(1, T, 1, requires_grad=True)
    y = torch.cat([out for _, _, out in training.tbptt_chunks(model, x, k)], dim=1)
    out = np.zeros((T, T), dtype=int)
    out[np.tril_indices(T)] = 1  # the forward pass sees the whole history
    for t in range(T):
        (grad,) = torch.autograd.grad(y[0, t, 0], x, retain_graph=True)
        out[t, grad[0, :, 0].abs().numpy() > 0] = 2
    return out
