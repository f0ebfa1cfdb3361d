"""Experiment ``wordlm``: stable vs unstable word-level language models, over several seeds.

The corpus is a folder with ``train.txt``, ``valid.txt``, ``test.txt`` (Penn Treebank or
WikiText-2 layout). The training stream is cut into ``batch_size`` rows and walked with truncated
BPTT in windows of ``bptt`` tokens, the recipe of PyTorch's word-language-model example, but with
Adam. Each epoch is split into ``evals_per_epoch`` consecutive pieces along time, each one call of
the library's ``train`` (so Adam's moment estimates restart with each piece); the validation
perplexity is measured after each piece.

**Stopping rule**: training stops when the validation perplexity has not improved (by at least
0.1 %) for ``patience`` consecutive evaluations, or after ``max_epochs`` epochs, and the model keeps
the weights of its best evaluation. Every model is trained for each seed of ``seeds``; the
unconstrained and the stable model of one kind and seed start from the same initialisation (the
stable one then projected). Test perplexity uses the whole test split with the state carried
across windows. Published numbers (Miller & Hardt, WikiText-2, quoted in the essay) are compared
as ratios stable / unstable, since corpus and scale differ.
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
from .checkpoints import certificate_of, load_model, recurrent_summary, save_model

__all__ = ["CONFIGS", "PUBLISHED", "config", "load_streams", "trained_models", "run", "perplexity"]

#: Miller & Hardt (2019), WikiText-2 test perplexity, as quoted in the essay (miller2018essay).
PUBLISHED = {
    "source": "miller2019stable; miller2018essay",
    "table": "WikiText-2 test perplexity",
    "values": {"tanh": {"unstable": 146.7, "stable": 143.5}, "lstm": {"unstable": 92.3, "stable": 95.1}},
    "relative_change": {"tanh": 143.5 / 146.7, "lstm": 95.1 / 92.3},
}

CONFIGS = {
    "full": {"embedding": 64, "hidden": 64, "bptt": 35, "batch_size": 32, "train_tokens": 200_000,
             "valid_tokens": 20_000, "test_tokens": None, "evals_per_epoch": 2, "max_epochs": 15, "patience": 2,
             "lr": 3e-3, "clip": 0.5, "max_norm": 0.999, "forget_bound": 0.5, "input_bound": 1.0,
             "seeds": [0, 1, 2]},
    "quick": {"embedding": 16, "hidden": 16, "bptt": 10, "batch_size": 8, "train_tokens": 4_000,
              "valid_tokens": 1_000, "test_tokens": 1_000, "evals_per_epoch": 2, "max_epochs": 2, "patience": 1,
              "lr": 1e-2, "clip": 0.5, "max_norm": 0.999, "forget_bound": 0.5, "input_bound": 1.0,
              "seeds": [0, 1]},
}
EVAL_ROWS = 10  # rows of the validation and test streams (each read on with the state carried)


def config(quick: bool = False, corpus: str | None = None) -> dict:
    """The configuration of a run (model, training budget, corpus folder name).
    """
    cfg = dict(CONFIGS["quick" if quick else "full"])
    cfg["corpus"] = None if corpus is None else Path(corpus).expanduser().resolve().name
    cfg["training"] = ("truncated BPTT in windows of bptt tokens (state carried, detached), Adam, gradient-norm "
                       "clipping; validation perplexity evaluated evals_per_epoch times per epoch; stop after "
                       "patience evaluations without a 0.1 % improvement or max_epochs epochs; best weights kept")
    cfg["stable"] = ("tanh: spectral norm of W clipped at max_norm after every step; lstm: certified "
                     "(stability.lstm_condition): recurrent blocks on l1 balls, forget-gate biases lowered so that "
                     "f <= forget_bound for ||x||_inf <= input_bound, embedding clipped to [-input_bound, input_bound]")
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


def _build(name: str, seed: int, cfg: dict, vocab: int) -> torch.nn.Module:
    """The label's model initialised from ``seed`` alone: twins (``tanh``/``tanh-stable``, ...) share it."""
    return build_model(name, cfg["embedding"], cfg["hidden"], vocab, seed, vocab_size=vocab,
                       max_norm=cfg["max_norm"], forget_bound=cfg["forget_bound"], input_bound=cfg["input_bound"])


