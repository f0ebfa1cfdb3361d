"""Train it yourself: an unconstrained and a stable tanh RNN trained side by side, live.

The two models start from the same initial weights (the stable one projected onto
``||W||_2 <= 1 - 1e-3``) and train at the same time in background threads, so the page stays
responsive: a progress bar, live curves of the validation loss and of ``||W||_2``, and a Stop
button. Nothing trains until the reader presses Train. It is an ``Explorer`` with one
background ``Action``, shown by the *Train it yourself* dashboard (``in_practice``). torch (about a
second to import and 230 MB) is imported only when the reader presses Train, so the dashboard's
kernel starts and draws its empty figure sooner.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import linalg
from .._validate import check_choice, check_float, check_int, check_seed
from ..figures.in_practice import training_figure
from .explorer import Action, Control, Explorer

if TYPE_CHECKING:
    from ..models import TanhRNN

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
        import torch

        from ..data.tasks import adding_problem

        def split(n: int, s: int) -> tuple:
            x, y = adding_problem(n, length, s)
            target = torch.zeros(n, length, 1)
            target[:, -1] = y
            mask = torch.zeros(n, length)
            mask[:, -1] = 1.0  # only the last step is scored
            return x, target, mask

        return Task(split(512, seed), split(256, seed + 1), "mse", 2, 1,
                    f"adding problem, T = {length}: predicting 1 scores MSE 0.167")
    from ..data.chorales import load_chorales
    from ..data.polyphonic import pad_rolls

    train_rolls = load_chorales("train", limit=60, progress=False)
    valid_rolls = load_chorales("valid", limit=20, progress=False)
    return Task(pad_rolls(train_rolls), pad_rolls(valid_rolls), "bce", 88, 88,
                "60 Bach chorales (music21), next frame, nats per frame")


def make_pair(task: Task, hidden: int, seed: int) -> dict[str, TanhRNN]:
    """An unconstrained and a stable tanh RNN with the same initial weights."""
    import torch

    from ..models import TanhRNN

    hidden = check_int("hidden", hidden, low=2, high=256)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(check_seed("seed", seed))
        free = TanhRNN(task.input_size, hidden, task.output_size)
        stable = TanhRNN(task.input_size, hidden, task.output_size, stable=True)
    stable.load_state_dict(free.state_dict())
    stable.project_()
    return {"unconstrained": free, "stable": stable}


def recurrent_norm(model: TanhRNN) -> float:
    """``||W||_2`` of the model's (first) recurrent matrix."""
    return linalg.spectral_norm(model.recurrent_weights()[0].detach().numpy())


@dataclass(frozen=True)
class History:
    """What the figure shows: per model ("unconstrained", "stable") lists ``epoch``, ``valid``, ``norm``."""

    runs: dict
    loss_name: str = "validation loss"


def draw_history(d: History):
    """The figure of a ``History`` (two panels: validation loss and ``||W||_2`` per epoch)."""
    return training_figure(d.runs, loss_name=d.loss_name)


def train_pair(report, task: str, length: int, hidden: int, epochs: int, lr: float) -> History:
    """Build the task and the two models, train both at once in two threads, report after every epoch.

    ``report`` is the action's callback (see :class:`~stablernn.presentation.explorer.Action`); it
    returns False once the reader pressed Stop, and each run then stops after its current epoch.
    """
    import torch

    from .. import train as training

    report(status="Preparing the data (the first use of the chorales parses them once, about a minute)…")
    data = make_task(task, length, seed=0)
    pair = make_pair(data, hidden, seed=0)
    lr = check_float("learning rate", lr, low=1e-5, high=1.0)
    epochs = check_int("epochs", epochs, low=1, high=200)
    runs = {name: {"epoch": [0], "valid": [training.evaluate(m, data.valid, data.loss)], "norm": [recurrent_norm(m)]}
            for name, m in pair.items()}
    lock, done, failed = threading.Lock(), [0], []
    history = History(runs, loss_name=f"validation loss ({data.loss})")
    report(history, done=0, total=2 * epochs, status=f"Training on the {data.description}…")

    def run(name: str, model: TanhRNN) -> None:
        torch.set_num_threads(1)  # two models train at once on a small machine

        def after_epoch(row: dict) -> bool:
            with lock:
                h = runs[name]
                h["epoch"].append(row["epoch"])
                h["valid"].append(row["valid_loss"])
                h["norm"].append(recurrent_norm(model))
                done[0] += 1
                return report(history, done=done[0])

        try:
            training.train(model, data.train, data.valid, loss=data.loss, epochs=epochs, lr=lr, batch_size=32,
                           clip=5.0, seed=0, progress=False, callback=after_epoch)
        except (ValueError, RuntimeError) as err:  # e.g. a learning rate that makes the loss diverge
            failed.append(f"{name} model stopped: {err}")

    threads = [threading.Thread(target=run, args=item, daemon=True) for item in pair.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = ", ".join(f"{n} {h['valid'][-1]:.4g} (‖W‖₂ = {h['norm'][-1]:.3f})" for n, h in runs.items())
    report(status=" ".join(failed) or f"Done. Final validation loss: {final}.")
    return history


LEARNING_RATES = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)


def trainer() -> Explorer:
    """*Train it yourself*: controls for the task and the training, Train and Stop, the live curves."""
    controls = (
        Control("task", "task", TASKS, TASKS[0]),
        Control("length", "length T (adding)", (10, 50, 200), 50, step=10, fmt="d"),
        Control("hidden", "hidden units", (4, 32, 128), 32, step=4, fmt="d"),
        Control("epochs", "epochs", (1, 15, 60), 15, step=1, fmt="d"),
        Control("lr", "learning rate", LEARNING_RATES, 3e-3, fmt=".0e"),
    )
    train = Action("Train", train_pair, controls=controls, background=True,
                   heading="Press Train to start. Nothing trains until you do.")
    return Explorer(title="Unconstrained and stable tanh RNN", compute=lambda: History({}),
                    figure=draw_history, controls=(), actions=(train,))
