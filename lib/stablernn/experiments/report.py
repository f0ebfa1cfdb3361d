"""Numbers of the results files as short strings for the chapters' tables and captions.

Chapters 8 and 9 insert every number with myst-nb ``glue``; these functions turn a validated
results dictionary into ``{glue name: text}`` so that a chapter cell is one loop.
"""

from __future__ import annotations

import datetime as _dt

__all__ = ["gradient_rate", "source_line", "music_values", "wordlm_values", "stopping_text", "truncation_values", "datastability_values",
           "key", "spread_text", "verdict"]


def spread_text(spread: dict, digits: int = 2, percent: bool = False) -> str:
    """'mean ± sd' of a spread over seeds (``percent``: of a ratio, as a change in %)."""
    if percent:
        return f"{100 * (spread['mean'] - 1):+.{digits}f} % ± {100 * spread['sd']:.{digits}f} %"
    return f"{spread['mean']:.{digits}f} ± {spread['sd']:.{digits}f}"


def verdict(ratio: dict) -> str:
    """The phrase the prose may use for a stable / unstable ratio over seeds (``_common.ratio_is_a_finding``)."""
    from ._common import ratio_is_a_finding

    if not ratio_is_a_finding(ratio):
        return "within the spread over seeds"
    return "better with stability, beyond the spread over seeds" if ratio["mean"] < 1 else \
        "worse with stability, beyond the spread over seeds"


def _seed_values(prefix: str, m: dict, digits: int) -> dict[str, str]:
    """Spread over seeds of every model's test metric and of each kind's stable / unstable ratio."""
    sp = m["spread"]
    out = {f"{prefix}_seeds": str(len(sp["seeds"]))}
    for label, v in sp["by_model"].items():
        out[f"{prefix}_{key(label)}_spread"] = spread_text(v, digits)
    for kind, v in sp["ratio"].items():
        out[f"{prefix}_{kind}_ratio_spread"] = spread_text(v, 1, percent=True)
        out[f"{prefix}_{kind}_verdict"] = verdict(v)
    return out


def key(label: str) -> str:
    """A glue-safe version of a model label: ``"tanh-stable"`` → ``"tanh_stable"``."""
    return label.replace("-", "_")


def source_line(results: dict) -> str:
    """Where the numbers came from (Markdown): command, date, commit, run time and device.
    """
    meta = results["meta"]
    date = _dt.datetime.fromisoformat(meta["date"]).strftime("%Y-%m-%d")
    commit = meta["git_commit"][:7] + (" + local changes" if meta["git_commit"].endswith("-dirty") else "")
    minutes = meta["seconds"] / 60
    run = f"{minutes:.1f} min" if minutes >= 1 else f"{meta['seconds']:.0f} s"
    line = (f"Source: `{meta['command']}`, run {date}, commit {commit}, {run} on "
            f"{meta['machine']['device']} ({meta['machine']['cpu_count']} CPUs).")
    rows = results.get("metrics", {}).get("seeds") or []
    if rows and all("train_seconds" in r for r in rows) and any(r.get("source") == "cache" for r in rows):
        hours = sum(r["train_seconds"] for r in rows) / 3600
        line += (f" The {len(rows)} models were trained by the same command under the same configuration "
                 f"and reloaded from its model cache; their training took {hours:.1f} h of CPU time in all.")
    return line


