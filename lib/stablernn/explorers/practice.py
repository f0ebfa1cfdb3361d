"""Stable-versus-unstable explorer (Chapter 8): one model's two training runs side by side.

Reads the results of the ``music`` and ``wordlm`` experiments (plain JSON, see
``stablernn.experiments``) and, for the experiment and model the reader picks, shows the
validation curves of the unconstrained and the stable run with their test metrics and the spectral
norm of their recurrent matrices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import check_choice
from ..figures.practice import pair_figure
from .base import Control, Explorer

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


def compute(music: dict, wordlm: dict, experiment: str = "music", model: str = "tanh RNN") -> PairData:
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


def explorer(music: dict, wordlm: dict) -> Explorer:
    """The Chapter 8 explorer over the committed results of the two experiments."""
    controls = (Control("experiment", "experiment", tuple(EXPERIMENTS), "music"),
                Control("model", "model", tuple(MODELS), "tanh RNN"))
    return Explorer(title="Unconstrained and stable training runs", compute=compute, figure=pair_figure,
                    controls=controls, fixed={"music": music, "wordlm": wordlm})
