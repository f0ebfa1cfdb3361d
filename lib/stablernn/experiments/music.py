"""Experiment ``music``: stable vs unstable recurrent models on polyphonic music (Bach chorales).

Task: predict frame t + 1 of a piano roll from frames <= t; metric: binary cross-entropy summed
over the 88 keys, averaged over predicted frames (nats per frame). Data: the music21 chorales of
``stablernn.data`` (default), or the standard JSB ``.mat`` file given by path. Four models (tanh RNN
and LSTM, unconstrained and stable) are trained with full BPTT, Adam and early stopping on the
validation NLL, for every seed of ``seeds``; the unconstrained and the stable model of one kind and
seed start from the same initialisation (the stable one then projected). Two baselines without a
recurrent state (per-key Bernoulli, logistic regression on the previous frame) are reported beside
them, and Bai et al.'s published JSB numbers (2018, Table 1), which are for the standard JSB split:
they are comparable only to a run on that file (``--data``), not to the music21 chorales.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from .. import train as _train
from . import _common
from ._common import model_path
from ..models import LABELS, build_model
from .checkpoints import certificate_of, history_of, load_model, recurrent_summary, save_model

__all__ = ["CONFIGS", "PUBLISHED", "config", "load_splits", "tensors", "trained_models", "run"]

N_KEYS = 88

#: Bai, Kolter & Koltun (2018), Table 1, JSB Chorales test NLL (nats per frame), as verified in the
#: book's science notes. Their models are larger and tuned; the comparison is for scale only.
PUBLISHED = {
    "source": "bai2018empirical",
    "table": "Table 1 (JSB Chorales, test NLL per frame)",
    "values": {"LSTM": 8.45, "GRU": 8.43, "RNN": 8.91, "TCN": 8.10},
}

CONFIGS = {
    "full": {"hidden": 128, "epochs": 100, "patience": 10, "lr": 1e-2, "batch_size": 16, "clip": 1.0,
             "max_norm": 0.999, "forget_bound": 0.5, "input_bound": 1.0, "seeds": [0, 1, 2, 3, 4], "limit": None},
    "quick": {"hidden": 32, "epochs": 30, "patience": None, "lr": 2e-2, "batch_size": 4, "clip": 1.0,
              "max_norm": 0.999, "forget_bound": 0.5, "input_bound": 1.0, "seeds": [0, 1],
              "limit": {"train": 32, "valid": 8, "test": 8}},
}


def config(quick: bool = False, data: str | None = None) -> dict:
    """The configuration of a run: the model and training settings plus the data source.
    """
    cfg = dict(CONFIGS["quick" if quick else "full"])
    cfg["data"] = "music21 chorales (stablernn.data.load_chorales)" if data is None else f"JSB .mat file {Path(data).name}"
    cfg["training"] = "full BPTT, Adam, gradient-norm clipping, best epoch on validation NLL"
    cfg["stable"] = ("tanh: spectral norm of W clipped at max_norm after every step; "
                     "lstm: certified (stability.lstm_condition): recurrent blocks on l1 balls, forget-gate biases "
                     "lowered so that f <= forget_bound for ||x||_inf <= input_bound (the frames are 0/1)")
    return cfg


def load_splits(quick: bool = False, data: str | None = None, progress: bool = True) -> dict[str, list]:
    """Piano rolls per split: music21 chorales, or the ``.mat`` file at ``data``; the quick run takes a few.
    """
    from .. import data as D

    limit = CONFIGS["quick" if quick else "full"]["limit"]
    out = {}
    for split in ("train", "valid", "test"):
        n = None if limit is None else limit[split]
        if data is None:
            rolls = D.load_chorales(split, limit=n, progress=progress)
        else:
            rolls = D.load_mat_rolls(data, split)[:n]
        out[split] = [r for r in rolls if len(r) >= 2]  # a next-frame target needs two frames
    return out


def tensors(rolls: list) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(X, Y, mask) for next-frame prediction (see ``stablernn.data.pad_rolls``)."""
    from ..data import pad_rolls

    return pad_rolls(rolls)


