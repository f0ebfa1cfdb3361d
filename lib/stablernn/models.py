"""Sequence models: tanh RNN, LSTM, their k-truncated feed-forward versions, dilated causal convolutions.

Recurrent models (``TanhRNN``, ``LSTMModel``) share one interface:

- input ``x``: float ``(B, T, input_size)``, or token ids ``(B, T)`` (int64) when built with
  ``vocab_size`` (an embedding of dimension ``input_size`` then feeds the recurrence);
- ``model(x, state=None) -> (y, state)`` with ``y`` of shape ``(B, T, output_size)``; the state
  starts at zero when ``state`` is None;
- ``stable=True``: ``model.project_()`` projects the recurrent weights onto the stable set of the
  book's stability chapter; the constructor projects the initial weights.

Convolutional layers (``CausalConv1d``, ``DilatedConvStack``) follow torch's ``(B, C, T)``
convention; the ``TCN`` sequence model takes ``(B, T, input_size)`` like the recurrent ones.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from stablernn import stability
from stablernn._validate import check_choice, check_float, check_int, check_seed

__all__ = [
    "TanhRNN",
    "LSTMModel",
    "truncated_forward",
    "CausalConv1d",
    "DilatedConvStack",
    "TCN",
    "receptive_field",
    "tcn_receptive_field",
    "count_parameters",
]

PROJECTIONS = ("svd", "power")


def _check_sequence(name: str, x: Any, input_size: int, vocab_size: int | None) -> torch.Tensor:
    """Check a model input: float (B, T, input_size) or, with an embedding, int64 (B, T)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if vocab_size is not None:
        if x.dim() != 2 or x.dtype != torch.long:
            raise ValueError(
                f"{name} must be an int64 tensor of token ids (B, T), got dtype {x.dtype} shape {tuple(x.shape)}"
            )
    elif x.dim() != 3 or x.shape[-1] != input_size or not x.is_floating_point():
        raise ValueError(
            f"{name} must be a float tensor of shape (B, T, {input_size}), got dtype {x.dtype} shape {tuple(x.shape)}"
        )
    if x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"{name} must have at least one sequence and one time step, got shape {tuple(x.shape)}")
    return x


class _RecurrentModel(nn.Module):
    """Shared body of the recurrent models: optional embedding → recurrence → linear readout."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        *,
        num_layers: int,
        vocab_size: int | None,
        dropout: float,
    ) -> None:
        super().__init__()
        self.input_size = check_int("input_size", input_size, low=1)
        self.hidden_size = check_int("hidden_size", hidden_size, low=1)
        self.output_size = check_int("output_size", output_size, low=1)
        self.num_layers = check_int("num_layers", num_layers, low=1)
        self.vocab_size = None if vocab_size is None else check_int("vocab_size", vocab_size, low=1)
        self.dropout = check_float("dropout", dropout, low=0.0, high=1.0, high_open=True)
        self.embedding = None if self.vocab_size is None else nn.Embedding(self.vocab_size, self.input_size)
        self.drop = nn.Dropout(self.dropout)
        self.rnn = self._make_recurrence()
        self.readout = nn.Linear(self.hidden_size, self.output_size)

    def _make_recurrence(self) -> nn.Module:  # pragma: no cover - overridden
        raise NotImplementedError

    def hidden_states(self, x: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        """Run the recurrence: x (B, T, input_size) or ids (B, T) → (h: (B, T, hidden_size), final state)."""
        _check_sequence("x", x, self.input_size, self.vocab_size)
        inputs = x if self.embedding is None else self.embedding(x)
        return self.rnn(self.drop(inputs), state)

    def forward(self, x: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        """Predict every step: x (B, T, input_size) or ids (B, T) → (y: (B, T, output_size), final state)."""
        h, state = self.hidden_states(x, state)
        return self.readout(self.drop(h)), state

    def recurrent_weights(self) -> list[nn.Parameter]:
        """The recurrent matrices ``weight_hh_l{i}``, one per layer (PyTorch layout: out × in)."""
        return [getattr(self.rnn, f"weight_hh_l{i}") for i in range(self.num_layers)]


class TanhRNN(_RecurrentModel):
    """Elman RNN h_t = tanh(W h_{t-1} + U x_t + b) with a linear readout y_t = V h_t + c.

    Parameters
    ----------
    input_size, hidden_size, output_size : int >= 1
        Input features (or embedding dimension with ``vocab_size``), state size, outputs per step.
    stable : bool
        If True, ``project_()`` (and the constructor) clips the spectral norm ``||W||_2`` of every
        layer's recurrent matrix at ``max_norm``, which makes the state update
        ``max_norm``-contractive (tanh is 1-Lipschitz).
    max_norm : float in (0, 1]
        Bound on the spectral norm (largest singular value; not the spectral radius).
    projection : "svd" or "power"
        Exact SVD clipping, or a warm-started power-iteration rescale whose result is checked (see
        ``stability.project_rnn_``; both give ``||W||_2 <= max_norm``, the rescale up to a relative
        1e-6, shrinking by at most 1 % more than needed).
    num_layers : int >= 1;  vocab_size : int >= 1 or None;  dropout : float in [0, 1)
        Stacked layers; token inputs through an embedding; dropout on embeddings and readout inputs.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        stable: bool = False,
        max_norm: float = 1 - 1e-3,
        *,
        projection: str = "svd",
        num_layers: int = 1,
        vocab_size: int | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__(
            input_size, hidden_size, output_size, num_layers=num_layers, vocab_size=vocab_size, dropout=dropout
        )
        self.stable = check_choice("stable", stable, (True, False))
        self.max_norm = check_float("max_norm", max_norm, low=0.0, high=1.0, low_open=True)
        self.projection = check_choice("projection", projection, PROJECTIONS)
        self._power_starts: list = [None] * self.num_layers  # warm starts of the "power" rescale, one per layer
        if self.stable:
            self.project_()

    def _make_recurrence(self) -> nn.Module:
        return nn.RNN(
            self.input_size, self.hidden_size, num_layers=self.num_layers, nonlinearity="tanh", batch_first=True
        )

    @torch.no_grad()
    def project_(self) -> None:
        """Clip the spectral norm of each recurrent matrix at ``max_norm``, in place.

        With ``projection="power"`` each layer's power iteration starts from the vector its previous
        call returned (a warm start; not saved in the state dict), and afterwards
        ``||W||_2 <= max_norm * (1 + linalg.RESCALE_RTOL)`` in every layer, whatever the start
        (see ``stability.project_rnn_``).
        """
        for i, weight in enumerate(self.recurrent_weights()):
            self._power_starts[i] = stability.project_rnn_(weight.data, max_norm=self.max_norm,
                                                           method=self.projection, start=self._power_starts[i])


