"""Chapter 8 (``08_in_practice``): stable and unstable models trained on real data.

The chapter reads the committed results of ``python -m stablernn.experiments music`` and ``wordlm``
(``results_section`` hands it their numbers by name), shows one model's two runs side by side
(``pair``, the data of its explorer), and runs the quick music configuration while the book is built.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from dataclasses import dataclass

import numpy as np

from .. import train
from .._validate import check_choice
from ..experiments import music as music_experiment
from ..experiments import report, schema
from . import Section

EXPERIMENTS = {"music": "music", "word LM": "wordlm"}
MODELS = {"tanh RNN": "tanh", "LSTM": "lstm"}


@dataclass(frozen=True)
class PairData:
    """Validation curves and test numbers of one model, unconstrained and stable."""

    experiment: str
    model: str
    x_label: str
    metric: str
    x: dict            # run label -> array of epochs or tokens seen
    valid: dict        # run label -> array of validation losses (NLL or perplexity)
    test: dict         # run label -> test metric
    norm_name: str     # the norm that the stability condition constrains, as shown
    norm: dict         # run label -> that norm of the trained recurrent weights


def pair(music: dict, wordlm: dict, experiment: str = "music", model: str = "tanh RNN") -> PairData:
    """Curves and numbers of ``model`` in ``experiment``, from the experiments' results dictionaries.

    Parameters
    ----------
    music, wordlm : results of ``python -m stablernn.experiments music`` and ``wordlm``.
    experiment : "music" or "word LM".
    model : "tanh RNN" or "LSTM".
    """
    experiment = check_choice("experiment", experiment, EXPERIMENTS)
    model = check_choice("model", model, MODELS)
    results = music if experiment == "music" else wordlm
    if not isinstance(results, dict) or "metrics" not in results:
        raise TypeError(f"{EXPERIMENTS[experiment]} must be a results dictionary with 'metrics'")
    kind = MODELS[model]
    rows = {r["model"]: r for r in results["metrics"]["models"]}
    x, valid, test, norm = {}, {}, {}, {}
    for label, key in (("unconstrained", kind), ("stable", f"{kind}-stable")):
        h = rows[key]["history"]
        if experiment == "music":
            valid[label] = np.asarray(h["valid_loss"], dtype=float)
            x[label] = np.arange(1, len(valid[label]) + 1)
            test[label] = float(rows[key]["test_nll"])
        else:
            valid[label] = np.asarray(h["valid_ppl"], dtype=float)
            x[label] = np.asarray(h["tokens"], dtype=float)
            test[label] = float(rows[key]["test_ppl"])
        w = rows[key]["weights"]
        # the tanh RNN's condition bounds ||W||_2; the LSTM's bounds the inf-norm of each gate block
        norm[label] = float(w["spectral_norm_W"] if kind == "tanh"
                            else max(w[f"inf_norm_W_{g}"] for g in "ifzo"))
    return PairData(experiment, model, "epoch" if experiment == "music" else "training tokens seen",
                    "test NLL (nats per frame)" if experiment == "music" else "test perplexity",
                    x, valid, test, "‖W‖₂" if kind == "tanh" else "max over gates of ‖W_gate‖∞", norm)


# -- the chapter's numbers ----------------------------------------------------------------------

def load_results(directory: str | os.PathLike) -> tuple[dict, dict, dict | None]:
    """The validated ``music`` and ``wordlm`` results in ``directory`` (a clear error naming the command
    if missing), and the music experiment on the standard JSB split in ``directory/jsb`` (None if
    that optional run is absent: it needs the JSB ``.mat`` file, which the book never ships)."""
    jsb_dir = Path(directory) / "jsb"
    jsb = schema.load("music", jsb_dir) if (jsb_dir / "music.json").is_file() else None
    return schema.load("music", directory), schema.load("wordlm", directory), jsb


def results_section(music: dict, wordlm: dict, jsb: dict | None = None) -> Section:
    """Every number the chapter quotes from the results files (``mu_*``, ``wl_*``, and ``jb_*`` for the
    JSB split: "not run" where that optional run is absent)."""
    values = {**report.music_values(music), **report.wordlm_values(wordlm)}
    if jsb is not None:
        values.update(report.music_values(jsb, prefix="jb"))
    else:
        values.update({name.replace("mu_", "jb_", 1): "not run" for name in report.music_values(music)})
    return Section.from_report(values)


def quick_run() -> Section:
    """The quick music configuration trained now (tiny models, seconds): sizes and test NLLs (values ``q_*``)."""
    # the tiny models stay out of the shared model cache; one torch thread (``train.one_thread``)
    with tempfile.TemporaryDirectory() as cache, train.one_thread():
        quick = music_experiment.run(quick=True, cache=cache, progress=True, detail=False)
    metrics = quick["metrics"]
    values = {"q_hidden": quick["config"]["hidden"], "q_epochs": quick["config"]["epochs"],
              "q_train_n": metrics["data"]["train"]["sequences"], "q_test_n": metrics["data"]["test"]["sequences"],
              "q_bernoulli": f"{metrics['baselines']['bernoulli']:.2f}"}
    values.update({f"q_{report.key(row['model'])}": f"{row['test_nll']:.2f}" for row in metrics["models"]})
    lines = ["model        test NLL (nats per frame)"]
    lines += [f"{row['model']:12s} {row['test_nll']:.2f}" for row in metrics["models"]]
    return Section(values=values, table="\n".join(lines))