def music_values(results: dict, prefix: str = "mu") -> dict[str, str]:
    """Test and validation NLL per model, ratios, baselines, data sizes and published numbers.
    """
    m = results["metrics"]
    out = {f"{prefix}_source": source_line(results)}
    for row in m["models"]:
        k = key(row["model"])
        out[f"{prefix}_{k}_test"] = f"{row['test_nll']:.2f}"
        out[f"{prefix}_{k}_epochs"] = str(row["history"]["best_epoch"] or row["history"]["epochs_run"])
        out[f"{prefix}_{k}_params"] = f"{row['parameters']:,}"
        out.update(_weights(prefix, k, row["weights"]))
    for kind, ratio in m["relative_change"].items():
        out[f"{prefix}_{kind}_ratio"] = f"{ratio:.3f}"
    out.update(_seed_values(prefix, m, 2))
    out[f"{prefix}_bernoulli"] = f"{m['baselines']['bernoulli']:.2f}"
    out[f"{prefix}_logistic"] = f"{m['baselines']['logistic_previous_frame']:.2f}"
    for split, size in m["data"].items():
        out[f"{prefix}_{split}_n"] = str(size["sequences"])
        out[f"{prefix}_{split}_frames"] = f"{size['frames']:,}"
    cfg = results["config"]
    out[f"{prefix}_hidden"] = str(cfg["hidden"])
    out[f"{prefix}_epochs_max"] = str(cfg["epochs"])
    out[f"{prefix}_patience"] = str(cfg["patience"])
    out[f"{prefix}_lr"] = f"{cfg['lr']:g}"
    return out


def _weights(prefix: str, k: str, weights: dict) -> dict[str, str]:
    out = {}
    if "spectral_norm_W" in weights:
        out[f"{prefix}_{k}_norm"] = f"{weights['spectral_norm_W']:.3f}"
        out[f"{prefix}_{k}_radius"] = f"{weights['spectral_radius_W']:.3f}"
    return out


def stopping_text(results: dict) -> tuple[str, str]:
    """How the word LMs' training ended, over every run (seeds' rows, else seed 0's histories):
    the sentence Chapter 8 states after its stopping rule, and the range of epochs run."""
    m, cfg = results["metrics"], results["config"]
    every_seed = all("stopped" in r for r in m["seeds"])  # older results keep histories of seed 0 only
    rows = m["seeds"] if every_seed else m["models"]
    runs = "runs" if every_seed else "runs of seed 0"
    stopped = [r.get("stopped") or r["history"]["stopped"] for r in rows]
    epochs = [r["epochs"] if "epochs" in r else len(r["history"]["valid_ppl"]) / cfg["evals_per_epoch"] for r in rows]
    capped, n = sum(x == "max_epochs" for x in stopped), len(stopped)
    if capped == 0:
        text = (f"all {n} {runs} stopped by the rule, after {min(epochs):g} to {max(epochs):g} epochs, so every model "
                "is compared at its best validation perplexity")
    elif capped == n:
        text = (f"all {n} {runs} reached the {cfg['max_epochs']}-epoch cap before the stopping rule fired, so they are "
                "not trained to convergence and the comparisons below are at this budget")
    else:
        text = (f"{n - capped} of the {n} {runs} stopped by the rule and {capped} reached the {cfg['max_epochs']}-epoch "
                "cap while still improving, so those are not trained to convergence")
    return text, f"{min(epochs):g} to {max(epochs):g}"


