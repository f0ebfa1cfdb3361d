"""Receptive-field explorer (Chapter 3): which inputs reach output t through a stack of causal convolutions.

The reader sets the number of layers, the kernel size and the dilation schedule. The explorer draws
the WaveNet-style diagram (nodes per layer, the edges that lead to output t), states the formula
``R = 1 + sum_l (K_l - 1) d_l`` and checks it against the impulse response of an actual
``models.DilatedConvStack``: the inputs whose impulse changes output t.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import models
from .._validate import check_choice, check_int, check_seed
from ..figures.receptive_field import receptive_field_figure
from .base import Control, Explorer

SCHEDULES = ("none", "doubling", "1,2,1,2")
CHANNELS = 4  # a few channels: an accidental cancellation along every path is then vanishingly unlikely


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


def dilation_schedule(schedule: str, layers: int) -> tuple[int, ...]:
    """Dilations of ``layers`` layers: all 1 ("none"), 1, 2, 4, ... ("doubling") or 1, 2, 1, 2, ... ("1,2,1,2").

    Used in: Chapter 3 (receptive fields).
    """
    schedule = check_choice("schedule", schedule, SCHEDULES)
    layers = check_int("layers", layers, low=1)
    if schedule == "none":
        return (1,) * layers
    if schedule == "doubling":
        return tuple(2**i for i in range(layers))
    return tuple(1 + i % 2 for i in range(layers))


def dependency_cone(kernel_size: int, dilations: tuple[int, ...]) -> tuple[list, list]:
    """Positions (relative to output t) of every node that output t depends on, layer by layer, and the edges."""
    cone = [[0]]
    edges = []
    for layer in range(len(dilations), 0, -1):
        d = dilations[layer - 1]
        below = set()
        for p in cone[0]:
            for i in range(kernel_size):
                below.add(p - i * d)
                edges.append((layer, p - i * d, p))
        cone.insert(0, sorted(below))
    return cone, edges


def impulse_response(kernel_size: int, dilations: tuple[int, ...], width: int, seed: int = 0) -> np.ndarray:
    """|y_t| of a DilatedConvStack (zero biases) for an impulse at each of the last ``width`` inputs.

    With zero biases the response to the zero input is exactly zero (tanh(0) = 0), so the response
    to an impulse at x_s is exactly zero unless x_s lies in output t's receptive field.

    Returns
    -------
    array (width,): entry j is the response to an impulse at position s - t = j - (width - 1).
    """
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = models.DilatedConvStack(CHANNELS, [kernel_size] * len(dilations), list(dilations))
    with torch.no_grad():
        for layer in net.layers:
            layer.conv.bias.zero_()
        x = torch.zeros(width, CHANNELS, width)
        x[torch.arange(width), 0, torch.arange(width)] = 1.0  # row j: an impulse at input j
        y = net(x)[:, :, -1]  # output at the last step, t = width - 1
    return y.abs().sum(dim=1).double().numpy()


def compute(layers: int = 3, kernel_size: int = 2, schedule: str = "doubling", seed: int = 0) -> ReceptiveData:
    """Diagram, formula and measured receptive field for one setting of the explorer.

    Used in: Chapter 3 (dilated causal convolutions).

    Parameters
    ----------
    layers : number of convolution layers, in [1, 6].
    kernel_size : kernel size K of every layer, in [1, 4].
    schedule : "none", "doubling" or "1,2,1,2" (see ``dilation_schedule``).
    seed : seed of the network's weights, >= 0.

    Returns
    -------
    ReceptiveData.
    """
    layers = check_int("layers", layers, low=1, high=6)
    kernel_size = check_int("kernel_size", kernel_size, low=1, high=4)
    dilations = dilation_schedule(schedule, layers)
    seed = check_seed("seed", seed)
    formula = models.receptive_field([kernel_size] * layers, list(dilations))
    width = formula + 3  # a few inputs beyond the field, to show that they do not reach t
    response = impulse_response(kernel_size, dilations, width, seed)
    nonzero = np.flatnonzero(response > 0)
    measured = int(width - nonzero.min()) if nonzero.size else 0
    cone, edges = dependency_cone(kernel_size, dilations)
    return ReceptiveData(
        kernel_size=kernel_size, dilations=dilations, formula=formula, measured=measured,
        positions=np.arange(-(width - 1), 1), cone=cone, edges=edges,
        response=response / response.max() if response.max() > 0 else response,
    )


CONTROLS = (
    Control("layers", "layers", (1, 2, 3, 4, 5), 3, step=1, fmt="d", live=(1, 6)),
    Control("kernel_size", "kernel size K", (2, 3), 2, step=1, fmt="d", live=(1, 4)),
    Control("schedule", "dilation schedule", SCHEDULES, "doubling"),
)


def explorer() -> Explorer:
    """The Chapter 3 receptive-field explorer."""
    return Explorer(title="Receptive field of dilated causal convolutions", compute=compute,
                    figure=receptive_field_figure, controls=CONTROLS)
