"""Polyphonic-music tensors, the frame-level NLL metric and two simple baselines.

The metric (Boulanger-Lewandowski et al. 2012; Bai et al. 2018): predict frame t + 1 from frames
<= t, score it by the binary cross-entropy summed over the 88 keys, and average over all predicted
frames of all sequences (nats per frame; sequences of length T contribute T - 1 frames).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .._validate import check_array, check_choice, check_float, check_int

N_KEYS = 88
_EPS = 1e-7  # keeps log(p) finite when probabilities are given


def pad_rolls(rolls: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pad piano rolls into next-frame-prediction tensors.

    Parameters
    ----------
    rolls : sequence of B binary arrays, each (T_i, 88) with T_i >= 2.

    Returns
    -------
    X : float32 (B, L, 88), X[i, t] = frame t of roll i (zero past its end), L = max T_i - 1;
    Y : float32 (B, L, 88), Y[i, t] = frame t + 1 of roll i, the target for X[i, :t+1];
    mask : bool (B, L), True where t < T_i - 1 (a real predicted frame).
    """
    if isinstance(rolls, np.ndarray) or len(rolls) == 0:
        raise ValueError("rolls must be a non-empty list of (T, 88) arrays")
    arrays = [_binary_roll(f"rolls[{i}]", r, min_frames=2) for i, r in enumerate(rolls)]
    length = max(len(a) for a in arrays) - 1
    X = torch.zeros(len(arrays), length, N_KEYS)
    Y = torch.zeros(len(arrays), length, N_KEYS)
    mask = torch.zeros(len(arrays), length, dtype=torch.bool)
    for i, a in enumerate(arrays):
        roll = torch.from_numpy(a).float()
        X[i, : len(a) - 1] = roll[:-1]
        Y[i, : len(a) - 1] = roll[1:]
        mask[i, : len(a) - 1] = True
    return X, Y, mask


def frame_nll(predictions: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor,
              *, kind: str = "logits") -> torch.Tensor:
    """Binary cross-entropy summed over keys, averaged over the masked frames (nats per frame).

    Parameters
    ----------
    predictions : (B, L, 88) or (L, 88) tensor: logits (``kind="logits"``) or probabilities in
        [0, 1] (``kind="probs"``) for the targets at the same positions.
    targets : tensor of the same shape with values in {0, 1} (e.g. ``Y`` from :func:`pad_rolls`).
    mask : bool tensor (B, L) or (L,): which frames count.
    kind : ``"logits"`` (numerically stable; use for training) or ``"probs"`` (clipped to
        [1e-7, 1 - 1e-7]).

    Returns
    -------
    0-d float tensor (differentiable in ``predictions``).
    """
    check_choice("kind", kind, ("logits", "probs"))
    predictions, targets, mask = (torch.as_tensor(t) for t in (predictions, targets, mask))
    if predictions.ndim not in (2, 3) or predictions.shape[-1] != N_KEYS:
        raise ValueError(f"predictions must have shape (B, L, 88) or (L, 88), got {tuple(predictions.shape)}")
    if targets.shape != predictions.shape or mask.shape != predictions.shape[:-1]:
        raise ValueError(f"targets must have shape {tuple(predictions.shape)} and mask "
                         f"{tuple(predictions.shape[:-1])}; got {tuple(targets.shape)} and "
                         f"{tuple(mask.shape)}")
    mask = mask.bool()
    if not mask.any():
        raise ValueError("mask must select at least one frame")
    if kind == "logits":
        bce = F.binary_cross_entropy_with_logits(predictions.float(), targets.float(), reduction="none")
    else:
        bce = F.binary_cross_entropy(predictions.float().clamp(_EPS, 1 - _EPS), targets.float(),
                                     reduction="none")
    return bce.sum(-1)[mask].mean()


def bernoulli_baseline(train: Sequence[np.ndarray], test: Sequence[np.ndarray],
                       *, smoothing: float = 1.0) -> float:
    """NLL (nats per frame) of independent per-key Bernoulli probabilities fitted on ``train``.

    Each key k is on with probability (n_k + s) / (N + 2 s), where n_k counts the train frames that
    sound it, N the train frames and s = ``smoothing`` (add-s, so unseen keys cost a finite amount).
    Scored on frames 1..T-1 of every test roll, the frames a next-frame model predicts.

    Parameters
    ----------
    train, test : sequences of binary (T_i, 88) arrays.
    smoothing : s >= 0 (default 1, Laplace).

    Returns
    -------
    float, nats per predicted frame.
    """
    smoothing = check_float("smoothing", smoothing, low=0.0)
    frames = np.concatenate([_binary_roll(f"train[{i}]", r) for i, r in enumerate(train)])
    p = (frames.sum(0) + smoothing) / (len(frames) + 2 * smoothing)
    X, Y, mask = pad_rolls(test)
    probs = torch.from_numpy(p).float().expand_as(Y)
    return float(frame_nll(probs, Y, mask, kind="probs"))


def logistic_previous_frame_baseline(train: Sequence[np.ndarray], test: Sequence[np.ndarray],
                                     *, weight_decay: float = 1e-4, steps: int = 100) -> float:
    """NLL (nats per frame) of logistic regression from frame t to each key of frame t + 1.

    Logits W x_t + b (W 88 × 88) are fitted on ``train`` by full-batch L-BFGS from zero weights,
    minimising the mean frame NLL plus ``weight_decay`` · ||W||_F²; there is no randomness, so the
    result is reproducible without a seed.

    Parameters
    ----------
    train, test : sequences of binary (T_i, 88) arrays with T_i >= 2.
    weight_decay : L2 penalty >= 0 on W (keeps weights finite for keys that never sound).
    steps : L-BFGS iterations, >= 1.

    Returns
    -------
    float, nats per predicted frame on ``test``.
    """
    weight_decay = check_float("weight_decay", weight_decay, low=0.0)
    steps = check_int("steps", steps, low=1)
    X, Y, mask = pad_rolls(train)
    x, y = X[mask], Y[mask]
    linear = torch.nn.Linear(N_KEYS, N_KEYS)
    torch.nn.init.zeros_(linear.weight)
    torch.nn.init.zeros_(linear.bias)
    opt = torch.optim.LBFGS(linear.parameters(), max_iter=steps, history_size=20,
                            line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(linear(x), y, reduction="sum") / len(x)
        loss = loss + weight_decay * linear.weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    Xt, Yt, mt = pad_rolls(test)
    with torch.no_grad():
        return float(frame_nll(linear(Xt), Yt, mt))


def _binary_roll(name: str, roll: np.ndarray, *, min_frames: int = 1) -> np.ndarray:
    """Check that ``roll`` is a binary (T, 88) array with T >= min_frames; return it as uint8."""
    arr = check_array(name, roll, ndim=2)
    if arr.shape[1] != N_KEYS or arr.shape[0] < min_frames:
        raise ValueError(f"{name} must have shape (T, 88) with T >= {min_frames}, got {arr.shape}")
    if not np.all((arr == 0) | (arr == 1)):
        raise ValueError(f"{name} must hold only 0 and 1")
    return arr.astype(np.uint8)