def wordlm_values(results: dict, prefix: str = "wl") -> dict[str, str]:
    """Test perplexity per model, ratios beside the published ratios, budget of the run.
    """
    m = results["metrics"]
    out = {f"{prefix}_source": source_line(results)}
    for row in m["models"]:
        k = key(row["model"])
        out[f"{prefix}_{k}_test"] = f"{row['test_ppl']:.1f}"
        out.update(_weights(prefix, k, row["weights"]))
    for kind, ratio in m["relative_change"].items():
        out[f"{prefix}_{kind}_ratio"] = f"{ratio:.3f}"
        out[f"{prefix}_{kind}_paper_ratio"] = f"{results['published']['relative_change'][kind]:.3f}"
    out.update(_seed_values(prefix, m, 1))
    by = {(r["model"], r["seed"]): r["test_ppl"] for r in m["seeds"]}
    gap = _spread([by["lstm", s] / by["tanh", s] for s in m["spread"]["seeds"]])
    out[f"{prefix}_lstm_vs_tanh"] = spread_text(gap, 1, percent=True)
    from ._common import ratio_is_a_finding

    out[f"{prefix}_lstm_beats_tanh"] = ("beats the tanh RNN beyond the spread over seeds"
                                        if ratio_is_a_finding(gap) and gap["mean"] < 1
                                        else "does not beat the tanh RNN beyond the spread over seeds")
    out[f"{prefix}_stopped"], out[f"{prefix}_epochs_run"] = stopping_text(results)
    cfg = results["config"]
    for name in ("embedding", "hidden", "bptt", "batch_size", "evals_per_epoch", "max_epochs", "patience"):
        out[f"{prefix}_{name}"] = str(cfg[name])
    out[f"{prefix}_train_tokens"] = f"{m['tokens']['train']:,}"
    out[f"{prefix}_test_tokens"] = f"{m['tokens']['test']:,}"
    out[f"{prefix}_vocab"] = f"{m['vocab_size']:,}"
    out[f"{prefix}_lr"] = f"{cfg['lr']:g}"
    return out


def truncation_values(results: dict, prefix: str = "tr") -> dict[str, str]:
    """Smallest k within tolerance and the gaps at k = 1 per experiment and model.
    """
    m = results["metrics"]
    out = {f"{prefix}_source": source_line(results), f"{prefix}_tol": f"{m['tolerance']:.0%}"}
    for row in m["models"]:
        k = f"{prefix}_{row['experiment']}_{key(row['model'])}"
        out[f"{k}_kwithin"] = "none" if row["k_within"] is None else str(row["k_within"])
        out[f"{k}_gap1"] = f"{100 * (row['values'][0] / row['full'] - 1):+.0f} %"
        out[f"{k}_full"] = f"{row['full']:.2f}" if row["metric"] == "nll" else f"{row['full']:.1f}"
        out[f"{k}_kmax"] = str(row["k"][-1])
    if results["config"].get("wordlm"):
        out[f"{prefix}_wordlm_tokens"] = f"{results['config']['wordlm']['test_tokens_truncation']:,}"
    for experiment in ("music", "wordlm"):
        ks = [r["k_within"] for r in m["seeds"] if r["experiment"] == experiment]
        if ks:
            out[f"{prefix}_{experiment}_kall"] = "none" if None in ks else str(max(ks))
            out[f"{prefix}_{experiment}_seeds"] = str(len({r["seed"] for r in m["seeds"]
                                                           if r["experiment"] == experiment}))
    out.update(_twin_contexts(prefix, m["seeds"]))
    return out


def _twin_contexts(prefix: str, rows: list[dict]) -> dict[str, str]:
    """Per model the effective context of every seed, and how each stable model's context compares
    with its unconstrained twin's (same kind, seed and experiment): shorter, equal or longer."""
    out, k = {}, {(r["experiment"], r["model"], r["seed"]): r["k_within"] for r in rows}
    counts = {"shorter": 0, "equal": 0, "longer": 0}
    for experiment, model, seed in k:
        out.setdefault(f"{prefix}_{experiment}_{key(model)}_kseeds", [])
        out[f"{prefix}_{experiment}_{key(model)}_kseeds"].append((seed, k[experiment, model, seed]))
        if model.endswith("-stable"):
            a, b = k[experiment, model, seed], k.get((experiment, model.split("-")[0], seed))
            if a is None or b is None:
                continue
            counts["shorter" if a < b else "equal" if a == b else "longer"] += 1
    for name, pairs in list(out.items()):
        out[name] = ", ".join("none" if v is None else str(v) for _, v in sorted(pairs))
    out.update({f"{prefix}_twins_{c}": str(n) for c, n in counts.items()})
    out[f"{prefix}_twins"] = str(sum(counts.values()))
    return out