def _cache_config(cfg: dict) -> dict:
    return {k: v for k, v in cfg.items() if k not in ("training", "stable", "seeds")}


def trained_models(cfg: dict, splits: dict, *, seeds: list[int] | None = None, device: str = "cpu",
                   cache: Path | None = None, reuse: bool = True, progress: bool = True,
                   detail: bool = True) -> dict[tuple[str, int], dict]:
    """Train (or, with ``reuse``, reload from the cache) the four models for every seed;
    (label, seed) → {model, history, source}. ``seeds`` defaults to the configuration's.

    ``progress`` shows a bar over the runs, ``detail`` (with ``progress``) one per training run.
    """
    from ..progress import progress_bar

    cache = _common.model_cache_dir(cache)
    train_data, valid_data = tensors(splits["train"]), tensors(splits["valid"])
    keys = [(name, seed) for seed in (cfg["seeds"] if seeds is None else seeds) for name in LABELS]
    out = {}
    for name, seed in progress_bar(keys, show=progress, desc="music: models"):
        model = build_model(name, N_KEYS, cfg["hidden"], N_KEYS, seed, max_norm=cfg["max_norm"],
                            forget_bound=cfg["forget_bound"], input_bound=cfg["input_bound"])
        path = model_path(cache, "music", _cache_config(cfg), f"{name}-seed{seed}")
        history = load_model(path, model) if reuse else None
        if history is not None:
            out[name, seed] = {"model": model.to(device), "history": history, "source": "cache"}
            continue
        result = _train.train(
            model, train_data, valid_data, mode="full", loss="bce", epochs=cfg["epochs"], lr=cfg["lr"],
            batch_size=cfg["batch_size"], clip=cfg["clip"], project=name.endswith("stable"),
            seed=seed, patience=cfg["patience"], device=device, progress=progress and detail,
        )
        history = history_of(result)
        save_model(path, model.cpu(), history)
        out[name, seed] = {"model": model.to(device), "history": history, "source": "trained"}
    return out


def run(*, quick: bool = False, data: str | None = None, device: str = "cpu", cache: Any = None,
        progress: bool = True, detail: bool = True, **_: Any) -> dict:
    """Run the experiment; return the results dictionary (without ``meta``).

    ``progress``: a bar over the four models; ``detail``: also one bar per training run.
    """
    from .. import data as D

    start = time.perf_counter()
    cfg = config(quick, data)
    splits = load_splits(quick, data, progress)
    models = trained_models(cfg, splits, device=device, cache=cache, reuse=True, progress=progress, detail=detail)
    test, valid = tensors(splits["test"]), tensors(splits["valid"])
    rows = []
    for (name, seed), entry in models.items():
        model = entry["model"]
        rows.append({
            "model": name, "seed": seed,
            "test_nll": _train.evaluate(model, test, "bce", device=device),
            "valid_nll": _train.evaluate(model, valid, "bce", device=device),
            "parameters": sum(p.numel() for p in model.parameters()),
            "history": entry["history"],
            "weights": recurrent_summary(model), "source": entry["source"],
            "certificate": certificate_of(model),
            "train_seconds": float(entry["history"]["seconds"]),
        })
    summary = _common.seed_summary(rows, "test_nll", LABELS)
    first = min(cfg["seeds"])
    baselines = {
        "bernoulli": D.bernoulli_baseline(splits["train"], splits["test"]),
        "logistic_previous_frame": D.logistic_previous_frame_baseline(splits["train"], splits["test"]),
    }
    sizes = {s: {"sequences": len(r), "frames": int(sum(len(x) for x in r))} for s, r in splits.items()}
    return {
        "name": "music",
        "quick": quick,
        "config": cfg,
        "metrics": {"unit": "nats per frame", "models": [r for r in rows if r["seed"] == first],
                    "seeds": [{k: v for k, v in r.items() if k != "history"} for r in rows], "spread": summary,
                    "baselines": baselines, "data": sizes,
                    "relative_change": {k: v["mean"] for k, v in summary["ratio"].items()},
                    "seconds_experiment": time.perf_counter() - start},
        "published": PUBLISHED,
    }