class LSTMModel(_RecurrentModel):
    """LSTM (gates i, f, g, o as in PyTorch) with a linear readout; same interface as ``TanhRNN``.

    Parameters
    ----------
    input_size, hidden_size, output_size : int >= 1
        Input features (or embedding dimension with ``vocab_size``), state size, outputs per step.
    stable : bool
        If True, ``project_()`` (and the constructor) makes the model certified stable (Chapter 4):
        the recurrent blocks onto ``stability.project_lstm_``'s balls, the forget-gate biases
        lowered by ``stability.project_forget_gate_`` so that every forget gate stays below
        ``forget_bound`` for inputs with ``||x_t||_inf <= input_bound``, and, with an embedding,
        its entries clipped to ``[-input_bound, input_bound]``. ``certificate()`` then holds.
    forget_bound : float in (0, 1)
        The bound ``f_bar`` on the forget gate that the projection enforces.
    input_bound : float > 0
        The bound on the inputs the certificate covers (1 for 0/1 piano rolls; the clip of the
        embedding). Dropout, active only in training, scales inputs beyond it; the certificate is
        for the model in evaluation.
    num_layers : int >= 1;  vocab_size : int >= 1 or None;  dropout : float in [0, 1)
        Stacked layers; token inputs through an embedding; dropout on embeddings and readout inputs.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        stable: bool = False,
        forget_bound: float = 0.5,
        *,
        input_bound: float = 1.0,
        num_layers: int = 1,
        vocab_size: int | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__(
            input_size, hidden_size, output_size, num_layers=num_layers, vocab_size=vocab_size, dropout=dropout
        )
        self.stable = check_choice("stable", stable, (True, False))
        self.forget_bound = check_float("forget_bound", forget_bound, low=0.0, high=1.0, low_open=True, high_open=True)
        self.input_bound = check_float("input_bound", input_bound, low=0.0, low_open=True)
        if self.stable:
            self.project_()

    def _make_recurrence(self) -> nn.Module:
        return nn.LSTM(self.input_size, self.hidden_size, num_layers=self.num_layers, batch_first=True)

    @torch.no_grad()
    def project_(self) -> None:
        """Make the model certified stable, in place: per layer, the recurrent blocks, then the
        forget-gate biases (layer 0 for inputs up to ``input_bound``, later layers for ``|h| <= 1``);
        with an embedding, its entries clipped to ``input_bound`` first."""
        if self.embedding is not None:
            self.embedding.weight.clamp_(-self.input_bound, self.input_bound)
        rnn = self.rnn
        for layer, weight in enumerate(self.recurrent_weights()):
            stability.project_lstm_(weight.data, self.forget_bound)
            stability.project_forget_gate_(
                getattr(rnn, f"weight_ih_l{layer}").data, weight.data, getattr(rnn, f"bias_ih_l{layer}").data,
                getattr(rnn, f"bias_hh_l{layer}").data, self.forget_bound, self.input_bound if layer == 0 else 1.0)

    def certificate(self, input_bound: float | None = None) -> "stability.StabilityReport":
        """The certificate from the weights (``stability.lstm_condition``), for inputs up to
        ``input_bound`` (default: the embedding's largest entry, else ``self.input_bound``); with
        several layers, the worst layer's (later layers read ``|h| <= 1``)."""
        if input_bound is None:
            input_bound = (float(self.embedding.weight.detach().abs().max()) if self.embedding is not None
                           else self.input_bound)
        reports = [stability.lstm_condition(stability.lstm_params_from_torch(self.rnn, layer),
                                            input_bound=input_bound if layer == 0 else 1.0)
                   for layer in range(self.num_layers)]
        return max(reports, key=lambda r: r.contraction)


def truncated_forward(model: nn.Module, x: torch.Tensor, k: int) -> torch.Tensor:
    """Outputs of the k-truncated model: y_t computed from a zero state over inputs t-k+1..t only.

    All T outputs are computed at once: the T-k+1 full windows of length k become one batch
    (O(kT) work, sequential depth k); the first k-1 outputs, whose windows start at the
    beginning of the sequence, are the full model's. With ``k >= T`` this is ``model(x)[0]``.

    Parameters
    ----------
    model : TanhRNN or LSTMModel
    x : tensor (B, T, input_size), or int64 (B, T) for a model with an embedding
    k : int >= 1
        Truncation length (number of most recent inputs each output sees).

    Returns
    -------
    tensor (B, T, output_size)
    """
    if not isinstance(model, _RecurrentModel):
        raise TypeError(f"model must be a TanhRNN or LSTMModel, got {type(model).__name__}")
    k = check_int("k", k, low=1)
    _check_sequence("x", x, model.input_size, model.vocab_size)
    batch, steps = x.shape[0], x.shape[1]
    if k >= steps:
        return model(x)[0]
    head = model(x[:, : k - 1])[0] if k > 1 else x.new_zeros((batch, 0, model.output_size), dtype=torch.float)
    windows = x.unfold(1, k, 1)  # (B, T-k+1, [in,] k): window j covers inputs j..j+k-1
    if windows.dim() == 4:
        windows = windows.permute(0, 1, 3, 2)
    windows = windows.reshape(batch * (steps - k + 1), k, *x.shape[2:])
    h_last = model.hidden_states(windows)[0][:, -1]  # only the last step of each window is an output
    tail = model.readout(model.drop(h_last)).reshape(batch, steps - k + 1, model.output_size)
    return torch.cat([head.to(tail.dtype), tail], dim=1)


class CausalConv1d(nn.Module):
    """1-D convolution padded on the left only, so output t sees inputs t-(K-1)d .. t.

    Parameters
    ----------
    in_channels, out_channels : int >= 1
    kernel_size : int >= 1;  dilation : int >= 1
        F(t) = sum_{i=0}^{K-1} f(i) x_{t - d i}.

    Input and output are (B, C, T), torch's convolution layout.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, dilation: int = 1) -> None:
        super().__init__()
        in_channels = check_int("in_channels", in_channels, low=1)
        out_channels = check_int("out_channels", out_channels, low=1)
        self.kernel_size = check_int("kernel_size", kernel_size, low=1)
        self.dilation = check_int("dilation", dilation, low=1)
        self.left_pad = (self.kernel_size - 1) * self.dilation
        self.conv = nn.Conv1d(in_channels, out_channels, self.kernel_size, dilation=self.dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, in_channels, T) → (B, out_channels, T)."""
        return self.conv(nn.functional.pad(x, (self.left_pad, 0)))


class DilatedConvStack(nn.Module):
    """WaveNet-style stack of causal convolutions (channels → channels) with tanh between layers.

    Parameters
    ----------
    channels : int >= 1
    kernel_sizes, dilations : sequences of ints >= 1, of equal length (one entry per layer)

    Input and output are (B, channels, T); ``receptive_field`` = 1 + sum_l (K_l - 1) d_l.
    """

    def __init__(self, channels: int, kernel_sizes: Sequence[int], dilations: Sequence[int]) -> None:
        super().__init__()
        channels = check_int("channels", channels, low=1)
        self.receptive_field = receptive_field(kernel_sizes, dilations)
        self.layers = nn.ModuleList(
            CausalConv1d(channels, channels, ks, d) for ks, d in zip(kernel_sizes, dilations)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, channels, T) → (B, channels, T)."""
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = torch.tanh(x)
        return x


class _TemporalBlock(nn.Module):
    """Residual block of a TCN: two weight-normalised dilated causal convolutions, ReLU, dropout."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, dilation: int, dropout: float) -> None:
        super().__init__()
        self.conv1 = CausalConv1d(in_ch, out_ch, kernel_size, dilation)
        self.conv2 = CausalConv1d(out_ch, out_ch, kernel_size, dilation)
        for causal in (self.conv1, self.conv2):
            nn.init.normal_(causal.conv.weight, 0.0, 0.01)  # small initial weights, as in Bai et al.
            weight_norm(causal.conv)
        self.drop = nn.Dropout(dropout)
        self.downsample = nn.Conv1d(in_ch, out_ch, 1) if in_ch != out_ch else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.drop(torch.relu(self.conv1(x)))
        out = self.drop(torch.relu(self.conv2(out)))
        skip = x if self.downsample is None else self.downsample(x)
        return torch.relu(out + skip)


class TCN(nn.Module):
    """Temporal convolutional network (Bai, Kolter & Koltun 2018) with a per-step linear readout.

    Level i is a residual block of two dilated causal convolutions with dilation 2^i.

    Parameters
    ----------
    input_size, output_size : int >= 1
        Input features (or embedding dimension with ``vocab_size``), outputs per step.
    channels : int >= 1;  levels : int >= 1;  kernel_size : int >= 1
        Hidden channels of every block, number of blocks, kernel size of every convolution.
    dropout : float in [0, 1)
    vocab_size : int >= 1 or None
        Token-id inputs through an embedding, as for the recurrent models.

    ``model(x)`` maps (B, T, input_size) or ids (B, T) to (B, T, output_size); output t depends
    on inputs t-R+1..t with R = ``receptive_field`` = 1 + 2 (K-1)(2^L - 1).
    """

    def __init__(
        self,
        input_size: int,
        output_size: int,
        channels: int = 32,
        levels: int = 4,
        kernel_size: int = 3,
        dropout: float = 0.0,
        *,
        vocab_size: int | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_int("input_size", input_size, low=1)
        self.output_size = check_int("output_size", output_size, low=1)
        channels = check_int("channels", channels, low=1)
        self.receptive_field = tcn_receptive_field(kernel_size, levels)
        dropout = check_float("dropout", dropout, low=0.0, high=1.0, high_open=True)
        self.vocab_size = None if vocab_size is None else check_int("vocab_size", vocab_size, low=1)
        self.embedding = None if self.vocab_size is None else nn.Embedding(self.vocab_size, self.input_size)
        sizes = [self.input_size] + [channels] * levels
        self.blocks = nn.Sequential(
            *(_TemporalBlock(sizes[i], sizes[i + 1], kernel_size, 2**i, dropout) for i in range(levels))
        )
        self.readout = nn.Linear(channels, self.output_size)
        nn.init.normal_(self.readout.weight, 0.0, 0.01)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, input_size) or ids (B, T) → y (B, T, output_size)."""
        _check_sequence("x", x, self.input_size, self.vocab_size)
        inputs = x if self.embedding is None else self.embedding(x)
        features = self.blocks(inputs.transpose(1, 2)).transpose(1, 2)
        return self.readout(features)


def receptive_field(kernel_sizes: Sequence[int], dilations: Sequence[int]) -> int:
    """Receptive field R = 1 + sum_l (K_l - 1) d_l of a stack of dilated causal convolutions.

    Parameters
    ----------
    kernel_sizes, dilations : sequences of ints >= 1, equal length >= 1
    """
    if isinstance(kernel_sizes, (str, bytes)) or not hasattr(kernel_sizes, "__len__"):
        raise TypeError(f"kernel_sizes must be a sequence of integers, got {type(kernel_sizes).__name__}")
    if isinstance(dilations, (str, bytes)) or not hasattr(dilations, "__len__"):
        raise TypeError(f"dilations must be a sequence of integers, got {type(dilations).__name__}")
    if len(kernel_sizes) != len(dilations) or len(kernel_sizes) == 0:
        raise ValueError(
            f"kernel_sizes and dilations must be non-empty and of equal length, got {len(kernel_sizes)} and {len(dilations)}"
        )
    ks = [check_int(f"kernel_sizes[{i}]", v, low=1) for i, v in enumerate(kernel_sizes)]
    ds = [check_int(f"dilations[{i}]", v, low=1) for i, v in enumerate(dilations)]
    return 1 + sum((kk - 1) * d for kk, d in zip(ks, ds))


def tcn_receptive_field(kernel_size: int, levels: int) -> int:
    """Receptive field of a TCN: two convolutions per level, dilation 2^i: 1 + 2 (K-1)(2^L - 1).

    Parameters
    ----------
    kernel_size : int >= 1;  levels : int >= 1
    """
    kernel_size = check_int("kernel_size", kernel_size, low=1)
    levels = check_int("levels", levels, low=1)
    return 1 + 2 * (kernel_size - 1) * (2**levels - 1)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars in ``model``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# -- the receptive field of a dilated stack, measured (Chapter 3) -----------------------------------

DILATION_SCHEDULES = ("none", "doubling", "1,2,1,2")
IMPULSE_CHANNELS = 4  # a few channels: an accidental cancellation along every path is then vanishingly unlikely

def dilation_schedule(schedule: str, layers: int) -> tuple[int, ...]:
    """Dilations of ``layers`` layers: all 1 ("none"), 1, 2, 4, ... ("doubling") or 1, 2, 1, 2, ... ("1,2,1,2").
    """
    schedule = check_choice("schedule", schedule, DILATION_SCHEDULES)
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
        net = DilatedConvStack(IMPULSE_CHANNELS, [kernel_size] * len(dilations), list(dilations))
    with torch.no_grad():
        for layer in net.layers:
            layer.conv.bias.zero_()
        x = torch.zeros(width, IMPULSE_CHANNELS, width)
        x[torch.arange(width), 0, torch.arange(width)] = 1.0  # row j: an impulse at input j
        y = net(x)[:, :, -1]  # output at the last step, t = width - 1
    return y.abs().sum(dim=1).double().numpy()


# -- model construction: Chapter 3's comparison and Part III's four labels ---------------------------

MODEL_NAMES = ("TCN", "RNN", "LSTM")
TCN_LEVELS, TCN_KERNEL = 3, 2  # receptive field 1 + 2 (K - 1)(2^L - 1) = 15


def make_model(name: str, hidden: int, seed: int = 0) -> torch.nn.Module:
    """A one-input, one-output TCN (``hidden`` channels), tanh RNN or LSTM (``hidden`` units).

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


KINDS = ("tanh", "lstm")
#: the four models every Part III experiment compares: tanh RNN and LSTM, each unconstrained or stable.
#: A stable model is built with ``stable=True`` (its recurrent weights start projected onto the stable
#: set) and trained with ``train(..., project=True)`` (projected after every optimiser step).
LABELS = ("tanh", "tanh-stable", "lstm", "lstm-stable")


def label(kind: str, stable: bool) -> str:
    """Model label used in results files: ``"tanh"``, ``"tanh-stable"``, ``"lstm"``, ``"lstm-stable"``."""
    return kind + ("-stable" if stable else "")


def parse_label(name: str) -> tuple[str, bool]:
    """Inverse of :func:`label`."""
    check_choice("label", name, LABELS)
    return name.split("-")[0], name.endswith("-stable")


def build_model(name: str, input_size: int, hidden: int, output_size: int, seed: int, *,
                vocab_size: int | None = None, dropout: float = 0.0, max_norm: float = 0.999,
                forget_bound: float = 0.5, input_bound: float = 1.0) -> torch.nn.Module:
    """A freshly initialised model for a label of :data:`LABELS`, seeded without touching global RNG state.

    Parameters
    ----------
    name : one of LABELS;  input_size, hidden, output_size : int >= 1
    seed : int >= 0, initialises the weights
    vocab_size : int or None, token inputs through an embedding of size ``input_size``
    dropout : float in [0, 1)
    max_norm : bound on the spectral norm of the tanh RNN's W (stable models)
    forget_bound : forget-gate bound of the LSTM's stability condition (stable models)
    input_bound : bound on the inputs the stable LSTM is certified for (its embedding is clipped to it)
    """
    kind, stable = parse_label(name)
    seed = check_seed("seed", seed)
    hidden = check_int("hidden", hidden, low=1)
    extra = {"max_norm": max_norm} if kind == "tanh" else {"forget_bound": forget_bound, "input_bound": input_bound}
    cls = TanhRNN if kind == "tanh" else LSTMModel
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return cls(input_size, hidden, output_size, stable=stable, vocab_size=vocab_size, dropout=dropout, **extra)
