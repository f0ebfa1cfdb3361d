"""Experiment ``truncation``: how much context do trained models use at test time?

Every model trained by ``music`` (and by ``wordlm`` when a corpus is given) is evaluated as its
k-truncated version, each prediction computed from a zero state over the k most recent inputs
only (``stablernn.models.truncated_forward``), for k = 1, 2, 4, ... and with full context. The models
are reloaded from the model cache where ``music`` / ``wordlm`` left them under the same
configuration, and retrained otherwise (each row records which). Reported: the metric against k,
and the smallest k of the grid whose metric is within ``tolerance`` (1 %) of full context.

For the word LMs the evaluation uses the first ``test_tokens`` tokens of the test split (a budget
choice recorded in the configuration), in the same 10 rows for full and truncated context.
Every seed of the two experiments is evaluated: ``metrics.models`` holds the first seed's rows (the
curves Chapter 9 draws), ``metrics.seeds`` every seed's.
"""

from __future__ import annotations

import math
import time
from typing import Any

from ..dynamics import smallest_k_within

__all__ = ["TOLERANCE", "k_grid", "run"]

TOLERANCE = 0.01
MUSIC_K_MAX = {"full": 128, "quick": 8}
WORDLM_K_MAX = {"full": 64, "quick": 8}
WORDLM_TEST_TOKENS = {"full": 20_000, "quick": 1_000}


def k_grid(k_max: int) -> list[int]:
    """Powers of two 1, 2, 4, ... up to ``k_max``.
    """
    return [2**i for i in range(int(math.log2(k_max)) + 1)]


def _sweep(evaluate_k, ks: list[int], progress: bool, desc: str) -> tuple[list[float], float]:
    from ..progress import progress_bar

    values = [evaluate_k(k) for k in progress_bar(ks, show=progress, desc=desc, leave=False)]
    return values, evaluate_k(None)


def _row(experiment: str, name: str, seed: int, metric: str, ks: list[int], values: list[float], full: float,
         source: str) -> dict:
    return {"experiment": experiment, "model": name, "seed": seed, "metric": metric, "k": ks, "values": values,
            "full": full,
            "relative_gap": [v / full - 1 for v in values],
            "k_within": smallest_k_within(ks, values, full), "source": source}


def _music_rows(quick: bool, data: Any, device: str, cache: Any, progress: bool) -> tuple[list[dict], dict]:
    from .. import train as _train
    from . import music

    cfg = music.config(quick, data)
    splits = music.load_splits(quick, data, progress)
    models = music.trained_models(cfg, splits, device=device, cache=cache, reuse=True, progress=progress)
    test = music.tensors(splits["test"])
    ks = k_grid(MUSIC_K_MAX["quick" if quick else "full"])
    rows = []
    for (name, seed), entry in models.items():
        values, full = _sweep(lambda k: _train.evaluate(entry["model"], test, "bce", k=k, device=device),
                              ks, progress, f"music {name} seed {seed}: k")
        rows.append(_row("music", name, seed, "nll", ks, values, full, entry["source"]))
    return rows, cfg


def _wordlm_rows(quick: bool, corpus: str, device: str, cache: Any, progress: bool) -> tuple[list[dict], dict]:
    from . import wordlm

    cfg = wordlm.config(quick, corpus)
    streams = wordlm.load_streams(corpus, cfg)
    models = wordlm.trained_models(cfg, streams, device=device, cache=cache, reuse=True, progress=progress)
    tokens = WORDLM_TEST_TOKENS["quick" if quick else "full"]
    x, y = streams["test"]
    cols = max(2, tokens // x.shape[0])
    test = (x[:, :cols], y[:, :cols])
    ks = k_grid(WORDLM_K_MAX["quick" if quick else "full"])
    rows = []
    for (name, seed), entry in models.items():
        values, full = _sweep(lambda k: wordlm.perplexity(entry["model"], test, cfg["bptt"], device, k=k),
                              ks, progress, f"wordlm {name} seed {seed}: k")
        rows.append(_row("wordlm", name, seed, "perplexity", ks, values, full, entry["source"]))
    return rows, {**cfg, "test_tokens_truncation": int(test[1].numel())}


def run(*, quick: bool = False, data: str | None = None, corpus: str | None = None, device: str = "cpu",
        cache: Any = None, progress: bool = True, **_: Any) -> dict:
    """Run the sweep for the music models (and the word LMs if ``corpus`` is given); return the results.
    """
    start = time.perf_counter()
    rows, music_cfg = _music_rows(quick, data, device, cache, progress)
    config = {"tolerance": TOLERANCE, "music": music_cfg, "wordlm": None,
              "k_max": {"music": MUSIC_K_MAX["quick" if quick else "full"]},
              "models_from": "the model cache of music/wordlm under the same configuration, else retrained",
              "truncated_model": "each output computed from a zero state over the k most recent inputs"}
    if corpus is not None:
        word_rows, word_cfg = _wordlm_rows(quick, corpus, device, cache, progress)
        rows += word_rows
        config["wordlm"] = word_cfg
        config["k_max"]["wordlm"] = WORDLM_K_MAX["quick" if quick else "full"]
    first = {e: min(r["seed"] for r in rows if r["experiment"] == e) for e in {r["experiment"] for r in rows}}
    return {"name": "truncation", "quick": quick, "config": config,
            "metrics": {"tolerance": TOLERANCE, "models": [r for r in rows if r["seed"] == first[r["experiment"]]],
                        "seeds": rows, "seconds_experiment": time.perf_counter() - start},
            "published": None}
