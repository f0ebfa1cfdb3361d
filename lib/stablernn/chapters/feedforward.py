"""Chapter 3 (``03_feedforward``): feed-forward sequence models and dilated causal convolutions.

``receptive`` is the data of the receptive-field explorer (the formula against the impulse response
of a real ``DilatedConvStack``); ``compare_models`` trains a TCN, a tanh RNN and an LSTM of the same
width on Chapter 2's delayed recall and times one training step of each on the reader's machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import models
from .. import train as training
from .._validate import check_choice, check_float, check_int, check_seed
from ..data.tasks import recall_task
from ..models import MODEL_NAMES, TCN_KERNEL, TCN_LEVELS, count_parameters, make_model
from ..progress import progress_bar
from ..timing import best_seconds
from . import Section


def step_seconds(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, repeats: int = 5) -> float:
    """Fastest of ``repeats`` timed training steps (forward, mean squared error, backward, Adam step),
    after one warm-up step. The model is trained by these steps, so pass a copy if its weights matter.

    Parameters
    ----------
    model : a TanhRNN, LSTMModel or TCN with one input and one output.
    x : float tensor (B, T, 1); y : float tensor (B, T, 1).
    repeats : >= 1.
    """
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step() -> None:
        out = model(x)
        out = out[0] if isinstance(out, tuple) else out
        loss = (out - y).pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return best_seconds(step, repeats=repeats, warmup=1)



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
    seed = check_seed("seed", seed)
    lr = check_float("lr", lr, low=0.0, low_open=True)
    long_T = check_int("long_T", long_T, low=2)
    progress = check_choice("progress", progress, (True, False))
    data = recall_task(256, T, lag, seed)
    test = recall_task(256, T, lag, seed + 1)
    gen = torch.Generator().manual_seed(seed)
    x_long = torch.randn(32, long_T, 1, generator=gen)
    losses, params, step_ms, long_ms = {}, {}, {}, {}
    for name in progress_bar(MODEL_NAMES, show=progress, desc="models", leave=False):
        model = make_model(name, hidden, seed)
        params[name] = count_parameters(model)
        training.train(model, data, epochs=epochs, lr=lr, batch_size=32, seed=seed, progress=False)
        losses[name] = training.evaluate(model, test, "mse")
        step_ms[name] = 1e3 * step_seconds(make_model(name, hidden, seed), data[0][:32], data[1][:32])
        long_ms[name] = 1e3 * step_seconds(make_model(name, hidden, seed), x_long, x_long, repeats=3)
    return Comparison(lag=lag, chance=1.0, test_loss=losses, parameters=params, step_ms=step_ms,
                      long_step_ms=long_ms, long_T=long_T, threads=torch.get_num_threads())


# -- the receptive-field explorer ---------------------------------------------------------------


@dataclass(frozen=True)
class ReceptiveData:
    """Numbers shown by the receptive-field explorer (positions are s - t, 0 = the output's own step)."""

    kernel_size: int
    dilations: tuple[int, ...]
    formula: int               # 1 + sum (K - 1) d_l
    measured: int              # span of the nonzero impulse response
    positions: np.ndarray      # (W,) input positions s - t shown, -(W-1)..0
    cone: list                 # per layer 0..L: sorted positions that reach output t
    edges: list                # (layer, from position, to position) of the cone, layer l-1 -> l
    response: np.ndarray       # (W,) |response of y_t to an impulse at x_s|, max-normalised


def receptive(layers: int = 3, kernel_size: int = 2, schedule: str = "doubling", seed: int = 0) -> ReceptiveData:
    """Diagram, formula and measured receptive field for one setting of the explorer.

    Parameters
    ----------
    layers : number of convolution layers, in [1, 6].
    kernel_size : kernel size K of every layer, in [1, 4].
    schedule : "none", "doubling" or "1,2,1,2" (see ``models.dilation_schedule``).
    seed : seed of the network's weights, >= 0.

    Returns
    -------
    ReceptiveData.
    """
    layers = check_int("layers", layers, low=1, high=6)
    kernel_size = check_int("kernel_size", kernel_size, low=1, high=4)
    dilations = models.dilation_schedule(schedule, layers)
    seed = check_seed("seed", seed)
    formula = models.receptive_field([kernel_size] * layers, list(dilations))
    width = formula + 3  # a few inputs beyond the field, to show that they do not reach t
    response = models.impulse_response(kernel_size, dilations, width, seed)
    nonzero = np.flatnonzero(response > 0)
    measured = int(width - nonzero.min()) if nonzero.size else 0
    cone, edges = models.dependency_cone(kernel_size, dilations)
    return ReceptiveData(
        kernel_size=kernel_size, dilations=dilations, formula=formula, measured=measured,
        positions=np.arange(-(width - 1), 1), cone=cone, edges=edges,
        response=response / response.max() if response.max() > 0 else response,
    )


# -- the chapter's worked numbers ---------------------------------------------------------------

def receptive_fields() -> Section:
    """WaveNet's block (K = 2, d = 1, 2, ..., 512) against the same ten layers undilated (values ``*_R``)."""
    return Section(values={"wavenet_R": models.receptive_field([2] * 10, [2**i for i in range(10)]),
                           "plain_R": models.receptive_field([2] * 10, [1] * 10)})


def model_comparison(lag: int = 4) -> Section:
    """The TCN against the tanh RNN and the LSTM on delayed recall: losses, sizes and step times, as a table."""
    cmp = compare_models(lag=lag)
    values = {"tcn_R": models.tcn_receptive_field(TCN_KERNEL, TCN_LEVELS), "long_T": cmp.long_T, "threads": cmp.threads}
    for name in MODEL_NAMES:
        values[f"loss_{name}"] = f"{cmp.test_loss[name]:.1e}"
        values[f"ms_{name}"] = f"{cmp.step_ms[name]:.1f}"
        values[f"longms_{name}"] = f"{cmp.long_step_ms[name]:.0f}"
        values[f"params_{name}"] = cmp.parameters[name]  # not matched: same width, different sizes
    fastest = min(("RNN", "LSTM"), key=lambda n: cmp.long_step_ms[n])
    ratio = cmp.long_step_ms["TCN"] / cmp.long_step_ms[fastest]
    values.update(speed_rec=fastest, speed_ratio=f"{max(ratio, 1 / ratio):.1f}",
                  speed_word="slower" if ratio > 1 else "faster")
    lines = [f"{'model':6} | {'parameters':>10} | {'test loss':>9} | {'ms/step, T=32':>13} | ms/step, T={cmp.long_T}"]
    lines += [f"{name:6} | {cmp.parameters[name]:10d} | {cmp.test_loss[name]:9.1e} | {cmp.step_ms[name]:13.1f} | "
              f"{cmp.long_step_ms[name]:.0f}" for name in MODEL_NAMES]
    return Section(values=values, table="\n".join(lines))
