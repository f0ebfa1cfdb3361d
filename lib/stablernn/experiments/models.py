"""The four models every Part III experiment compares, and how they are trained, saved and reloaded.

Models: tanh RNN and LSTM, each unconstrained or stable. A stable model is built with
``stable=True`` (its recurrent weights start projected onto the stable set) and trained with
``train(..., project=True)`` (projected after every optimiser step): the spectral norm of the tanh
RNN's ``W`` is clipped at ``max_norm``; the LSTM's recurrent blocks are projected row-wise onto the
l1 balls of the sufficient condition for the forget-gate bound ``forget_bound``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from .. import linalg
from .._validate import check_choice, check_int, check_seed
from ..models import LSTMModel, TanhRNN

KINDS = ("tanh", "lstm")
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
                forget_bound: float = 0.5) -> torch.nn.Module:
    """A freshly initialised model for a label of :data:`LABELS`, seeded without touching global RNG state.

    Parameters
    ----------
    name : one of LABELS;  input_size, hidden, output_size : int >= 1
    seed : int >= 0, initialises the weights
    vocab_size : int or None, token inputs through an embedding of size ``input_size``
    dropout : float in [0, 1)
    max_norm : bound on the spectral norm of the tanh RNN's W (stable models)
    forget_bound : forget-gate bound of the LSTM's stability condition (stable models)

    Used in: Part III (experiments).
    """
    kind, stable = parse_label(name)
    seed = check_seed("seed", seed)
    hidden = check_int("hidden", hidden, low=1)
    extra = {"max_norm": max_norm} if kind == "tanh" else {"forget_bound": forget_bound}
    cls = TanhRNN if kind == "tanh" else LSTMModel
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return cls(input_size, hidden, output_size, stable=stable, vocab_size=vocab_size, dropout=dropout, **extra)


def recurrent_summary(model: torch.nn.Module) -> dict[str, float]:
    """Norms of the (first layer's) recurrent matrix: spectral norm and spectral radius of W,
    and for the LSTM the l_inf norms (max absolute row sum) of the four blocks.

    Used in: Chapter 8 (what projection did to the weights).
    """
    W = model.recurrent_weights()[0].detach().cpu().double().numpy()
    if isinstance(model, TanhRNN):
        return {"spectral_norm_W": linalg.spectral_norm(W), "spectral_radius_W": linalg.spectral_radius(W)}
    n = W.shape[1]
    out = {f"inf_norm_W_{g}": linalg.inf_norm(W[i * n:(i + 1) * n]) for i, g in enumerate("ifzo")}
    out["spectral_norm_W_stacked"] = linalg.spectral_norm(W)
    return out


def save_model(path: Path, model: torch.nn.Module, history: dict) -> None:
    """Save a model's state_dict and its training history (atomic replace)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save({"state_dict": model.state_dict(), "history": history}, tmp)
    tmp.replace(path)


def load_model(path: Path, model: torch.nn.Module) -> dict | None:
    """Load weights saved by :func:`save_model` into ``model``; return the history, or None if absent/invalid."""
    if not path.is_file():
        return None
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(blob["state_dict"])
    except (OSError, RuntimeError, KeyError, ValueError, EOFError):
        return None
    return blob["history"]


def history_of(result: Any, seconds: float | None = None) -> dict:
    """A JSON-ready record of a ``TrainResult``."""
    return {
        "train_loss": [float(v) for v in result.train_loss],
        "valid_loss": [float(v) for v in result.valid_loss],
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.train_loss),
        "steps": int(result.steps),
        "stopped": result.stopped,
        "seconds": float(result.seconds if seconds is None else seconds),
    }

