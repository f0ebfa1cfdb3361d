"""Train it yourself: an unconstrained and a stable tanh RNN trained side by side, live.

The two models start from the same initial weights (the stable one projected onto
``||W||_2 <= 1 - 1e-3``) and train at the same time in background threads, so the page stays
responsive: a progress bar, live curves of the validation loss and of ``||W||_2``, and a Stop
button. Nothing trains until the reader presses Train. Used by the "Train it yourself" dashboard
and Chapter 8's live face.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import torch

from . import linalg
from . import train as training
from ._validate import check_choice, check_float, check_int, check_seed
from .figures.training import training_figure
from .models import TanhRNN

TASKS = ("adding problem", "Bach chorales")


@dataclass(frozen=True)
class Task:
    """Training and validation tensors with the loss and the sizes a model needs."""

    train: tuple
    valid: tuple
    loss: str
    input_size: int
    output_size: int
    description: str


def make_task(name: str, length: int = 50, seed: int = 0) -> Task:
    """The data of one task.

    Parameters
    ----------
    name : "adding problem" (generated; ``length`` steps, target at the last step, MSE) or
        "Bach chorales" (music21 piano rolls, a subset, next-frame binary cross-entropy in nats per frame).
    length : sequence length of the adding problem, in [10, 400].
    seed : seed of the generated data.
    """
    name = check_choice("name", name, TASKS)
    length = check_int("length", length, low=10, high=400)
    seed = check_seed("seed", seed)
    if name == "adding problem":
        from .data.tasks import adding_problem

        def split(n: int, s: int) -> tuple:
            x, y = adding_problem(n, length, s)
            target = torch.zeros(n, length, 1)
            target[:, -1] = y
            mask = torch.zeros(n, length)
            mask[:, -1] = 1.0  # only the last step is scored
            return x, target, mask

        return Task(split(512, seed), split(256, seed + 1), "mse", 2, 1,
                    f"adding problem, T = {length}: predicting 1 scores MSE 0.167")
    from .data.chorales import load_chorales
    from .data.polyphonic import pad_rolls

    train_rolls = load_chorales("train", limit=60, progress=False)
    valid_rolls = load_chorales("valid", limit=20, progress=False)
    return Task(pad_rolls(train_rolls), pad_rolls(valid_rolls), "bce", 88, 88,
                "60 Bach chorales (music21), next frame, nats per frame")


def make_pair(task: Task, hidden: int, seed: int) -> dict[str, TanhRNN]:
    """An unconstrained and a stable tanh RNN with the same initial weights."""
    hidden = check_int("hidden", hidden, low=2, high=256)
    torch.manual_seed(check_seed("seed", seed))
    free = TanhRNN(task.input_size, hidden, task.output_size)
    stable = TanhRNN(task.input_size, hidden, task.output_size, stable=True)
    stable.load_state_dict(free.state_dict())
    stable.project_()
    return {"unconstrained": free, "stable": stable}


def recurrent_norm(model: TanhRNN) -> float:
    """``||W||_2`` of the model's (first) recurrent matrix."""
    return linalg.spectral_norm(model.rnn.weight_hh_l0.detach().numpy())


