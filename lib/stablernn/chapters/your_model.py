"""Chapter 10 (``10_your_model``): is your model stable? ``stablernn.diagnose`` at work.

While the book is built, the chapter trains a small LSTM on Bach chorales twice from the same
initialisation (full BPTT and truncated BPTT), for three seeds, plus a tanh RNN constrained to be
stable, and diagnoses every model on the test chorales. The Part III models are read from the
committed ``results/`` (their weights are not committed: what the files hold is shown as it is).
"""

from __future__ import annotations

import functools
import os
import time

import numpy as np

from .. import diagnose, train
from ..data import load_chorales, pad_rolls
from ..data.polyphonic import N_KEYS
from ..experiments import schema
from ..figures import your_model as figures
from ..figures.theme import LABEL_NAMES
from ..models import build_model
from ..progress import progress_bar
from . import Section

CONFIG = {"hidden": 32, "epochs": 400, "patience": 15, "lr": 1e-2, "batch_size": 8, "clip": 1.0,
          "tbptt_k": 8, "seeds": (0, 1, 2), "stable_norm": 0.9, "train": 60, "valid": 20, "lags": 32, "compare_lag": 16,
          "ks": (1, 2, 4, 8, 16, 32, 64, 128)}
FULL, TBPTT, STABLE = "LSTM, full BPTT", f"LSTM, truncated BPTT (k = {CONFIG['tbptt_k']})", "tanh RNN, stable"


@functools.lru_cache(maxsize=1)
def data() -> dict:
    """(X, Y, mask) of the chapter's chorales: 60 train, 20 validation, every test chorale."""
    return {"train": pad_rolls(load_chorales("train", limit=CONFIG["train"], progress=False)),
            "valid": pad_rolls(load_chorales("valid", limit=CONFIG["valid"], progress=False)),
            "test": pad_rolls(load_chorales("test", progress=False))}


def initial_model(name: str, seed: int):
    """The untrained model of a run: its architecture, initialised from ``seed`` alone, so that the
    full-BPTT and truncated-BPTT LSTMs of one seed start from the same weights."""
    kind = "tanh-stable" if name == STABLE else "lstm"
    return build_model(kind, N_KEYS, CONFIG["hidden"], N_KEYS, seed, max_norm=CONFIG["stable_norm"])


def _train(name: str, seed: int) -> dict:
    """One run: train the initial model with the run's kind of backpropagation, early stopping on validation."""
    c, d = CONFIG, data()
    model = initial_model(name, seed)
    mode, k = ("tbptt", c["tbptt_k"]) if name == TBPTT else ("full", None)
    start = time.perf_counter()
    result = train.train(model, d["train"], d["valid"], mode=mode, k=k, loss="bce", epochs=c["epochs"],
                         lr=c["lr"], batch_size=c["batch_size"], clip=c["clip"], seed=seed,
                         patience=c["patience"], progress=False)
    return {"model": model, "result": result, "seconds": time.perf_counter() - start,
            "test_nll": train.evaluate(model, d["test"], "bce")}


@functools.lru_cache(maxsize=1)
def runs() -> dict:
    """(name, seed) → trained run and its diagnosis on the test chorales."""
    keys = [(name, s) for name in (FULL, TBPTT) for s in CONFIG["seeds"]] + [(STABLE, 0)]
    out = {}
    with train.one_thread():
        for name, seed in progress_bar(keys, desc="Chapter 10: train and diagnose"):
            run = _train(name, seed)
            run["diagnosis"] = diagnose(run["model"], data()["test"], lags=CONFIG["lags"], ks=list(CONFIG["ks"]),
                                        progress=False, seed=seed)
            out[name, seed] = run
    return out


RUNS = {"full BPTT": FULL, "truncated BPTT": TBPTT}  # the explorer's short labels → run names


