"""Trained Part III models on disk: save and reload weights with their training history, and the
norms of their recurrent matrices for the results files.

The models themselves (the four labels and ``build_model``) are in :mod:`stablernn.models`.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch

from .. import linalg
from ..models import TanhRNN

def recurrent_summary(model: torch.nn.Module) -> dict[str, float]:
    """Norms of the (first layer's) recurrent matrix: spectral norm and spectral radius of W,
    and for the LSTM the l_inf norms (max absolute row sum) of the four blocks.
    """
    W = model.recurrent_weights()[0].detach().cpu().double().numpy()
    if isinstance(model, TanhRNN):
        return {"spectral_norm_W": linalg.spectral_norm(W), "spectral_radius_W": linalg.spectral_radius(W)}
    n = W.shape[1]
    out = {f"inf_norm_W_{g}": linalg.inf_norm(W[i * n:(i + 1) * n]) for i, g in enumerate("ifzo")}
    out["spectral_norm_W_stacked"] = linalg.spectral_norm(W)
    return out


def certificate_of(model: torch.nn.Module) -> dict | None:
    """The LSTM's stability certificate from its weights (``LSTMModel.certificate``): holds and lambda
    (None when the forget-gate bound reaches 1); None for a tanh RNN, whose certificate is
    ``spectral_norm_W < 1`` in :func:`recurrent_summary`."""
    if isinstance(model, TanhRNN):
        return None
    report = model.certificate()
    lam = float(report.contraction)
    return {"holds": bool(report.holds), "lam": lam if lam != float("inf") else None}


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
    except (OSError, RuntimeError, KeyError, ValueError, EOFError, pickle.UnpicklingError):  # a corrupt file
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