class SideBySide:
    """The live face: controls, Train and Stop buttons, a progress bar and the live figure."""

    def __init__(self) -> None:
        import ipywidgets as W

        style = {"description_width": "9em"}
        wide = W.Layout(width="100%")
        self.task = W.Dropdown(options=TASKS, value=TASKS[0], description="task", style=style, layout=wide)
        self.length = W.IntSlider(value=50, min=10, max=200, step=10, description="length T (adding)",
                                  style=style, layout=wide, continuous_update=False)
        self.hidden = W.IntSlider(value=32, min=4, max=128, step=4, description="hidden units",
                                  style=style, layout=wide, continuous_update=False)
        self.epochs = W.IntSlider(value=15, min=1, max=60, description="epochs", style=style, layout=wide,
                                  continuous_update=False)
        self.lr = W.FloatLogSlider(value=3e-3, min=-4, max=-1, description="learning rate", style=style,
                                   layout=wide, continuous_update=False, readout_format=".1e")
        self.train_button = W.Button(description="Train", button_style="primary", tooltip="start training")
        self.stop_button = W.Button(description="Stop", button_style="warning", disabled=True,
                                    tooltip="stop after the current epoch")
        self.progress = W.IntProgress(value=0, min=0, max=1, description="progress", style=style, layout=wide)
        self.status = W.HTML("Press <b>Train</b> to start. Nothing trains until you do.")
        self.figure = go_widget(training_figure({}))
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.train_button.on_click(lambda _: self.start())
        self.stop_button.on_click(lambda _: self.stop())
        panel = W.VBox([self.task, self.length, self.hidden, self.epochs, self.lr,
                        W.HBox([self.train_button, self.stop_button]), self.progress, self.status],
                       layout=W.Layout(width="340px", min_width="280px", padding="0 12px 0 0"))
        self.widget = W.HBox([panel, W.Box([self.figure], layout=W.Layout(flex="1 1 560px", min_width="0"))],
                             layout=W.Layout(flex_flow="row wrap", align_items="flex-start", width="100%"))

    # -- actions ------------------------------------------------------------------------------
    def start(self, wait: bool = False) -> None:
        """Build the task and the two models, then train both in background threads."""
        if any(t.is_alive() for t in self._threads):
            return
        self._stop.clear()
        self.train_button.disabled, self.stop_button.disabled = True, False
        self.status.value = "Preparing the data (the first use of the chorales parses them once, about a minute)…"
        try:
            task = make_task(self.task.value, self.length.value, seed=0)
            models = make_pair(task, self.hidden.value, seed=0)
            lr = check_float("learning rate", self.lr.value, low=1e-5, high=1.0)
        except (ValueError, TypeError, OSError) as err:
            self._finish(f"Could not start: {err}")
            return
        epochs = self.epochs.value
        self.history = {name: {"epoch": [0], "valid": [training.evaluate(m, task.valid, task.loss)],
                               "norm": [recurrent_norm(m)]} for name, m in models.items()}
        self.progress.max, self.progress.value = 2 * epochs, 0
        self._redraw(task)
        self.status.value = f"Training on the {task.description}…"
        self._threads = [threading.Thread(target=self._train, args=(name, m, task, epochs, lr), daemon=True)
                         for name, m in models.items()]
        for t in self._threads:
            t.start()
        threading.Thread(target=self._join, daemon=True).start()
        if wait:
            for t in self._threads:
                t.join()

    def stop(self) -> None:
        """Ask both runs to stop after their current epoch."""
        self._stop.set()
        self.status.value = "Stopping after the current epoch…"

    # -- background work ------------------------------------------------------------------------
    def _train(self, name: str, model: TanhRNN, task: Task, epochs: int, lr: float) -> None:
        torch.set_num_threads(1)  # two models train at once on a small machine

        def after_epoch(report: dict) -> bool:
            with self._lock:
                h = self.history[name]
                h["epoch"].append(report["epoch"])
                h["valid"].append(report["valid_loss"])
                h["norm"].append(recurrent_norm(model))
                self.progress.value += 1
                self._redraw(task)
            return not self._stop.is_set()

        try:
            training.train(model, task.train, task.valid, loss=task.loss, epochs=epochs, lr=lr,
                           batch_size=32, clip=5.0, seed=0, progress=False, callback=after_epoch)
        except (ValueError, RuntimeError) as err:  # e.g. a learning rate that makes the loss diverge
            self.status.value = f"{name} model stopped: {err}"

    def _join(self) -> None:
        for t in self._threads:
            t.join()
        final = {n: h["valid"][-1] for n, h in self.history.items()}
        norms = {n: h["norm"][-1] for n, h in self.history.items()}
        self._finish("Done. Final validation loss: " + ", ".join(
            f"{n} {final[n]:.4g} (‖W‖₂ = {norms[n]:.3f})" for n in final) + ".")

    def _finish(self, message: str) -> None:
        self.status.value = message
        self.train_button.disabled, self.stop_button.disabled = False, True

    def _redraw(self, task: Task) -> None:
        new = training_figure(self.history, loss_name=f"validation loss ({task.loss})")
        with self.figure.batch_update():
            for old, trace in zip(self.figure.data, new.data):
                old.x, old.y = trace.x, trace.y
            self.figure.layout.annotations[0].text = new.layout.annotations[0].text


def go_widget(fig):
    """A plotly FigureWidget built with the figure's layout (kept inside ipywidgets containers)."""
    import plotly.graph_objects as go

    return go.FigureWidget(data=fig.data, layout=fig.layout)