def run_view(training: str = "full BPTT", seed: int = 0) -> dict:
    """The explorer's data: one LSTM run's diagnosis (``Diagnosis.to_dict()``) and a title naming it."""
    from .._validate import check_choice

    training = RUNS[check_choice("training", training, tuple(RUNS))]
    seed = check_choice("seed", seed, CONFIG["seeds"])
    d = runs()[training, seed]["diagnosis"].to_dict()
    k = d["truncation"]["k_within"]
    d["title"] = (f"{training}, seed {seed}<br><sup>test NLL {runs()[training, seed]['test_nll']:.3f}; "
                  f"effective context k = {k if k is not None else 'none'}</sup>")
    return d


def _spread(values: list[float], digits: int = 3) -> str:
    """'mean ± sd' over seeds (sample standard deviation)."""
    v = np.asarray(values, dtype=float)
    return f"{v.mean():.{digits}g} ± {v.std(ddof=1):.{digits - 1}g}"


def _gradient_at(d, lag: int) -> float:
    return float(d.gradient["mean"][lag] / d.gradient["mean"][0])


def per_seed(name: str) -> dict[str, list[float]]:
    """The numbers compared across trainings, one list entry per seed."""
    ds = [runs()[name, s] for s in CONFIG["seeds"]]
    return {"test_nll": [r["test_nll"] for r in ds],
            "below_1": [r["diagnosis"].contraction["l2"]["fraction_below_1"] for r in ds],
            "median_l2": [r["diagnosis"].contraction["l2"]["median"] for r in ds],
            "k_within": [r["diagnosis"].truncation["k_within"] or np.inf for r in ds],
            "grad_lag": [_gradient_at(r["diagnosis"], CONFIG["compare_lag"]) for r in ds]}


