"""Experiment ``wordlm``: stable vs unstable word-level language models.

The corpus is a folder with ``train.txt``, ``valid.txt``, ``test.txt`` (Penn Treebank or
WikiText-2 layout). The training stream (the whole training split, or its first ``train_tokens``
tokens when that is set, a budget choice recorded in the configuration) is cut into ``batch_size`` rows and walked with truncated BPTT in windows of ``bptt``
tokens, the recipe of PyTorch's word-language-model example, but with Adam. To draw a learning
curve the capped stream is split into ``segments`` consecutive pieces along time, each trained as
one pass (one call of the library's ``train``, so Adam's moment estimates restart with each
piece), with the validation perplexity measured after each piece. Test perplexity uses the whole
test split with the state carried across windows. Published numbers (Miller & Hardt, WikiText-2,
quoted in the essay) are compared as ratios stable / unstable, since corpus and scale differ.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import torch

from .. import train as _train
from . import _common
from ._common import model_path
from ..models import LABELS, build_model
from .checkpoints import load_model, recurrent_summary, save_model

__all__ = ["CONFIGS", "PUBLISHED", "config", "load_streams", "trained_models", "run", "perplexity"]

#: Miller & Hardt (2019), WikiText-2 test perplexity, as quoted in the essay (miller2018essay).
PUBLISHED = {
    "source": "miller2019stable; miller2018essay",
    "table": "WikiText-2 test perplexity",
    "values": {"tanh": {"unstable": 146.7, "stable": 143.5}, "lstm": {"unstable": 92.3, "stable": 95.1}},
    "relative_change": {"tanh": 143.5 / 146.7, "lstm": 95.1 / 92.3},
}

CONFIGS = {
    "full": {"embedding": 128, "hidden": 128, "bptt": 35, "batch_size": 32, "train_tokens": None,
             "valid_tokens": 20_000, "test_tokens": None, "segments": 6, "lr": 2e-3, "clip": 0.5,
             "max_norm": 0.999, "forget_bound": 0.5, "seed": 0},
    "quick": {"embedding": 16, "hidden": 16, "bptt": 10, "batch_size": 8, "train_tokens": 4_000,
              "valid_tokens": 1_000, "test_tokens": 1_000, "segments": 2, "lr": 1e-2, "clip": 0.5,
              "max_norm": 0.999, "forget_bound": 0.5, "seed": 0},
}
EVAL_ROWS = 10  # rows of the validation and test streams (each read on with the state carried)


def config(quick: bool = False, corpus: str | None = None) -> dict:
    """The configuration of a run (model, training budget, corpus folder name).
    """
    cfg = dict(CONFIGS["quick" if quick else "full"])
    cfg["corpus"] = None if corpus is None else Path(corpus).expanduser().resolve().name
    cfg["training"] = ("truncated BPTT in windows of bptt tokens (state carried, detached), Adam, "
                       "gradient-norm clipping; one pass over the training tokens (train_tokens: cap, null = all)")
    return cfg


def load_streams(corpus: str, cfg: dict) -> dict[str, Any]:
    """Token streams of the corpus cut into rows: train (batch_size rows), valid and test (10 rows).
    """
    from ..data import batchify, load_corpus

    if corpus is None:
        raise ValueError("corpus must name a folder with train.txt, valid.txt and test.txt (pass --corpus DIR or --data DIR)")
    c = load_corpus(corpus)
    cut = {"train": c.train[: cfg["train_tokens"]], "valid": c.valid[: cfg["valid_tokens"]],
           "test": c.test if cfg["test_tokens"] is None else c.test[: cfg["test_tokens"]]}
    rows = {"train": batchify(cut["train"], cfg["batch_size"]), "valid": batchify(cut["valid"], EVAL_ROWS),
            "test": batchify(cut["test"], EVAL_ROWS)}
    return {"vocab_size": len(c.vocab), **{s: (r[:, :-1], r[:, 1:]) for s, r in rows.items()},
            "tokens": {s: int(r[:, 1:].numel()) for s, r in rows.items()}}


def perplexity(model: torch.nn.Module, data: tuple, bptt: int, device: str, k: int | None = None) -> float:
    """exp(mean cross-entropy) over a stream, full context (state carried) or with context ``k``.
    """
    if k is None:
        loss = _train.evaluate(model, data, "ce", chunk=bptt, device=device)
    else:
        loss = _train.evaluate(model, data, "ce", k=k, chunk=bptt, device=device)
    return math.exp(loss)


def _build(name: str, index: int, cfg: dict, vocab: int) -> torch.nn.Module:
    return build_model(name, cfg["embedding"], cfg["hidden"], vocab, cfg["seed"] + index, vocab_size=vocab,
                       max_norm=cfg["max_norm"], forget_bound=cfg["forget_bound"])


def _train_one(model, name: str, index: int, cfg: dict, streams: dict, device: str, progress: bool) -> dict:
    """Train over the segments; return the learning curve (tokens seen, train loss, valid perplexity)."""
    x, y = streams["train"]
    bounds = torch.linspace(0, x.shape[1], cfg["segments"] + 1).round().long().tolist()
    curve = {"tokens": [], "train_loss": [], "valid_ppl": []}
    start = time.perf_counter()
    for j, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        result = _train.train(
            model, (x[:, lo:hi], y[:, lo:hi]), mode="tbptt", k=cfg["bptt"], loss="ce", epochs=1, lr=cfg["lr"],
            batch_size=cfg["batch_size"], clip=cfg["clip"], project=name.endswith("stable"),
            seed=cfg["seed"] + 100 * index + j, device=device, progress=progress,
        )
        curve["tokens"].append(int(hi * x.shape[0]))
        curve["train_loss"].append(result.train_loss[0])
        curve["valid_ppl"].append(perplexity(model, streams["valid"], cfg["bptt"], device))
    curve["seconds"] = time.perf_counter() - start
    return curve


def _cache_config(cfg: dict) -> dict:
    return {k: v for k, v in cfg.items() if k != "training"}


def trained_models(cfg: dict, streams: dict, *, device: str = "cpu", cache: Any = None, reuse: bool = True,
                   progress: bool = True) -> dict[str, dict]:
    """Train (or reload from the cache) the four language models; label → {model, history, source}.
    """
    from ..progress import progress_bar

    cache = _common.model_cache_dir(cache)
    out = {}
    for i, name in enumerate(progress_bar(LABELS, show=progress, desc="wordlm: models")):
        model = _build(name, i, cfg, streams["vocab_size"])
        path = model_path(cache, "wordlm", _cache_config(cfg), name)
        history = load_model(path, model) if reuse else None
        if history is None:
            history = _train_one(model, name, i, cfg, streams, device, progress)
            save_model(path, model.cpu(), history)
            source = "trained"
        else:
            source = "cache"
        out[name] = {"model": model.to(device), "history": history, "source": source}
    return out


def run(*, quick: bool = False, data: str | None = None, corpus: str | None = None, device: str = "cpu",
        cache: Any = None, progress: bool = True, **_: Any) -> dict:
    """Run the experiment on the corpus folder ``data`` (or ``corpus``); return the results (without ``meta``).
    """
    start = time.perf_counter()
    folder = data if data is not None else corpus
    cfg = config(quick, folder)
    streams = load_streams(folder, cfg)
    models = trained_models(cfg, streams, device=device, cache=cache, reuse=False, progress=progress)
    rows = []
    for name, entry in models.items():
        model = entry["model"]
        rows.append({
            "model": name,
            "test_ppl": perplexity(model, streams["test"], cfg["bptt"], device),
            "valid_ppl": entry["history"]["valid_ppl"][-1],
            "parameters": sum(p.numel() for p in model.parameters()),
            "history": entry["history"],
            "weights": recurrent_summary(model),
        })
    by = {r["model"]: r["test_ppl"] for r in rows}
    return {
        "name": "wordlm",
        "quick": quick,
        "config": cfg,
        "metrics": {"unit": "perplexity", "models": rows, "vocab_size": streams["vocab_size"],
                    "tokens": streams["tokens"],
                    "relative_change": {k: by[f"{k}-stable"] / by[k] for k in ("tanh", "lstm")},
                    "seconds_experiment": time.perf_counter() - start},
        "published": PUBLISHED,
    }
