"""The recurrent core of a user's model: find it, check it, and run it one step at a time.

``diagnose`` needs what a packaged ``torch.nn.RNN`` / ``LSTM`` / ``GRU`` hides: the state after
every step (for gradients against lag) and the one-step map ``s_{t-1} -> s_t`` (for Jacobians).
``Core`` holds the module's weights per layer; ``core_step`` is that map on the *stacked* state
(every layer's ``h``, and for the LSTM ``c`` before ``h``, concatenated); ``Stepped`` is a
drop-in replacement for the module that runs ``core_step`` in a loop and records the states, so the
user's whole model (embedding, readout, anything around the core) runs unchanged around it.

Used by ``stablernn.diagnose`` and Chapter 10 (*Is your model stable?*).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Iterator

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

__all__ = ["KINDS", "Core", "find_core", "core_step", "Stepped", "stepped"]

# torch's mode names → the book's names for the supported cores.
KINDS = {"RNN_TANH": "rnn-tanh", "RNN_RELU": "rnn-relu", "LSTM": "lstm", "GRU": "gru"}
SUPPORTED = "torch.nn.RNN (tanh or relu), torch.nn.LSTM, torch.nn.GRU, or a model holding one"


@dataclass(frozen=True)
class Core:
    """A checked recurrent core: its kind, sizes, and the torch module with its place in the model."""

    module: nn.RNNBase
    path: str  # dotted name inside the model ("" when the model is the core itself)
    kind: str  # "rnn-tanh", "rnn-relu", "lstm" or "gru"
    layers: int
    input_size: int
    hidden: int
    batch_first: bool

    @property
    def state_size(self) -> int:
        """Width of the stacked state: layers × hidden, twice that for the LSTM (c and h)."""
        return self.layers * self.hidden * (2 if self.kind == "lstm" else 1)

    def weights(self, layer: int) -> dict[str, torch.Tensor]:
        """Layer ``layer``'s ``W_ih`` (gates × in), ``W_hh`` (gates × hidden) and summed bias ``b``."""
        m = self.module
        w_ih, w_hh = getattr(m, f"weight_ih_l{layer}"), getattr(m, f"weight_hh_l{layer}")
        if m.bias:
            b = getattr(m, f"bias_ih_l{layer}"), getattr(m, f"bias_hh_l{layer}")
        else:
            b = (w_ih.new_zeros(w_ih.shape[0]), w_ih.new_zeros(w_ih.shape[0]))
        return {"W_ih": w_ih, "W_hh": w_hh, "b_ih": b[0], "b_hh": b[1]}


def find_core(model: nn.Module, core: str | None = None) -> Core:
    """The recurrent core of ``model``: the submodule named ``core``, else its only RNN/LSTM/GRU.

    Refuses (ValueError/TypeError with the reason) what the book's theory or this tool cannot read:
    bidirectional layers, an LSTM with ``proj_size``, several cores without a name, no core at all.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module ({SUPPORTED}), got {type(model).__name__}")
    modules = dict(model.named_modules())
    if core is not None:
        if not isinstance(core, str) or core not in modules:
            names = [n for n, m in modules.items() if isinstance(m, nn.RNNBase)]
            raise ValueError(f"core={core!r} is not a submodule of the model; its recurrent modules are {names}")
        path, module = core, modules[core]
    else:
        found = [(n, m) for n, m in modules.items() if isinstance(m, nn.RNNBase)]
        if not found:
            cells = [n for n, m in modules.items() if isinstance(m, nn.RNNCellBase)]
            hint = f" (it has cells {cells}: wrap them in a torch.nn.RNN/LSTM/GRU)" if cells else ""
            raise TypeError(f"the model has no recurrent module; supported: {SUPPORTED}{hint}")
        if len(found) > 1:
            raise ValueError(f"the model has several recurrent modules {[n for n, _ in found]}: pass core=NAME")
        path, module = found[0]
    if not isinstance(module, nn.RNNBase) or module.mode not in KINDS:
        raise TypeError(f"core {path!r} is a {type(module).__name__}; supported: {SUPPORTED}")
    if module.bidirectional:
        raise ValueError(f"core {path or 'model'!r} is bidirectional: a bidirectional layer reads the future, "
                         "so it is not a recurrent model of the past; diagnose supports unidirectional cores only")
    if getattr(module, "proj_size", 0):
        raise ValueError(f"core {path or 'model'!r} is an LSTM with proj_size={module.proj_size}; "
                         "diagnose supports proj_size=0")
    for name, p in module.named_parameters():
        if not torch.isfinite(p).all():
            raise ValueError(f"the core's weight {name} holds NaN or infinite values")
    return Core(module, path, KINDS[module.mode], module.num_layers, module.input_size, module.hidden_size,
                bool(module.batch_first))


def _layer_step(kind: str, w: dict, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None):
    """One layer, one step, in torch's gate order (LSTM: i, f, g, o; GRU: r, z, n)."""
    gi = x @ w["W_ih"].T + w["b_ih"]
    gh = h @ w["W_hh"].T + w["b_hh"]
    if kind == "rnn-tanh":
        return torch.tanh(gi + gh), None
    if kind == "rnn-relu":
        return torch.relu(gi + gh), None
    if kind == "lstm":
        i, f, g, o = (gi + gh).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c
    r_i, z_i, n_i = gi.chunk(3, dim=-1)
    r_h, z_h, n_h = gh.chunk(3, dim=-1)
    r, z = torch.sigmoid(r_i + r_h), torch.sigmoid(z_i + z_h)
    n = torch.tanh(n_i + r * n_h)
    return (1 - z) * n + z * h, None