def _train_one(model, name: str, seed: int, cfg: dict, streams: dict, device: str, progress: bool) -> dict:
    """Train under the stopping rule; return the learning curve (tokens seen, train loss, valid perplexity)."""
    import copy

    x, y = streams["train"]
    pieces = cfg["evals_per_epoch"]
    bounds = torch.linspace(0, x.shape[1], pieces + 1).round().long().tolist()
    curve = {"tokens": [], "train_loss": [], "valid_ppl": [], "best_eval": 0, "stopped": "max_epochs"}
    start, best, best_state, waited = time.perf_counter(), math.inf, None, 0
    for epoch in range(cfg["max_epochs"]):
        for j, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
            result = _train.train(
                model, (x[:, lo:hi], y[:, lo:hi]), mode="tbptt", k=cfg["bptt"], loss="ce", epochs=1, lr=cfg["lr"],
                batch_size=cfg["batch_size"], clip=cfg["clip"], project=name.endswith("stable"),
                seed=1000 * seed + pieces * epoch + j, device=device, progress=progress,
            )
            valid = perplexity(model, streams["valid"], cfg["bptt"], device)
            curve["tokens"].append(int((epoch * x.shape[1] + hi) * x.shape[0]))
            curve["train_loss"].append(result.train_loss[0])
            curve["valid_ppl"].append(valid)
            if valid < best * (1 - 1e-3):
                best, best_state, waited = valid, copy.deepcopy(model.state_dict()), 0
                curve["best_eval"] = len(curve["valid_ppl"]) - 1
            else:
                waited += 1
            if waited >= cfg["patience"]:
                curve["stopped"] = "patience"
                break
        if curve["stopped"] == "patience":
            break
    model.load_state_dict(best_state)
    curve["seconds"] = time.perf_counter() - start
    return curve


def _cache_config(cfg: dict) -> dict:
    return {k: v for k, v in cfg.items() if k not in ("training", "stable", "seeds")}


def trained_models(cfg: dict, streams: dict, *, seeds: list[int] | None = None, device: str = "cpu",
                   cache: Any = None, reuse: bool = True, progress: bool = True) -> dict[tuple[str, int], dict]:
    """Train (or reload from the cache) the four language models for every seed; (label, seed) →
    {model, history, source}. ``seeds`` defaults to the configuration's."""
    from ..progress import progress_bar

    cache = _common.model_cache_dir(cache)
    keys = [(name, seed) for seed in (cfg["seeds"] if seeds is None else seeds) for name in LABELS]
    out = {}
    for name, seed in progress_bar(keys, show=progress, desc="wordlm: models"):
        model = _build(name, seed, cfg, streams["vocab_size"])
        path = model_path(cache, "wordlm", _cache_config(cfg), f"{name}-seed{seed}")
        history = load_model(path, model) if reuse else None
        if history is None:
            history = _train_one(model, name, seed, cfg, streams, device, progress)
            save_model(path, model.cpu(), history)
            source = "trained"
        else:
            source = "cache"
        out[name, seed] = {"model": model.to(device), "history": history, "source": source}
    return out


def run(*, quick: bool = False, data: str | None = None, corpus: str | None = None, device: str = "cpu",
        cache: Any = None, progress: bool = True, **_: Any) -> dict:
    """Run the experiment on the corpus folder ``data`` (or ``corpus``); return the results (without ``meta``).

    Models already in the cache under the same configuration are reloaded (their rows say so).
    ``metrics.models`` holds seed 0's four models (curves, weights); ``metrics.seeds`` every run;
    ``metrics.spread`` the mean and standard deviation over seeds.
    """
    start = time.perf_counter()
    folder = data if data is not None else corpus
    cfg = config(quick, folder)
    streams = load_streams(folder, cfg)
    models = trained_models(cfg, streams, device=device, cache=cache, reuse=True, progress=progress)
    rows = []
    for (name, seed), entry in models.items():
        model = entry["model"]
        h = entry["history"]
        rows.append({
            "model": name, "seed": seed,
            "test_ppl": perplexity(model, streams["test"], cfg["bptt"], device),
            "valid_ppl": h["valid_ppl"][h["best_eval"]],
            "parameters": sum(p.numel() for p in model.parameters()),
            "history": h, "weights": recurrent_summary(model), "source": entry["source"],
            "certificate": certificate_of(model),
            "train_seconds": float(entry["history"]["seconds"]),
            "stopped": h["stopped"], "epochs": len(h["valid_ppl"]) / cfg["evals_per_epoch"],
        })
    first = min(cfg["seeds"])
    summary = _common.seed_summary(rows, "test_ppl", LABELS)
    return {
        "name": "wordlm",
        "quick": quick,
        "config": cfg,
        "metrics": {"unit": "perplexity", "models": [r for r in rows if r["seed"] == first],
                    "seeds": [{k: v for k, v in r.items() if k not in ("history",)} for r in rows],
                    "spread": summary, "vocab_size": streams["vocab_size"], "tokens": streams["tokens"],
                    "relative_change": {k: v["mean"] for k, v in summary["ratio"].items()},
                    "seconds_experiment": time.perf_counter() - start},
        "published": PUBLISHED,
    }
