"""Helpers for Chapter 3 (feed-forward sequence models): a TCN against recurrent models on one task.

``compare_models`` trains a TCN, a tanh RNN and an LSTM of the same width on the delayed-recall
task of Chapter 2 and reports their test losses; ``step_seconds`` times one training step
(forward, backward, optimiser) of each, on the machine that runs it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from .. import train as training
from .._validate import check_choice, check_float, check_int, check_seed
from ..models import TCN, LSTMModel, TanhRNN, count_parameters
from .part1_bptt import recall_task

__all__ = ["MODEL_NAMES", "make_model", "step_seconds", "Comparison", "compare_models"]

MODEL_NAMES = ("TCN", "RNN", "LSTM")
TCN_LEVELS, TCN_KERNEL = 3, 2  # receptive field 1 + 2 (K - 1)(2^L - 1) = 15


def make_model(name: str, hidden: int, seed: int = 0) -> torch.nn.Module:
    """A one-input, one-output TCN (``hidden`` channels), tanh RNN or LSTM (``hidden`` units).

    Used in: Chapter 3 (TCN against recurrent models).

    Parameters
    ----------
    name : "TCN", "RNN" or "LSTM".
    hidden : channels or hidden units, >= 1.
    seed : seed of the initial weights, >= 0.
    """
    name = check_choice("name", name, MODEL_NAMES)
    hidden = check_int("hidden", hidden, low=1)
    with torch.random.fork_rng():
        torch.manual_seed(check_seed("seed", seed))
        if name == "TCN":
            return TCN(1, 1, channels=hidden, levels=TCN_LEVELS, kernel_size=TCN_KERNEL)
        return (TanhRNN if name == "RNN" else LSTMModel)(1, hidden, 1)


def step_seconds(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, repeats: int = 5) -> float:
    """Fastest of ``repeats`` timed training steps (forward, mean squared error, backward, Adam step).

    The fastest run is the least disturbed by other work on the machine. The model is trained by
    these steps, so pass a copy if its weights matter.

    Used in: Chapter 3 (training speed).

    Parameters
    ----------
    model : a TanhRNN, LSTMModel or TCN with one input and one output.
    x : float tensor (B, T, 1); y : float tensor (B, T, 1).
    repeats : >= 1.

    Returns
    -------
    float: seconds.
    """
    repeats = check_int("repeats", repeats, low=1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step() -> None:
        out = model(x)
        out = out[0] if isinstance(out, tuple) else out
        loss = (out - y).pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step()  # warm-up: first-call allocations are not part of the cost
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - start)
    return best


@dataclass(frozen=True)
class Comparison:
    """Test losses and training-step times of the three models (dicts keyed by ``MODEL_NAMES``)."""

    lag: int
    chance: float
    test_loss: dict
    parameters: dict
    step_ms: dict          # milliseconds per training step on the task's sequences
    long_step_ms: dict     # milliseconds per training step on sequences of length ``long_T``
    long_T: int
    threads: int           # torch CPU threads used for the timings


def compare_models(
    lag: int = 4,
    *,
    T: int = 32,
    hidden: int = 16,
    epochs: int = 20,
    lr: float = 1e-2,
    long_T: int = 512,
    seed: int = 0,
    progress: bool = True,
) -> Comparison:
    """Train a TCN, a tanh RNN and an LSTM on delayed recall with the same budget; time their steps.

    Used in: Chapter 3 (a TCN matches recurrent models; training speed).

    Parameters
    ----------
    lag : lag of the task, in [1, T - 1].
    T : sequence length, >= 2.  hidden : width of every model, >= 1.  epochs : >= 1.
    lr : Adam step size, > 0.  long_T : length of the longer sequences timed, >= 2.
    seed : seeds data, weights and shuffling, >= 0.  progress : show a bar over the models.

    Returns
    -------
    Comparison.
    """
    from tqdm.auto import tqdm

    seed = check_seed("seed", seed)
    lr = check_float("lr", lr, low=0.0, low_open=True)
    long_T = check_int("long_T", long_T, low=2)
    progress = check_choice("progress", progress, (True, False))
    data = recall_task(256, T, lag, seed)
    test = recall_task(256, T, lag, seed + 1)
    gen = torch.Generator().manual_seed(seed)
    x_long = torch.randn(32, long_T, 1, generator=gen)
    losses, params, step_ms, long_ms = {}, {}, {}, {}
    for name in tqdm(MODEL_NAMES, desc="models", disable=not progress, leave=False):
        model = make_model(name, hidden, seed)
        params[name] = count_parameters(model)
        training.train(model, data, epochs=epochs, lr=lr, batch_size=32, seed=seed, progress=False)
        losses[name] = training.evaluate(model, test, "mse")
        step_ms[name] = 1e3 * step_seconds(make_model(name, hidden, seed), data[0][:32], data[1][:32])
        long_ms[name] = 1e3 * step_seconds(make_model(name, hidden, seed), x_long, x_long, repeats=3)
    return Comparison(lag=lag, chance=1.0, test_loss=losses, parameters=params, step_ms=step_ms,
                      long_step_ms=long_ms, long_T=long_T, threads=torch.get_num_threads())