def core_step(core: Core, weights: list[dict], state: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The stacked state after one step: ``state`` (..., state_size) and input ``x`` (..., input_size).

    Layer l reads layer l-1's *new* ``h``, as in torch's stacked modules (no dropout: eval mode).
    """
    n, per = core.hidden, core.state_size // core.layers
    out = []
    for layer in range(core.layers):
        s = state[..., layer * per:(layer + 1) * per]
        c, h = (s[..., :n], s[..., n:]) if core.kind == "lstm" else (None, s)
        h, c = _layer_step(core.kind, weights[layer], x, h, c)
        out += [c, h] if core.kind == "lstm" else [h]
        x = h
    return torch.cat(out, dim=-1)


def _split(core: Core, state: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Stacked (B, state_size) → torch's h_n (layers, B, n) [and c_n]."""
    n, per = core.hidden, core.state_size // core.layers
    layers = state.reshape(state.shape[0], core.layers, per).transpose(0, 1)
    if core.kind == "lstm":
        return layers[..., n:].contiguous(), layers[..., :n].contiguous()
    return (layers.contiguous(),)


def _stack(core: Core, hx: Any, batch: int, like: torch.Tensor) -> torch.Tensor:
    """torch's initial state (h_0, or (h_0, c_0); None = zeros) → stacked (B, state_size)."""
    if hx is None:
        return like.new_zeros(batch, core.state_size)
    h, c = hx if core.kind == "lstm" else (hx, None)
    if h.dim() == 2:
        raise ValueError("unbatched inputs are not supported: pass (batch, time, features)")
    parts = [torch.stack([c[l], h[l]], 0) if c is not None else h[l][None] for l in range(core.layers)]
    return torch.cat([p.permute(1, 0, 2).reshape(batch, -1) for p in parts], dim=-1)


class Stepped(nn.Module):
    """Stands in for the core inside the model: same call and results, one Python step at a time.

    After a call, ``inputs`` holds the core's inputs (B, T, input_size) and ``states`` the stacked
    states s_0 (the initial state), s_1, ..., s_T, each (B, state_size); with ``keep_graph`` every
    state keeps its gradient (``retain_grad``) so that lags can be measured after ``backward``.
    """

    def __init__(self, core: Core, keep_graph: bool = False) -> None:
        super().__init__()
        self.core, self.keep_graph = core, keep_graph
        self.inputs: torch.Tensor | None = None
        self.states: list[torch.Tensor] = []

    def forward(self, input: Any, hx: Any = None):
        core = self.core
        lengths = None
        if isinstance(input, PackedSequence):
            input, lengths = pad_packed_sequence(input, batch_first=True)
        elif not core.batch_first:
            input = input.transpose(0, 1)
        if input.dim() != 3:
            raise ValueError(f"the core must receive (batch, time, features) inputs, got shape {tuple(input.shape)}")
        weights = [core.weights(l) for l in range(core.layers)]
        state = _stack(core, hx, input.shape[0], input)
        self.inputs, self.states = input, [state]
        for t in range(input.shape[1]):
            state = core_step(core, weights, state, input[:, t])
            if self.keep_graph and state.requires_grad:
                state.retain_grad()
            self.states.append(state)
        seq = torch.stack(self.states[1:], dim=1)[..., -core.hidden:]  # the last layer's h
        if lengths is None:
            final, output = self.states[-1], seq if core.batch_first else seq.transpose(0, 1)
        else:  # a packed batch ends each sequence at its own length
            rows = torch.arange(seq.shape[0])
            final = torch.stack(self.states[1:], dim=1)[rows, lengths - 1]
            output = pack_padded_sequence(seq, lengths, batch_first=True, enforce_sorted=False)
        parts = _split(core, final)
        return output, (parts if core.kind == "lstm" else parts[0])


@contextlib.contextmanager
def stepped(model: nn.Module, core: Core, keep_graph: bool = False) -> Iterator[tuple[nn.Module, Stepped]]:
    """Within the block, ``model`` runs with its core replaced by a ``Stepped`` (restored after)."""
    runner = Stepped(core, keep_graph)
    if not core.path:
        yield runner, runner
        return
    parent_name, _, attr = core.path.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    original = getattr(parent, attr)
    setattr(parent, attr, runner)
    try:
        yield model, runner
    finally:
        setattr(parent, attr, original)