def exceeds_spread(a: list[float], b: list[float]) -> bool:
    """True when two sets of seeds differ by more than twice their combined standard deviation,
    ``|mean(a) - mean(b)| > 2 sqrt(sd(a)^2 + sd(b)^2)``: the only difference the chapter calls a finding.

    With three seeds each this is deliberately strict; anything less is "within the spread over seeds".
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return False
    return bool(abs(a.mean() - b.mean()) > 2 * np.hypot(a.std(ddof=1), b.std(ddof=1)))


def _verdict(a: list[float], b: list[float]) -> str:
    return "a difference larger than the spread over seeds" if exceeds_spread(a, b) else "within the spread over seeds"


def training_section() -> Section:
    """The runs: sizes, epochs, time and test NLL over seeds (``ym_*``)."""
    c, r = CONFIG, runs()
    full, tb = per_seed(FULL), per_seed(TBPTT)
    rows = ["run                            seed  epochs  seconds  test NLL"]
    for (name, seed), run in r.items():
        rows.append(f"{name.replace('truncated BPTT', 'TBPTT'):<31}{seed:>4}  {len(run['result'].train_loss):>6}  "
                    f"{run['seconds']:>7.1f}  {run['test_nll']:>8.3f}")
    values = {"ym_hidden": c["hidden"], "ym_train": c["train"], "ym_test": int(data()["test"][0].shape[0]),
              "ym_k": c["tbptt_k"], "ym_seeds": len(c["seeds"]), "ym_epochs": c["epochs"],
              "ym_nll_full": _spread(full["test_nll"]), "ym_nll_tbptt": _spread(tb["test_nll"]),
              "ym_nll_stable": f"{r[STABLE, 0]['test_nll']:.3g}",
              "ym_nll_verdict": _verdict(full["test_nll"], tb["test_nll"])}
    return Section(values=values, table="\n".join(rows))


def _lstm() -> "diagnose.Diagnosis":
    return runs()[FULL, 0]["diagnosis"]


def certificate_section() -> Section:
    """(a) The certificates of the seed-0 LSTM (full BPTT) and the stable tanh RNN (``ym_cert_*``)."""
    lstm, rnn = _lstm().certificate, runs()[STABLE, 0]["diagnosis"].certificate
    layer = lstm["layers"][0]
    rnn_layer = rnn["layers"][0]
    table = "\n".join([
        "model               certified  λ      ‖W‖₂    ρ(W)    forget-gate bound",
        f"{FULL:<20}{'yes' if lstm['holds'] else 'no':<11}{_num(lstm['lam']):<7}{layer['spectral_norm']:<8.3g}"
        f"{'–':<8}{_num(layer['forget_bound'])}",
        f"{STABLE:<20}{'yes' if rnn['holds'] else 'no':<11}{_num(rnn['lam']):<7}{rnn_layer['spectral_norm']:<8.3g}"
        f"{rnn_layer['spectral_radius']:<8.3g}–",
        "(‖W‖₂: spectral norm; ρ(W): spectral radius; the LSTM's W stacks four blocks, so it has no ρ)",
    ])
    values = {"ym_cert_lstm": "holds" if lstm["holds"] else "does not hold", "ym_cert_lstm_lam": _num(lstm["lam"]),
              "ym_cert_lstm_forget": f"{layer['forget_bound']:.4f}", "ym_cert_lstm_bound": f"{lstm['input_bound']:g}",
              "ym_cert_rnn": "holds" if rnn["holds"] else "does not hold", "ym_cert_rnn_lam": _num(rnn["lam"]),
              "ym_cert_rnn_radius": f"{rnn['layers'][0]['spectral_radius']:.3g}"}
    return Section(values=values, table=table)


def _num(value) -> str:
    return "none" if value is None else f"{value:.3g}"


def contraction_section() -> Section:
    """(b) Jacobian norms along the test chorales, seed-0 LSTM (``ym_jac_*``)."""
    c = _lstm().contraction
    values = {"ym_jac_count": c["l2"]["count"], "ym_jac_below_l2": f"{c['l2']['fraction_below_1']:.0%}",
              "ym_jac_below_linf": f"{c['linf']['fraction_below_1']:.0%}",
              "ym_jac_median_l2": f"{c['l2']['median']:.3g}", "ym_jac_median_linf": f"{c['linf']['median']:.3g}"}
    values["ym_jac_claim"] = ("One step at a time, this LSTM does not contract on its data"
                              if c["l2"]["fraction_below_1"] < 0.5 else "On most steps, this LSTM contracts on its data")
    return Section(values=values, figure=figures.contraction_figure(c))


def gradient_section() -> Section:
    """(c) Gradient against lag, seed-0 LSTM (``ym_grad_*``)."""
    g = _lstm().gradient
    values = {"ym_grad_sequences": g["sequences"], "ym_grad_lags": len(g["lags"]),
              "ym_grad_lag": f"{_gradient_at(_lstm(), CONFIG['compare_lag']):.1e}", "ym_lag": CONFIG["compare_lag"]}
    stretch = _lstm().contraction["l2"]["median"] > 1
    values["ym_grad_claim"] = ("Single steps stretch, yet their products shrink" if stretch and _gradient_at(_lstm(), CONFIG["compare_lag"]) < 1
                               else "The gradient changes with the lag as the one-step norms suggest")
    return Section(values=values, figure=figures.gradient_figure(g))


def truncation_section() -> Section:
    """(d) The truncation curve, seed-0 LSTM (``ym_trunc_*``)."""
    t = _lstm().truncation
    values = {"ym_trunc_k": t["k_within"] if t["k_within"] is not None else "none",
              "ym_trunc_gap1": f"{t['relative_gap'][0]:.1%}", "ym_trunc_full": f"{t['full']:.3f}"}
    return Section(values=values, figure=figures.truncation_figure(t))


def cost_section() -> Section:
    """(e) What evaluating with that k costs against full context, seed-0 LSTM (``ym_cost_*``)."""
    e = _lstm().cost
    values = {"ym_cost_k": e["k"], "ym_cost_depth_full": e["depth_full"], "ym_cost_depth_k": e["depth_truncated"],
              "ym_cost_stream_full": e["stream_floats_full"], "ym_cost_stream_k": e["stream_floats_truncated"],
              "ym_cost_ratio": f"{e['seconds_truncated'] / e['seconds_full']:.2g}"}
    table = (f"{e['outputs']} test frames, best of 3 on the build machine:\n"
             f"  full context  {e['seconds_full'] * 1e3:7.1f} ms   sequential depth {e['depth_full']}\n"
             f"  k = {e['k']:<9} {e['seconds_truncated'] * 1e3:7.1f} ms   sequential depth {e['depth_truncated']}")
    return Section(values=values, table=table)


def comparison_section() -> Section:
    """Full against truncated BPTT over seeds: which differences exceed the spread (``ym_cmp_*``)."""
    full, tb = per_seed(FULL), per_seed(TBPTT)
    values = {}
    for key, digits in (("below_1", 2), ("median_l2", 3), ("grad_lag", 2)):
        values[f"ym_cmp_{key}_full"] = _spread(full[key], digits)
        values[f"ym_cmp_{key}_tbptt"] = _spread(tb[key], digits)
        values[f"ym_cmp_{key}_verdict"] = _verdict(full[key], tb[key])
    beyond = [key for key in ("below_1", "median_l2", "grad_lag") if exceeds_spread(full[key], tb[key])]
    values["ym_cmp_summary"] = ("none of the measured differences between the two trainings exceeds the spread over seeds"
                                if not beyond else
                                f"{len(beyond)} of the 3 measured differences exceed the spread over seeds")
    values["ym_cmp_k_full"] = ", ".join(_k(k) for k in full["k_within"])
    values["ym_cmp_k_tbptt"] = ", ".join(_k(k) for k in tb["k_within"])
    certified = sum(runs()[name, s]["diagnosis"].certificate["holds"] for name in (FULL, TBPTT) for s in CONFIG["seeds"])
    values["ym_cmp_cert"] = ("neither training gives a certified model for any seed" if certified == 0
                             else f"{certified} of the {2 * len(CONFIG['seeds'])} LSTMs are certified")
    shown = {name: [runs()[name, s]["diagnosis"].to_dict() for s in CONFIG["seeds"]] for name in (FULL, TBPTT)}
    return Section(values=values, figure=figures.compare_figure(shown))


def _k(k: float) -> str:
    return "none" if not np.isfinite(k) else str(int(k))


def part3_section(directory: str | os.PathLike) -> Section:
    """The Part III models as the committed results describe them (``ym_p3_*``), with what is missing."""
    trunc, stab = schema.load("truncation", directory), schema.load("datastability", directory)
    k_within = {(r["experiment"], r["model"]): r["k_within"] for r in trunc["metrics"]["models"]}
    rows = ["data    model              ‖W‖₂    certificate        J < 1   k within 1 %"]
    certified = 0
    for r in stab["metrics"]["models"]:
        w = r["weights"]
        if "spectral_norm_W" in w:
            holds = w["spectral_norm_W"] < 1
            norm = f"{w['spectral_norm_W']:.3g}"
        else:  # the LSTM's certificate, computed from its weights when the experiment ran
            holds, norm = bool(r["certificate"]["holds"]), "–"
        cert = "holds" if holds else "does not hold"
        certified += holds
        data_name = "music" if r["experiment"] == "music" else "words"
        rows.append(f"{data_name:<8}{LABEL_NAMES[r['model']]:<19}{norm:<8}{cert:<19}"
                    f"{r['contraction']['fraction_below_1']:<8.0%}{k_within.get((r['experiment'], r['model']))}")
    rows.append("(J < 1: share of measured one-step Jacobians with ℓ2 norm below 1, Chapter 9;")
    rows.append(" the LSTM's certificate is in ℓ∞, where Chapter 9 measures it too)")
    linf = [f"{r['contraction_linf']['fraction_below_1']:.0%} ({r['experiment'].replace('wordlm', 'word LM')})"
            for r in stab["metrics"]["models"] if r["model"] == "lstm-stable"]
    values = {"ym_p3_models": len(stab["metrics"]["models"]), "ym_p3_certified": int(certified),
              "ym_p3_lstm_stable_linf": " and ".join(linf) or "none measured"}
    return Section(values=values, table="\n".join(rows))