def datastability_values(results: dict, prefix: str = "ds") -> dict[str, str]:
    """Contraction-factor summaries and gradient decay per experiment and model.
    """
    cfg = results["config"]
    out = {f"{prefix}_source": source_line(results), f"{prefix}_span": str(cfg["target"] + 1),
           f"{prefix}_samples": str(cfg["samples"]), f"{prefix}_last_lag": str(cfg["lags"] - 1)}
    for row in results["metrics"]["models"]:
        k = f"{prefix}_{row['experiment']}_{key(row['model'])}"
        c = row["contraction"]
        out[f"{k}_median"] = f"{c['median']:.2f}"
        out[f"{k}_q95"] = f"{c['q95']:.2f}"
        out[f"{k}_max"] = f"{c['max']:.2f}"
        out[f"{k}_below"] = f"{100 * c['fraction_below_1']:.0f} %"
        out[f"{k}_above"] = f"{100 * (1 - c['fraction_below_1']):.0f} %"
        g = row["gradient_vs_lag"]["norms"]
        lag = min(20, len(g) - 1)
        out[f"{k}_lag"] = str(lag)
        out[f"{k}_decay"] = f"{g[lag] / g[0]:.1e}"
        out[f"{k}_rate"] = f"{gradient_rate(g):.2f}"
        w = row["weights"]
        if "spectral_norm_W" in w:
            out[f"{k}_norm"] = f"{w['spectral_norm_W']:.2f}"
        if "contraction_linf" in row:
            out[f"{k}_linf_median"] = f"{row['contraction_linf']['median']:.2f}"
            out[f"{k}_linf_below"] = f"{100 * row['contraction_linf']['fraction_below_1']:.0f} %"
        if "forget_gate_max" in row:
            out[f"{k}_forget_max"] = f"{row['forget_gate_max']:.3f}"
            cert = row["certificate"]
            out[f"{k}_certified"] = "certified" if cert["holds"] else "not certified"
            out[f"{k}_lam"] = "none" if cert["lam"] is None else f"{cert['lam']:.4f}"
        g = row["gradient_vs_lag"]
        if "sequences" in g:
            out[f"{k}_sequences"] = str(g["sequences"])
    decays = {(r["experiment"], r["model"]): r["gradient_vs_lag"]["norms"][min(20, len(r["gradient_vs_lag"]["norms"]) - 1)]
              / r["gradient_vs_lag"]["norms"][0] for r in results["metrics"]["models"]}
    slowest = max(decays, key=decays.get)
    name = f"{'music' if slowest[0] == 'music' else 'word LM'} {slowest[1].replace('-', ', ').replace('tanh', 'tanh RNN').replace('lstm', 'LSTM')}"
    out[f"{prefix}_decay_claim"] = (
        f"every model's gradient falls at least tenfold by lag {min(20, len(g['norms']) - 1)}"
        if decays[slowest] <= 0.1 else
        f"not every model's gradient falls tenfold by lag {min(20, len(g['norms']) - 1)}: the {name} keeps "
        f"{decays[slowest]:.2f} of its gradient at lag 0")
    return out


def _spread(values: list[float]) -> dict:
    from ._common import spread

    return spread(values)


def gradient_rate(norms) -> float:
    """Mean factor per step by which a gradient shrinks with the lag: (g[L] / g[1]) ** (1 / (L - 1)),
    with L the last lag whose gradient is still nonzero (a fast-forgetting model's gradient underflows
    to 0 in float32 before the last lag).

    Lag 0 is left out: the step from the output to the state it reads is not a recurrence step.
    """
    import numpy as np

    from .._validate import check_array

    g = check_array("norms", norms, ndim=1)
    last = int(np.nonzero(g > 0)[0].max()) if np.any(g > 0) else 0
    if last < 2 or g[1] <= 0:
        raise ValueError(f"norms must hold at least 3 positive values from lag 0, got {len(g)} values")
    return float((g[last] / g[1]) ** (1.0 / (last - 1)))
