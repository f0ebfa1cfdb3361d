"""Tests of stablernn.presentation.trainer (*Train it yourself*): the task and the twin models, and the
explorer's one background action, Train, run with tiny settings."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stablernn import linalg
from stablernn.presentation import trainer as app


def _norm(model) -> float:
    return linalg.spectral_norm(model.recurrent_weights()[0].detach().numpy())


def test_adding_task_scores_only_the_last_step():
    task = app.make_task("adding problem", length=10, seed=0)
    x, y, mask = task.train
    assert x.shape == (512, 10, 2) and y.shape == (512, 10, 1) and task.loss == "mse"
    assert torch.all(mask[:, :-1] == 0) and torch.all(mask[:, -1] == 1)
    assert torch.all(y[:, :-1] == 0)
    assert task.valid[0].shape == (256, 10, 2) and not torch.equal(task.valid[0][:5], x[:5])


def test_pair_starts_from_the_same_weights_with_the_stable_one_projected():
    task = app.make_task("adding problem", length=10, seed=0)
    pair = app.make_pair(task, hidden=8, seed=3)
    free, stable = pair["unconstrained"], pair["stable"]
    assert _norm(stable) <= 1 - 1e-3 + 1e-6
    for (name, p), q in zip(free.named_parameters(), stable.parameters()):
        if "weight_hh" not in name:
            assert torch.equal(p, q), name  # only the recurrent matrix was projected
    again = app.make_pair(task, hidden=8, seed=3)["unconstrained"]
    assert all(torch.equal(p, q) for p, q in zip(free.parameters(), again.parameters()))


@pytest.mark.parametrize("call, match", [
    (lambda: app.make_task("copy memory"), "name"),
    (lambda: app.make_task("adding problem", length=5), "length"),
    (lambda: app.make_pair(app.make_task("adding problem", 10), hidden=1, seed=0), "hidden"),
])
def test_bad_settings_name_themselves(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_train_button_with_tiny_settings_draws_both_curves_and_says_done():
    box = app.trainer().widget()
    assert list(box.explorer_actions) == ["Train"]
    panel = box.explorer_actions["Train"]
    for name, value in {"task": "adding problem", "length": 10, "hidden": 4, "epochs": 1}.items():
        panel.inputs[name].value = value
    assert panel.inputs["hidden"].value == 4 and panel.inputs["epochs"].value == 1
    panel.start(wait=True)
    assert panel.status.value.startswith("Done"), panel.status.value
    assert "unconstrained" in panel.status.value and "stable" in panel.status.value
    traces = box.explorer_figure.data
    assert len(traces) == 4  # validation loss and ||W||_2, for each model
    for trace in traces:
        assert list(trace.x) == [0, 1] and all(v is not None and np.isfinite(v) for v in trace.y)
    stable_norms = [t.y for t in traces if t.name.startswith("stable") and t.xaxis == "x2"]
    assert stable_norms and max(stable_norms[0]) < 1.0  # projection holds the stable model inside
    assert panel.progress.value == panel.progress.max == 2 and not panel.button.disabled


def test_train_pair_stops_after_the_current_epoch_when_the_reader_presses_stop():
    calls = []

    def report(data=None, *, done=None, total=None, status=None) -> bool:
        calls.append(done)
        return done is None or done < 1  # "Stop" after the first epoch of either model

    history = app.train_pair(report, "adding problem", length=10, hidden=4, epochs=5, lr=1e-2)
    epochs = [len(h["epoch"]) - 1 for h in history.runs.values()]
    assert max(epochs) <= 2 and min(epochs) >= 1  # each run stopped after its current epoch, not at 5
