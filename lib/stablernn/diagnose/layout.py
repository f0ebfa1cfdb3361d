"""Rebuild a model from a state dict alone (the safe way in: no pickled code runs).

The layout is the library's (``models.TanhRNN`` / ``LSTMModel``): an optional ``embedding``, the
recurrent core ``rnn`` (batch first), and a linear ``readout``; a state dict of a bare
``torch.nn.RNN`` / ``LSTM`` / ``GRU`` (keys ``weight_ih_l0``, ...) is accepted too. The sizes are
read from the tensors; the architecture (which the tensors cannot tell apart for tanh and ReLU)
is named by the caller. Used by ``python -m stablernn.diagnose``.
"""

from __future__ import annotations

import re

import torch
from torch import nn

__all__ = ["SequenceModel", "from_state_dict"]

GATES = {"rnn-tanh": 1, "rnn-relu": 1, "lstm": 4, "gru": 3}


class SequenceModel(nn.Module):
    """Embedding (optional) → batch-first recurrent core → linear readout: ``model(x) -> (N, T, outputs)``."""

    def __init__(self, arch: str, input_size: int, hidden: int, layers: int, outputs: int,
                 vocab: int | None = None, bias: bool = True) -> None:
        super().__init__()
        self.embedding = None if vocab is None else nn.Embedding(vocab, input_size)
        self.rnn = _core(arch, input_size, hidden, layers, bias)
        self.readout = nn.Linear(hidden, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.rnn(x if self.embedding is None else self.embedding(x))
        return self.readout(h)


def _core(arch: str, input_size: int, hidden: int, layers: int, bias: bool) -> nn.RNNBase:
    if arch == "lstm":
        return nn.LSTM(input_size, hidden, num_layers=layers, bias=bias, batch_first=True)
    if arch == "gru":
        return nn.GRU(input_size, hidden, num_layers=layers, bias=bias, batch_first=True)
    return nn.RNN(input_size, hidden, num_layers=layers, nonlinearity=arch.split("-")[1], bias=bias, batch_first=True)


def from_state_dict(state: dict[str, torch.Tensor], arch: str) -> nn.Module:
    """A model with the weights of ``state``, for ``arch`` in ``GATES``; KeyError/ValueError say what does not fit."""
    if arch not in GATES:
        raise ValueError(f"arch must be one of {tuple(GATES)}, got {arch!r}")
    prefix = "rnn." if any(k.startswith("rnn.") for k in state) else ""
    layers = sorted({int(m.group(1)) for k in state if (m := re.fullmatch(re.escape(prefix) + r"weight_hh_l(\d+)", k))})
    if not layers:
        raise KeyError(f"no recurrent weights ({prefix}weight_hh_l0) in the state dict; its keys: {sorted(state)[:8]}")
    if any(k.endswith("_reverse") for k in state):
        raise ValueError("the state dict holds a bidirectional core: diagnose supports unidirectional cores only")
    w_hh, w_ih = state[f"{prefix}weight_hh_l0"], state[f"{prefix}weight_ih_l0"]
    hidden = w_hh.shape[1]
    if w_hh.shape[0] != GATES[arch] * hidden:
        found = {v: k for k, v in GATES.items()}.get(w_hh.shape[0] // hidden, "unknown")
        raise ValueError(f"--arch {arch} needs weight_hh_l0 of shape ({GATES[arch] * hidden}, {hidden}), "
                         f"got {tuple(w_hh.shape)} (it looks like {found})")
    bias = f"{prefix}bias_hh_l0" in state
    if not prefix:
        model = _core(arch, w_ih.shape[1], hidden, len(layers), bias)
    else:
        if "readout.weight" not in state:
            raise KeyError("the state dict has no readout (readout.weight): the loss needs the model's outputs; "
                           "save the whole model with torch.save(model) and pass --allow-pickle")
        vocab = state["embedding.weight"].shape[0] if "embedding.weight" in state else None
        model = SequenceModel(arch, w_ih.shape[1], hidden, len(layers), state["readout.weight"].shape[0], vocab, bias)
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise ValueError(f"the weights do not fit a {arch} model: {str(err).splitlines()[0]} ...") from None
    return model
